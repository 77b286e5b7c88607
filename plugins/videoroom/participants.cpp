// janus.plugin.videoroom: joining, publishers (publish, configure, unpublish, leave), the events
// the others get, and the media callbacks. Subscribers are in subscribers.cpp.
#include <algorithm>
#include <cctype>
#include <optional>
#include <tuple>

#include "core/media/sdp.h"
#include "core/media/sdp_answer.h"
#include "core/media/simulcast.h"
#include "plugins/videoroom/errors.h"
#include "plugins/videoroom/request_fields.h"
#include "plugins/videoroom/subscriber_sdp.h"
#include "plugins/videoroom/videoroom_plugin.h"

namespace junction::videoroom {
namespace {

using Role = HandleState::Role;

constexpr const char* kAudioLevelUri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

void check_pin(const Room& room, const json& body) {
  if (!room.settings.pin.empty() && opt_string(body, "pin").value_or("") != room.settings.pin)
    throw RequestError(kErrorUnauthorized, "Unauthorized (wrong pin)");
}

// The streams our answer accepted, as clients see them in `publishers` lists.
std::vector<StreamInfo> accepted_streams(const media::SessionDescription& offer, const media::SessionDescription& answer,
                                         bool rids_lowest_first) {
  std::vector<StreamInfo> out;
  for (size_t i = 0; i < answer.media.size(); ++i) {
    const media::MediaSection& m = answer.media[i];
    if ((m.kind != "audio" && m.kind != "video") || m.rejected() || m.codecs.empty()) continue;
    const media::RtpCodec& codec = m.codecs.front();
    StreamInfo s;
    s.type = m.kind;
    s.mindex = static_cast<int>(i);
    s.mid = m.mid;
    s.codec = lower(codec.name);
    s.payload_type = codec.payload_type;
    s.clock_rate = codec.clock_rate;
    s.channels = codec.channels;
    s.fmtp = codec.fmtp;
    s.feedback = codec.feedback;
    for (const media::RtpCodec& c : m.codecs)
      if (c.is("rtx") && c.rtx_apt() == codec.payload_type) s.rtx_payload_type = c.payload_type;
    if (m.kind == "audio") s.audio_level_ext_id = m.extmap_id(kAudioLevelUri);
    // Simulcast the answer accepted (the transport tells each packet's layer).
    if (!m.rids.empty() && i < offer.media.size()) {
      media::SimulcastLayers layers = media::simulcast_layers(offer.media[i], rids_lowest_first);
      s.substreams = static_cast<int>(layers.rids.size());
    } else if (i < offer.media.size()) {
      s.substreams = static_cast<int>(media::simulcast_layers(offer.media[i], false).ssrcs.size());
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

VideoRoomPlugin::Reply VideoRoomPlugin::async_request(HandleId handle, const std::string& request, const json& body,
                                                      const json& jsep) {
  if (request == "join" || request == "joinandconfigure") return join(handle, body, jsep);
  if (request == "publish") return publish(handle, body, jsep);
  if (request == "configure") return configure(handle, body, jsep);
  if (request == "unpublish") return unpublish(handle);
  if (request == "start") return start(handle, jsep);
  if (request == "pause") return pause(handle);
  if (request == "switch") return switch_streams(handle, body);
  if (request == "subscribe" || request == "unsubscribe" || request == "update") return update_subscription(handle, request, body);
  return leave(handle);
}

void VideoRoomPlugin::notify_participants(Room& room, const json& event, uint64_t except) {
  for (const auto& [id, p] : room.participants)
    if (id != except) services_->push_event(p.handle, "", event);
}

// --- join ---

VideoRoomPlugin::Reply VideoRoomPlugin::join(HandleId handle, const json& body, const json& jsep) {
  std::string ptype = req_string(body, "ptype");
  if (ptype != "publisher" && ptype != "subscriber" && ptype != "listener")
    throw RequestError(kErrorInvalidElement, "Invalid element (ptype)");
  Room& room = room_of(body);
  check_pin(room, body);
  if (room.settings.check_allowed && room.settings.allowed.count(opt_string(body, "token").value_or("")) == 0)
    throw RequestError(kErrorUnauthorized, "Unauthorized (not in the allowed list)");
  if (handles_[handle].role != Role::kNone) throw RequestError(kErrorAlreadyJoined, "Already in as a participant on this handle");
  if (ptype != "publisher") {
    if (!jsep.is_null()) throw RequestError(kErrorInvalidSdpType, "Subscribers do not send an offer: the server offers");
    return join_subscriber(handle, room, body);
  }
  Reply joined = join_publisher(handle, room, body);
  if (jsep.is_null()) return joined;
  // `join` (or `joinandconfigure`) with an offer: join and publish in one go (the gateway put
  // the PeerConnection on the room's worker, see media_affinity_for). A refused offer undoes
  // the join, so the request changes nothing.
  try {
    Reply published = publish(handle, body, jsep);
    return {joined.data, published.jsep};
  } catch (const RequestError&) {
    remove_participant(room, handles_[handle].participant);
    handles_[handle] = HandleState{};
    throw;
  }
}

VideoRoomPlugin::Reply VideoRoomPlugin::join_publisher(HandleId handle, Room& room, const json& body) {
  std::string display = opt_string(body, "display").value_or("");
  uint64_t id = 0;
  if (auto wanted = opt_uint(body, "id")) {
    if (*wanted == 0) throw RequestError(kErrorInvalidElement, "Invalid element (id)");
    if (room.participants.count(*wanted) != 0) throw RequestError(kErrorIdExists, "User ID " + std::to_string(*wanted) + " already exists");
    id = *wanted;
  } else {
    do id = random_id();
    while (room.participants.count(id) != 0);
  }
  Participant p;
  p.id = id;
  p.private_id = random_id();
  p.handle = handle;
  p.display = display;
  json attendees = json::array();
  for (const auto& [other_id, other] : room.participants)
    if (!other.published) {
      json a = {{"id", other_id}};
      if (!other.display.empty()) a["display"] = other.display;
      attendees.push_back(a);
    }
  if (room.settings.notify_joining) {
    json joining = {{"id", id}};
    if (!display.empty()) joining["display"] = display;
    notify_participants(room, {{"videoroom", "event"}, {"room", room.settings.id}, {"joining", joining}}, id);
  }
  json data = {{"videoroom", "joined"},       {"room", room.settings.id},
               {"description", room.settings.description}, {"id", id},
               {"private_id", p.private_id}, {"publishers", room.publishers_json(id)}};
  if (room.settings.notify_joining) data["attendees"] = attendees;
  room.participants[id] = std::move(p);
  room.media->post([handle](Routes& routes) { routes.participants.push_back(handle); });
  handles_[handle] = HandleState{Role::kPublisher, room.settings.id, id};
  directory_.set(handle, room.media);
  return {data};
}

// --- publishers ---

VideoRoomPlugin::Reply VideoRoomPlugin::publish(HandleId handle, const json& body, const json& jsep) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr || state->role != Role::kPublisher) throw RequestError(kErrorJoinFirst, "Can't publish: not a publisher in a room");
  Participant& p = room->participants.at(state->participant);
  if (p.published) throw RequestError(kErrorAlreadyPublished, "Can't publish, already published");
  if (jsep.is_null()) throw RequestError(kErrorMissingElement, "Missing SDP offer");
  if (jsep.value("type", "") != "offer") throw RequestError(kErrorInvalidSdpType, "Publishers send an offer");
  if (room->active_publishers() >= room->settings.max_publishers)
    throw RequestError(kErrorPublishersFull, "Maximum number of publishers (" + std::to_string(room->settings.max_publishers) + ") reached");
  if (auto v = opt_bool(body, "audio")) p.audio_active = *v;
  if (auto v = opt_bool(body, "video")) p.video_active = *v;
  if (auto v = opt_uint(body, "bitrate")) p.bitrate = *v;
  if (auto v = opt_string(body, "display")) p.display = *v;
  std::string why;
  auto offer = media::parse_sdp(jsep.value("sdp", ""), &why);
  if (!offer) throw RequestError(kErrorInvalidSdp, "Error parsing offer: " + why);
  media::AnswerOptions options;
  options.audio_codecs = room->settings.audiocodecs;
  options.video_codecs = room->settings.videocodecs;
  options.send = false;  // a publisher only sends to us
  options.accept_data = true;
  media::SessionDescription answer;
  try {
    answer = media::make_answer(*offer, options);
  } catch (const std::exception& e) {
    throw RequestError(kErrorInvalidSdp, std::string("Error answering the offer: ") + e.what());
  }
  const bool rids_lowest_first = jsep.contains("rid_order") && jsep["rid_order"] == "lmh";
  std::vector<StreamInfo> streams = accepted_streams(*offer, answer, rids_lowest_first);
  for (StreamInfo& s : streams)
    if (s.type == "audio" && s.audio_level_ext_id != 0 && room->settings.audiolevel_event)
      s.talking = std::make_shared<std::atomic<bool>>(false);
  if (streams.empty()) throw RequestError(kErrorInvalidSdp, "No audio or video stream with a codec this room allows");
  p.streams = streams;
  p.data = std::any_of(answer.media.begin(), answer.media.end(),
                       [](const media::MediaSection& m) { return m.kind == "application" && !m.rejected(); });
  p.published = true;
  uint64_t bitrate = room->settings.bitrate;
  if (p.bitrate > 0) bitrate = bitrate > 0 ? std::min(bitrate, p.bitrate) : p.bitrate;
  bool audio = p.audio_active, video = p.video_active;
  room->media->post([handle, id = p.id, streams, bitrate, audio, video](Routes& routes) {
    PublisherRoute route;
    route.participant_id = id;
    int max_mindex = 0;
    for (const auto& s : streams) max_mindex = std::max(max_mindex, s.mindex);
    route.streams.resize(static_cast<size_t>(max_mindex) + 1);
    for (size_t i = 0; i < route.streams.size(); ++i) route.streams[i].mindex = static_cast<int>(i);
    for (const auto& s : streams) {
      auto& r = route.streams[static_cast<size_t>(s.mindex)];
      r.video = s.type == "video";
      r.codec = r.video ? video_codec_from_name(s.codec.c_str()) : VideoCodec::kNone;
      r.mid = s.mid;
      r.level.extension_id = static_cast<uint8_t>(s.audio_level_ext_id);
      r.level.shown = s.talking;
      r.enabled = r.video ? video : audio;
    }
    route.remb_bitrate = bitrate;
    routes.publishers[handle] = std::move(route);
  });
  json event = {{"videoroom", "event"}, {"room", room->settings.id}, {"publishers", json::array({p.to_json()})}};
  notify_participants(*room, event, p.id);
  json data = {{"videoroom", "event"}, {"room", room->settings.id}, {"configured", "ok"}, {"streams", p.to_json()["streams"]}};
  for (const auto& s : streams) data[s.type + "_codec"] = s.codec;
  return {data, {{"type", "answer"}, {"sdp", media::write_sdp(answer)}}};
}

VideoRoomPlugin::Reply VideoRoomPlugin::configure(HandleId handle, const json& body, const json& jsep) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr || state->role == Role::kNone) throw RequestError(kErrorJoinFirst, "Join a room first");
  if (state->role == Role::kSubscriber) return configure_subscriber(*room, room->subscribers.at(handle), body);
  Participant& p = room->participants.at(state->participant);
  if (!jsep.is_null() && !p.published) return publish(handle, body, jsep);  // older janus.js flows
  auto audio = opt_bool(body, "audio"), video = opt_bool(body, "video");
  auto bitrate = opt_uint(body, "bitrate");
  if (auto v = opt_string(body, "display")) p.display = *v;
  if (audio) p.audio_active = *audio;
  if (video) p.video_active = *video;
  if (bitrate) p.bitrate = *bitrate;
  uint64_t cap = room->settings.bitrate;
  if (p.bitrate > 0) cap = cap > 0 ? std::min(cap, p.bitrate) : p.bitrate;
  apply_stream_state(*room, p);
  room->media->post([handle, cap](Routes& routes) {
    auto it = routes.publishers.find(handle);
    if (it == routes.publishers.end()) return;
    it->second.remb_bitrate = cap;
    it->second.remb_due = true;
  });
  return {{{"videoroom", "event"}, {"room", room->settings.id}, {"configured", "ok"}}};
}

void VideoRoomPlugin::apply_stream_state(Room& room, const Participant& p) {
  std::vector<std::pair<int, bool>> enabled;
  for (const StreamInfo& s : p.streams)
    enabled.emplace_back(s.mindex, (s.type == "video" ? p.video_active : p.audio_active) && !s.moderated);
  room.media->post([handle = p.handle, enabled](Routes& routes) {
    auto it = routes.publishers.find(handle);
    if (it == routes.publishers.end()) return;
    for (const auto& [mindex, on] : enabled) {
      if (mindex < 0 || static_cast<size_t>(mindex) >= it->second.streams.size()) continue;
      PublisherStreamRoute& s = it->second.streams[static_cast<size_t>(mindex)];
      bool was = s.enabled;
      s.enabled = on;
      if (s.enabled && !was) {
        for (auto& t : s.targets) t.forwarder.restart();  // resume on a keyframe, seamlessly numbered
        s.keyframe_wanted = s.video;
      }
    }
  });
}

void VideoRoomPlugin::stop_publishing(Room& room, Participant& p) {
  if (!p.published) return;
  p.published = false;
  p.streams.clear();
  HandleId handle = p.handle;
  room.media->post([handle](Routes& routes) { routes.publishers.erase(handle); });
  feed_gone(room, handle);
  notify_participants(room, {{"videoroom", "event"}, {"room", room.settings.id}, {"unpublished", p.id}}, p.id);
}

VideoRoomPlugin::Reply VideoRoomPlugin::unpublish(HandleId handle) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr || state->role != Role::kPublisher) throw RequestError(kErrorJoinFirst, "Can't unpublish: not a publisher in a room");
  Participant& p = room->participants.at(state->participant);
  if (!p.published) throw RequestError(kErrorNotPublished, "Can't unpublish, not published");
  stop_publishing(*room, p);
  services_->close_pc(handle);
  return {{{"videoroom", "event"}, {"room", room->settings.id}, {"unpublished", "ok"}}};
}

