// junction.plugin.videomixer: participants (join, configure, leave), the SDP answer, the events
// the others get, and the media callbacks.
#include "core/media/rtp_extensions.h"
#include "core/media/sdp.h"
#include "core/media/sdp_answer.h"
#include "plugins/videomixer/errors.h"
#include "plugins/videomixer/videomixer_plugin.h"

namespace junction::videomixer {
namespace {

constexpr const char* kAudioLevelUri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";

// What a participant may set in join and configure; validated before anything changes.
struct ParticipantFields {
  std::optional<std::string> display;
  std::optional<bool> muted, show_self;
  std::optional<mixers::LayoutKind> layout;
  std::optional<uint64_t> presenter;

  ParticipantFields(const json& body, Room& room) {
    Body b(body);
    display = b.text("display");
    muted = b.flag("muted");
    show_self = b.flag("show_self");
    if (auto name = b.text("layout")) {
      layout = mixers::layout_from_name(*name);
      if (!layout) throw RequestError(kErrorInvalidElement, "Invalid element (layout should be grid, speaker or presenter)");
    }
    presenter = b.id("presenter");
    if (presenter && room.find(*presenter) == nullptr)
      throw RequestError(kErrorNoSuchParticipant, "No such participant " + std::to_string(*presenter) + " (presenter)");
  }
  void apply(Participant& p) const {
    if (display) p.display = *display;
    if (muted) p.muted = *muted;
    if (show_self) p.show_self = *show_self;
    if (layout) p.layout = *layout;
    if (presenter) p.presenter = *presenter;
  }
};

}  // namespace

VideoMixerPlugin::Reply VideoMixerPlugin::async_request(HandleId handle, const std::string& request, const json& body,
                                                        const json& jsep) {
  if (request == "join") return join(handle, body, jsep);
  if (request == "configure") return configure(handle, body, jsep);
  return leave(handle);
}

void VideoMixerPlugin::notify(Room& room, const json& event, uint64_t except) {
  for (const auto& [id, p] : room.participants)
    if (id != except) services_->push_event(p.handle, "", event);
}

void VideoMixerPlugin::announce(Room& room, const Participant& p) {
  json entry = p.to_json();
  entry.erase("talking");
  notify(room, {{"videomixer", "event"}, {"room", room.settings.id}, {"participants", json::array({entry})}}, p.id);
}

void VideoMixerPlugin::send_layouts(Room& room) {
  for (const auto& [id, p] : room.participants) services_->push_event(p.handle, "", room.layout_event(p));
}

// The `layout` events go out once the request's own answer has: a timer of 0 ms runs after the
// dispatcher pushed it (push_event keeps the order of one thread). `only`: one handle, 0: all.
void VideoMixerPlugin::layouts_after_reply(uint64_t room_id, HandleId only) {
  services_->start_timer(std::chrono::milliseconds(0), false, [this, room_id, only] {
    auto it = rooms_.find(room_id);
    if (it == rooms_.end()) return;
    Room& room = it->second;
    if (only == 0) return send_layouts(room);
    if (const Participant* p = room.find_handle(only)) services_->push_event(only, "", room.layout_event(*p));
  });
}

void VideoMixerPlugin::remove_participant(Room& room, uint64_t id, bool notify_leaving) {
  Participant* p = room.find(id);
  if (p == nullptr) return;
  room.video->remove(p->handle);
  room.audio->remove(p->handle);
  room.participants.erase(id);
  if (notify_leaving) notify(room, {{"videomixer", "event"}, {"room", room.settings.id}, {"leaving", id}});
}

void VideoMixerPlugin::refresh_route(HandleId handle) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  Participant* p = room != nullptr ? room->find(state->participant) : nullptr;
  if (p == nullptr) {
    routes_.erase(handle);
    return;
  }
  routes_.set(handle, Route{p->audio, p->video, state->audio_mindex, state->video_mindex, state->audio_pt,
                            state->video_pt, state->level_ext_id});
}

