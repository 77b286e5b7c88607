// janus.plugin.audiobridge: participants (join, configure, changeroom, leave), the events the
// others get, and the media callbacks.
#include <algorithm>

#include "core/media/rtp_extensions.h"
#include "core/media/sdp.h"
#include "core/media/sdp_answer.h"
#include "plugins/audiobridge/audiobridge_plugin.h"
#include "plugins/audiobridge/errors.h"

namespace junction::audiobridge {
namespace {

constexpr const char* kAudioLevelUri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";

void check_pin_and_token(const Room& room, const json& body) {
  Body b(body);
  if (!room.settings.pin.empty() && b.text("pin").value_or("") != room.settings.pin)
    throw RequestError(kErrorUnauthorized, "Unauthorized (wrong pin)");
  if (room.settings.check_allowed && room.settings.allowed.count(b.text("token").value_or("")) == 0)
    throw RequestError(kErrorUnauthorized, "Unauthorized (not in the allowed list)");
}

// What a participant may set in join, configure and changeroom; validated before anything changes.
struct ParticipantFields {
  std::optional<std::string> display;
  std::optional<bool> muted;
  std::optional<int> volume;

  explicit ParticipantFields(const json& body) {
    Body b(body);
    display = b.text("display");
    muted = b.flag("muted");
    if (auto v = b.integer("volume")) {
      if (*v < 0 || *v > 1000) throw RequestError(kErrorInvalidElement, "Invalid element (volume should be 0..1000 percent)");
      volume = static_cast<int>(*v);
    }
    if (auto codec = b.text("codec"); codec && *codec != "opus")
      throw RequestError(kErrorInvalidElement, "Invalid element (codec: only opus is supported)");
    for (const char* key : {"quality", "bitrate", "expected_loss", "spatial_position", "prebuffer"}) (void)b.integer(key);
    for (const char* key : {"record", "audiolevel_ext", "generate_offer"}) (void)b.flag(key);
    (void)b.text("group");
    (void)b.text("filename");
  }
  void apply(Participant& p) const {
    if (display) p.display = *display;
    if (muted) p.muted = *muted;
    if (volume) p.volume = *volume;
  }
};

}  // namespace

AudioBridgePlugin::Reply AudioBridgePlugin::async_request(HandleId handle, const std::string& request, const json& body,
                                                          const json& jsep) {
  if (request == "join") return join(handle, body, jsep);
  if (request == "configure") return configure(handle, body, jsep);
  if (request == "changeroom") return changeroom(handle, body);
  return leave(handle);
}

void AudioBridgePlugin::notify(Room& room, const json& event, uint64_t except) {
  for (const auto& [id, p] : room.participants)
    if (id != except) services_->push_event(p.handle, "", event);
}

void AudioBridgePlugin::announce(Room& room, const Participant& p, bool to_self) {
  json event = {{"audiobridge", "event"}, {"room", room.settings.id}, {"participants", json::array({p.to_json(false)})}};
  notify(room, event, to_self ? 0 : p.id);
}

Participant& AudioBridgePlugin::enter(Room& room, HandleId handle, const json& body, std::optional<mixers::RtpState> rtp) {
  ParticipantFields fields(body);
  uint64_t id = 0;
  if (auto wanted = Body(body).id("id")) {
    if (room.participants.count(*wanted) != 0) throw RequestError(kErrorIdExists, "User ID " + std::to_string(*wanted) + " already exists");
    id = *wanted;
  } else {
    do id = random_id();
    while (room.participants.count(id) != 0);
  }
  Participant& p = room.participants[id];
  p.id = id;
  p.handle = handle;
  fields.apply(p);
  p.mixer = room.mixer->add(handle, rtp);
  p.mixer->set_volume(p.volume);
  room.apply_mute(p);
  HandleState& state = handles_[handle];
  state.room = room.settings.id;
  state.participant = id;
  refresh_route(handle);
  return p;
}

void AudioBridgePlugin::remove_participant(Room& room, uint64_t id, bool notify_leaving) {
  Participant* p = room.find(id);
  if (p == nullptr) return;
  room.mixer->remove(p->handle);
  room.participants.erase(id);
  if (notify_leaving) notify(room, {{"audiobridge", "event"}, {"room", room.settings.id}, {"leaving", id}});
}

void AudioBridgePlugin::refresh_route(HandleId handle) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  Participant* p = room != nullptr ? room->find(state->participant) : nullptr;
  if (p == nullptr) {
    routes_.erase(handle);
    return;
  }
  routes_.set(handle, Route{p->mixer, room->settings.id, p->id, state->mindex, state->level_ext_id, state->payload_type});
}