void VideoRoomPlugin::remove_participant(Room& room, uint64_t id) {
  Participant* p = room.find_participant(id);
  if (p == nullptr) return;
  HandleId handle = p->handle;
  bool was_published = p->published;
  if (was_published) {
    // Leaving while publishing: the others learn it from `leaving` (as with Janus).
    p->published = false;
    p->streams.clear();
    room.media->post([handle](Routes& routes) { routes.publishers.erase(handle); });
    feed_gone(room, handle);
  }
  room.participants.erase(id);
  room.media->post([handle](Routes& routes) { std::erase(routes.participants, handle); });
  notify_participants(room, {{"videoroom", "event"}, {"room", room.settings.id}, {"leaving", id}}, id);
  directory_.erase(handle);
}

void VideoRoomPlugin::remove_subscriber(Room& room, HandleId handle) {
  room.media->post([handle](Routes& routes) {
    routes.remove_targets_of(handle);
    routes.subscribers.erase(handle);
  });
  room.subscribers.erase(handle);
  directory_.erase(handle);
}

VideoRoomPlugin::Reply VideoRoomPlugin::leave(HandleId handle) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr || state->role == Role::kNone) {
    if (state != nullptr) *state = HandleState{};
    throw RequestError(kErrorJoinFirst, "Not in a room");
  }
  uint64_t room_id = room->settings.id;
  bool subscriber = state->role == Role::kSubscriber;
  bool had_media = subscriber || room->participants.at(state->participant).published;
  if (subscriber) remove_subscriber(*room, handle);
  else remove_participant(*room, state->participant);
  *state = HandleState{};
  if (had_media) services_->close_pc(handle);
  if (subscriber) return {{{"videoroom", "event"}, {"room", room_id}, {"left", "ok"}}};
  return {{{"videoroom", "event"}, {"room", room_id}, {"leaving", "ok"}}};
}