VideoMixerPlugin::Reply VideoMixerPlugin::join(HandleId handle, const json& body, const json& jsep) {
  Room& room = room_of(body);
  if (handles_[handle].room != 0) throw RequestError(kErrorAlreadyJoined, "Already in a room");
  if (!room.settings.pin.empty() && Body(body).text("pin").value_or("") != room.settings.pin)
    throw RequestError(kErrorUnauthorized, "Unauthorized (wrong pin)");
  if (!jsep.is_null() && jsep.value("type", "") != "offer") throw RequestError(kErrorInvalidSdp, "Unexpected answer: send an offer");
  ParticipantFields fields(body, room);
  uint64_t id = 0;
  if (auto wanted = Body(body).id("id")) {
    if (room.participants.count(*wanted) != 0) throw RequestError(kErrorIdExists, "User ID " + std::to_string(*wanted) + " already exists");
    id = *wanted;
  }
  if (static_cast<int>(room.participants.size()) >= room.settings.max_participants)
    throw RequestError(kErrorRoomFull, "Room full (" + std::to_string(room.settings.max_participants) + " participants)");
  if (id == 0) {
    do id = random_id();
    while (room.participants.count(id) != 0);
  }
  Participant& p = room.participants[id];
  p.id = id;
  p.handle = handle;
  p.layout = room.settings.layout;
  fields.apply(p);
  p.audio = room.audio->add(handle);
  p.audio->set_muted(p.muted);
  p.video = room.video->add(handle);
  p.video->set_view(room.view_of(p));
  HandleState& state = handles_[handle];
  state = HandleState{};
  state.room = room.settings.id;
  state.participant = id;
  refresh_route(handle);
  json answer = nullptr;
  if (!jsep.is_null()) {
    try {
      answer = answer_offer(handle, handles_[handle], jsep);
    } catch (const RequestError&) {
      remove_participant(room, id, false);
      handles_[handle] = HandleState{};
      routes_.erase(handle);
      throw;
    }
  }
  announce(room, p);
  json data = {{"videomixer", "joined"}, {"room", room.settings.id}, {"id", id},
               {"participants", room.participants_json(id)}};
  if (!p.display.empty()) data["display"] = p.display;
  layouts_after_reply(room.settings.id, 0);  // everyone's composition changed
  return {data, answer};
}

VideoMixerPlugin::Reply VideoMixerPlugin::configure(HandleId handle, const json& body, const json& jsep) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr) throw RequestError(kErrorNotJoined, "Can't configure (not in a room)");
  Participant& p = room->participants.at(state->participant);
  ParticipantFields fields(body, *room);
  json answer = nullptr;
  if (!jsep.is_null()) {
    if (jsep.value("type", "") != "offer") throw RequestError(kErrorInvalidSdp, "Unexpected answer: send an offer");
    answer = answer_offer(handle, *state, jsep);
  }
  bool display_changed = fields.display && *fields.display != p.display;
  fields.apply(p);
  p.audio->set_muted(p.muted);
  p.video->set_view(room->view_of(p));
  if (display_changed) announce(*room, p);
  // A new display name is in everyone's tiles; otherwise only this participant's view changed.
  layouts_after_reply(room->settings.id, display_changed ? 0 : handle);
  return {{{"videomixer", "event"}, {"room", room->settings.id}, {"result", "ok"}}, answer};
}

VideoMixerPlugin::Reply VideoMixerPlugin::leave(HandleId handle) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr) throw RequestError(kErrorNotJoined, "Not in a room");
  uint64_t room_id = room->settings.id, id = state->participant;
  remove_participant(*room, id, true);
  *state = HandleState{};
  routes_.erase(handle);
  services_->close_pc(handle);
  send_layouts(*room);
  return {{{"videomixer", "left"}, {"room", room_id}, {"id", id}}};
}