// --- join / changeroom / leave ---

AudioBridgePlugin::Reply AudioBridgePlugin::join(HandleId handle, const json& body, const json& jsep) {
  Room& room = room_of(body);
  if (handles_[handle].room != 0) throw RequestError(kErrorAlreadyJoined, "Already in a room (use changeroom)");
  check_pin_and_token(room, body);
  if (!jsep.is_null() && jsep.value("type", "") != "offer") throw RequestError(kErrorInvalidSdp, "Unexpected answer: send an offer");
  Participant& p = enter(room, handle, body, std::nullopt);
  // An offer may come with the join (instead of with a later configure).
  json answer = nullptr;
  if (!jsep.is_null()) {
    try {
      answer = answer_offer(handle, handles_[handle], jsep);
    } catch (const RequestError&) {
      remove_participant(room, p.id, false);
      handles_[handle] = HandleState{};
      routes_.erase(handle);
      throw;
    }
  }
  announce(room, p);
  json data = {{"audiobridge", "joined"}, {"room", room.settings.id}, {"id", p.id},
               {"participants", room.participants_json(p.id)}};
  if (!p.display.empty()) data["display"] = p.display;
  return {data, answer};
}

AudioBridgePlugin::Reply AudioBridgePlugin::changeroom(HandleId handle, const json& body) {
  HandleState* state = nullptr;
  Room* old_room = room_of_handle(handle, &state);
  if (old_room == nullptr) throw RequestError(kErrorNotJoined, "Not in a room (join first)");
  Room& room = room_of(body);
  if (&room == old_room) throw RequestError(kErrorAlreadyJoined, "Already in this room");
  check_pin_and_token(room, body);
  ParticipantFields fields(body);  // validate before leaving
  if (auto wanted = Body(body).id("id"); wanted && room.participants.count(*wanted) != 0)
    throw RequestError(kErrorIdExists, "User ID " + std::to_string(*wanted) + " already exists");
  Participant& old = old_room->participants.at(state->participant);
  // The peer keeps its PeerConnection and its incoming stream: same sequence, same clock.
  mixers::RtpState rtp = old.mixer->rtp_state();
  bool setup = old.setup;
  json carried = {{"display", old.display}, {"muted", old.muted}, {"volume", old.volume}};
  remove_participant(*old_room, state->participant, true);
  json merged = body;
  for (auto& [key, value] : carried.items())
    if (!merged.contains(key)) merged[key] = value;
  Participant& p = enter(room, handle, merged, rtp);
  p.setup = setup;
  if (setup) p.mixer->set_send(true, state->payload_type, state->ssrc);
  announce(room, p);
  json data = {{"audiobridge", "roomchanged"}, {"room", room.settings.id}, {"id", p.id},
               {"participants", room.participants_json(p.id)}};
  if (!p.display.empty()) data["display"] = p.display;
  return {data};
}

AudioBridgePlugin::Reply AudioBridgePlugin::leave(HandleId handle) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr) throw RequestError(kErrorNotJoined, "Not in a room");
  uint64_t room_id = room->settings.id, id = state->participant;
  remove_participant(*room, id, true);
  *state = HandleState{};
  routes_.erase(handle);
  services_->close_pc(handle);
  return {{{"audiobridge", "left"}, {"room", room_id}, {"id", id}}};
}

// --- configure ---