// --- PeerConnection events (control loop) ---

void VideoRoomPlugin::setup_media(HandleId handle) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr || state->role != Role::kSubscriber) return;
  // The routes go live only now, from a keyframe. They used to go live at `start` and restart
  // here, since what was relayed before DTLS was up went nowhere; but the media worker sends as
  // soon as DTLS is up, before this event reaches the control loop, so a subscriber could get a
  // few packets, then none until the next keyframe, numbered without a gap (the restart
  // continues the numbering): packets lost without a trace (issue 10, BENCHMARKS.md).
  Subscriber& sub = room->subscribers.at(handle);
  sub.media_up = true;
  if (sub.started) set_subscriber_active(*room, sub, true, /*restart=*/false);
}

void VideoRoomPlugin::hangup_media(HandleId handle) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr) return;
  if (state->role == Role::kPublisher) {
    if (Participant* p = room->find_participant(state->participant)) stop_publishing(*room, *p);
  } else if (state->role == Role::kSubscriber) {
    Subscriber& sub = room->subscribers.at(handle);
    sub.media_up = false;
    set_subscriber_active(*room, sub, false, false);
  }
}

// --- media worker ---

void VideoRoomPlugin::incoming_rtp(HandleId handle, const media::IncomingRtp& packet) {
  if (auto media = directory_.find(handle)) media->on_rtp(*services_, handle, packet);
}

void VideoRoomPlugin::incoming_data(HandleId handle, const media::DataMessage& message) {
  if (auto media = directory_.find(handle)) media->on_data(*services_, handle, message);
}

void VideoRoomPlugin::incoming_keyframe_request(HandleId handle, int mindex) {
  if (auto media = directory_.find(handle)) media->on_keyframe_request(*services_, handle, mindex);
}

}  // namespace junction::videoroom