json VideoMixerPlugin::answer_offer(HandleId handle, HandleState& state, const json& jsep) {
  Room* room = room_of_handle(handle);
  if (room == nullptr) throw RequestError(kErrorNotJoined, "Not in a room");
  std::string why;
  auto offer = media::parse_sdp(jsep.value("sdp", ""), &why);
  if (!offer) throw RequestError(kErrorInvalidSdp, "Error parsing offer: " + why);
  media::AnswerOptions options;
  options.audio_codecs = {"opus"};
  options.video_codecs.clear();
  for (mixers::VideoCodec c : room->settings.videocodecs) options.video_codecs.push_back(mixers::codec_name(c));
  uint32_t audio_ssrc = state.audio_ssrc != 0 ? state.audio_ssrc : random_ssrc();
  uint32_t video_ssrc = state.video_ssrc != 0 ? state.video_ssrc : random_ssrc();
  for (const auto& m : offer->media) {
    if (m.mid.empty()) continue;
    if (m.kind == "audio") options.send_streams[m.mid] = {audio_ssrc, 0, "junction-videomixer", "junction-videomixer", "junction-videomixer-audio"};
    if (m.kind == "video") options.send_streams[m.mid] = {video_ssrc, 0, "junction-videomixer", "junction-videomixer", "junction-videomixer-video"};
  }
  media::SessionDescription answer;
  try {
    answer = media::make_answer(*offer, options);
  } catch (const std::exception& e) {
    throw RequestError(kErrorInvalidSdp, std::string("Error answering the offer: ") + e.what());
  }
  int audio = -1, video = -1;
  uint8_t audio_pt = 111, video_pt = 96;
  mixers::VideoCodec video_codec = mixers::VideoCodec::kVp8;
  int level_ext = 0;
  for (size_t i = 0; i < answer.media.size(); ++i) {
    media::MediaSection& m = answer.media[i];
    if (m.rejected() || m.codecs.empty()) continue;
    if (m.kind == "audio" && audio < 0 && m.codecs.front().is("opus")) {
      audio = static_cast<int>(i);
      audio_pt = static_cast<uint8_t>(m.codecs.front().payload_type);
      level_ext = m.extmap_id(kAudioLevelUri);
    } else if (m.kind == "video" && video < 0) {
      // make_answer kept only a codec of the room's list (H.264: packetization-mode 1, baseline).
      auto codec = mixers::codec_from_name(m.codecs.front().name);
      if (!codec) continue;
      video = static_cast<int>(i);
      video_pt = static_cast<uint8_t>(m.codecs.front().payload_type);
      video_codec = *codec;
    }
  }
  if (audio < 0 && video < 0)
    throw RequestError(kErrorInvalidSdp, "The offer has neither Opus audio nor " + room->settings.videocodec_list() + " video");
  state.audio_mindex = audio;
  state.video_mindex = video;
  state.audio_pt = audio_pt;
  state.video_pt = video_pt;
  state.video_codec = video_codec;
  state.level_ext_id = level_ext;
  state.audio_ssrc = audio_ssrc;
  state.video_ssrc = video_ssrc;
  if (Participant* p = room->find(state.participant)) {
    // What it sends is what it receives (one sendrecv m-line). A renegotiation of a connected
    // participant switches its composite at once (a keyframe of its new group).
    p->video->set_input_codec(video_codec);
    if (p->setup && video >= 0) p->video->set_send(true, video_pt, video_ssrc, video_codec);
  }
  refresh_route(handle);
  return {{"type", "answer"}, {"sdp", media::write_sdp(answer)}};
}

// --- PeerConnection events (control loop) ---

void VideoMixerPlugin::setup_media(HandleId handle) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr) return;
  Participant* p = room->find(state->participant);
  if (p == nullptr) return;
  p->setup = true;
  if (state->audio_mindex >= 0) p->audio->set_send(true, state->audio_pt, state->audio_ssrc);
  if (state->video_mindex >= 0) p->video->set_send(true, state->video_pt, state->video_ssrc, state->video_codec);
  announce(*room, *p);
}

void VideoMixerPlugin::hangup_media(HandleId handle) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr) return;
  if (Participant* p = room->find(state->participant)) {
    p->setup = false;
    p->audio->set_send(false);
    p->video->set_send(false);
  }
  state->audio_mindex = state->video_mindex = -1;
  refresh_route(handle);
}

// --- media worker ---

void VideoMixerPlugin::incoming_rtp(HandleId handle, const media::IncomingRtp& packet) {
  auto map = routes_.snapshot();
  auto it = map->find(handle);
  if (it == map->end()) return;
  const Route& route = it->second;
  const media::RtpPacket& rtp = packet.rtp;
  if (packet.kind == media::MediaKind::kVideo) {
    if (packet.mindex != route.video_mindex || rtp.payload_type() != route.video_pt) return;
    if (route.video->push(rtp.sequence(), rtp.timestamp(), rtp.marker(), rtp.payload()))
      services_->send_keyframe_request(handle, route.video_mindex);
    return;
  }
  if (packet.mindex != route.audio_mindex || rtp.payload_type() != route.audio_pt) return;
  std::optional<uint8_t> level;
  if (route.level_ext_id > 0)
    if (auto l = media::read_audio_level(rtp.extension(static_cast<uint8_t>(route.level_ext_id)))) level = l->level_dbov;
  route.audio->push(rtp.sequence(), rtp.timestamp(), rtp.payload(), level);
}

void VideoMixerPlugin::incoming_keyframe_request(HandleId handle, int mindex) {
  auto map = routes_.snapshot();
  auto it = map->find(handle);
  if (it != map->end() && mindex == it->second.video_mindex) it->second.video->request_keyframe();
}

}  // namespace junction::videomixer

namespace junction::videomixer {

// The receiver's estimate for everything we send it; the composite gets it less the mix's share.
void VideoMixerPlugin::incoming_remb(HandleId handle, uint64_t bitrate_bps) {
  constexpr uint64_t kAudioShare = 40000;
  auto map = routes_.snapshot();
  auto it = map->find(handle);
  if (it != map->end() && it->second.video)
    it->second.video->set_receive_estimate(bitrate_bps > 2 * kAudioShare ? bitrate_bps - kAudioShare : bitrate_bps / 2);
}

}  // namespace junction::videomixer