AudioBridgePlugin::Reply AudioBridgePlugin::configure(HandleId handle, const json& body, const json& jsep) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr) throw RequestError(kErrorNotJoined, "Can't configure (not in a room)");
  Participant& p = room->participants.at(state->participant);
  ParticipantFields fields(body);
  json answer = nullptr;
  if (!jsep.is_null()) {
    if (jsep.value("type", "") != "offer") throw RequestError(kErrorInvalidSdp, "Unexpected answer: send an offer");
    answer = answer_offer(handle, *state, jsep);
  }
  bool changed = (fields.muted && *fields.muted != p.muted) || (fields.display && *fields.display != p.display);
  fields.apply(p);
  p.mixer->set_volume(p.volume);
  room->apply_mute(p);
  if (changed)
    announce(*room, p);
  return {{{"audiobridge", "event"}, {"room", room->settings.id}, {"result", "ok"}}, answer};
}

json AudioBridgePlugin::answer_offer(HandleId handle, HandleState& state, const json& jsep) {
  std::string why;
  auto offer = media::parse_sdp(jsep.value("sdp", ""), &why);
  if (!offer) throw RequestError(kErrorInvalidSdp, "Error parsing offer: " + why);
  media::AnswerOptions options;
  options.audio_codecs = {"opus"};
  options.accept_video = false;
  uint32_t ssrc = random_ssrc();
  for (const auto& m : offer->media)
    if (m.kind == "audio" && !m.mid.empty())
      options.send_streams[m.mid] = {ssrc, 0, "junction-audiobridge", "junction-audiobridge", "junction-audiobridge-mix"};
  media::SessionDescription answer;
  try {
    answer = media::make_answer(*offer, options);
  } catch (const std::exception& e) {
    throw RequestError(kErrorInvalidSdp, std::string("Error answering the offer: ") + e.what());
  }
  Room* room = room_of_handle(handle);
  int mindex = -1;
  for (size_t i = 0; i < answer.media.size(); ++i) {
    media::MediaSection& m = answer.media[i];
    if (m.kind != "audio" || m.rejected() || m.codecs.empty() || !m.codecs.front().is("opus")) continue;
    if (mindex >= 0) continue;  // one audio stream per participant
    mindex = static_cast<int>(i);
    if (room != nullptr && !room->settings.audiolevel_ext)
      m.extmaps.erase(std::remove_if(m.extmaps.begin(), m.extmaps.end(), [](const auto& e) { return e.uri == kAudioLevelUri; }),
                      m.extmaps.end());
    state.payload_type = static_cast<uint8_t>(m.codecs.front().payload_type);
    state.level_ext_id = m.extmap_id(kAudioLevelUri);
  }
  if (mindex < 0) throw RequestError(kErrorInvalidSdp, "The offer has no Opus audio stream");
  state.mindex = mindex;
  state.ssrc = ssrc;
  refresh_route(handle);
  return {{"type", "answer"}, {"sdp", media::write_sdp(answer)}};
}

// --- PeerConnection events (control loop) ---

void AudioBridgePlugin::setup_media(HandleId handle) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr) return;
  Participant* p = room->find(state->participant);
  if (p == nullptr || state->mindex < 0) return;
  p->setup = true;
  p->mixer->set_send(true, state->payload_type, state->ssrc);
  announce(*room, *p);
}

void AudioBridgePlugin::hangup_media(HandleId handle) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr) return;
  if (Participant* p = room->find(state->participant)) {
    p->setup = false;
    p->mixer->set_send(false);
  }
  state->mindex = -1;
  refresh_route(handle);
}

// --- media worker ---

void AudioBridgePlugin::incoming_rtp(HandleId handle, const media::IncomingRtp& packet) {
  if (packet.kind != media::MediaKind::kAudio) return;
  auto map = routes_.snapshot();
  auto it = map->find(handle);
  if (it == map->end()) return;
  const Route& route = it->second;
  if (route.mindex != packet.mindex || packet.rtp.payload_type() != route.payload_type) return;
  std::optional<uint8_t> level;
  if (route.level_ext_id > 0)
    if (auto l = media::read_audio_level(packet.rtp.extension(static_cast<uint8_t>(route.level_ext_id)))) level = l->level_dbov;
  route.participant->push(packet.rtp.sequence(), packet.rtp.timestamp(), packet.rtp.payload(), level);
}

}  // namespace junction::audiobridge
