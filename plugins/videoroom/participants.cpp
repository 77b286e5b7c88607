// janus.plugin.videoroom: publishers and subscribers (join, publish, configure, unpublish,
// start, pause, leave), the events the others get, and the media callbacks.
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

// A fresh forwarder for a subscriber's m-line.
Forwarder forwarder_for(const SubscribedStream& s) {
  VideoCodec codec = s.source.type == "video" ? video_codec_from_name(s.source.codec.c_str()) : VideoCodec::kNone;
  return Forwarder(codec, s.payload_type, s.source.clock_rate > 0 ? static_cast<uint32_t>(s.source.clock_rate) : 90000);
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
  if (request == "join") return join(handle, body, jsep);
  if (request == "publish") return publish(handle, body, jsep);
  if (request == "configure") return configure(handle, body, jsep);
  if (request == "unpublish") return unpublish(handle);
  if (request == "start") return start(handle, jsep);
  if (request == "pause") return pause(handle);
  if (request == "switch") return switch_streams(handle, body);
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
  if (!jsep.is_null())
    // The PeerConnection of an offer sent with `join` was made before the handle had a room,
    // hence on another media worker than the room's: ask for `join`, then `publish`.
    throw RequestError(kErrorInvalidRequest, "Send the offer with 'publish' after 'join' (join with an offer is not supported yet)");
  return ptype == "publisher" ? join_publisher(handle, room, body) : join_subscriber(handle, room, body);
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

VideoRoomPlugin::Reply VideoRoomPlugin::join_subscriber(HandleId handle, Room& room, const json& body) {
  // Which streams: `streams: [{feed, mid?}]`, or the older single `feed`.
  std::vector<std::pair<uint64_t, std::optional<std::string>>> wanted;
  if (const json* streams = field(body, "streams")) {
    if (!streams->is_array() || streams->empty())
      throw RequestError(kErrorInvalidElement, "Invalid element (streams should be a non-empty array)");
    for (const json& s : *streams) {
      if (!s.is_object()) throw RequestError(kErrorInvalidElement, "Invalid element (streams items should be objects)");
      wanted.emplace_back(req_uint(s, "feed"), opt_string(s, "mid"));
    }
  } else if (auto feed = opt_uint(body, "feed")) {
    wanted.emplace_back(*feed, std::nullopt);
  } else {
    throw RequestError(kErrorMissingElement, "Missing element (streams)");
  }
  Subscriber sub;
  sub.handle = handle;
  json streams_json = json::array();
  bool with_data = false;
  for (const auto& [feed, mid] : wanted) {
    Participant* p = room.find_participant(feed);
    if (p == nullptr || !p->published) throw RequestError(kErrorNoSuchFeed, "No such feed (" + std::to_string(feed) + ")");
    with_data = with_data || p->data;
    bool found = false;
    for (const StreamInfo& source : p->streams) {
      if (mid && source.mid != *mid) continue;
      found = true;
      SubscribedStream s;
      s.mindex = static_cast<int>(sub.streams.size());
      s.mid = std::to_string(s.mindex);
      s.feed_id = feed;
      s.feed_handle = p->handle;
      s.source = source;
      s.payload_type = static_cast<uint8_t>(source.payload_type);
      s.ssrc = random_ssrc();
      if (source.type == "video") s.rtx_ssrc = random_ssrc();
      json item = s.to_json();
      item["ready"] = false;
      if (!p->display.empty()) item["feed_display"] = p->display;
      streams_json.push_back(item);
      sub.streams.push_back(std::move(s));
    }
    if (!found) throw RequestError(kErrorNoSuchFeed, "No such mid (" + mid.value_or("") + ") in feed " + std::to_string(feed));
  }
  media::SessionDescription offer = make_subscriber_offer(sub.streams, random_id());
  if (with_data) {
    // The publishers' data channel messages come on channels we open on this line.
    media::MediaSection m;
    m.kind = "application";
    m.protocol = "UDP/DTLS/SCTP";
    m.formats = {"webrtc-datachannel"};
    m.mid = std::to_string(offer.media.size());
    m.sctp_port = 5000;
    m.max_message_size = 262144;
    offer.media.push_back(std::move(m));
  }
  // Routes: every stream gets an inactive target until `start` brings the answer.
  std::vector<SubscriberRoute::Source> sources;
  std::vector<std::tuple<HandleId, int, int, Forwarder>> targets;
  for (const SubscribedStream& s : sub.streams) {
    sources.push_back({s.feed_handle, s.source.mindex});
    targets.emplace_back(s.feed_handle, s.source.mindex, s.mindex, forwarder_for(s));
  }
  room.media->post([handle, sources, targets](Routes& routes) {
    routes.subscribers[handle].by_mindex = sources;
    for (const auto& [publisher, pub_mindex, mindex, forwarder] : targets)
      if (PublisherStreamRoute* stream = routes.stream(publisher, pub_mindex))
        stream->targets.push_back(Target{handle, mindex, false, forwarder, {}});
  });
  room.subscribers[handle] = std::move(sub);
  handles_[handle] = HandleState{Role::kSubscriber, room.settings.id, 0};
  directory_.set(handle, room.media);
  json data = {{"videoroom", "attached"}, {"room", room.settings.id}, {"streams", streams_json}};
  return {data, {{"type", "offer"}, {"sdp", media::write_sdp(offer)}}};
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
  for (auto& [sub_handle, sub] : room.subscribers)
    for (auto& s : sub.streams)
      if (s.feed_handle == handle) s.feed_handle = 0;  // the stream has no source any more
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
    for (auto& [sub_handle, sub] : room.subscribers)
      for (auto& s : sub.streams)
        if (s.feed_handle == handle) s.feed_handle = 0;
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

// --- subscribers ---

void VideoRoomPlugin::set_subscriber_active(Room& room, Subscriber& sub, bool active, bool restart) {
  sub.started = active;
  std::vector<bool> on;  // by the subscriber's mindex: started and `send` for that mid
  for (const SubscribedStream& s : sub.streams) on.push_back(active && s.send);
  room.media->post([handle = sub.handle, on, restart](Routes& routes) {
    for (auto& [publisher, route] : routes.publishers)
      for (auto& stream : route.streams)
        for (auto& t : stream.targets) {
          if (t.subscriber != handle || t.mindex < 0 || static_cast<size_t>(t.mindex) >= on.size()) continue;
          bool now = on[static_cast<size_t>(t.mindex)];
          if (now && (restart || !t.active)) {
            t.forwarder.restart();
            stream.keyframe_wanted = stream.video;
          }
          t.active = now;
        }
  });
}

VideoRoomPlugin::Reply VideoRoomPlugin::configure_subscriber(Room& room, Subscriber& sub, const json& body) {
  // Per mid: `streams: [{mid, send, substream, temporal, fallback}]` (multistream), or the same
  // fields at the top level with an optional `mid` (without one: every mid of that kind); the
  // older `audio` / `video` switches too. Everything is checked before anything changes.
  struct Change {
    SubscribedStream* stream;
    std::optional<bool> send;
    std::optional<uint64_t> substream, temporal, fallback;
  };
  std::vector<Change> changes;
  auto read = [&](const json& item, SubscribedStream* s) {
    Change c{s, opt_bool(item, "send"), opt_uint(item, "substream"), opt_uint(item, "temporal"), opt_uint(item, "fallback")};
    if ((c.substream && *c.substream > 2) || (c.temporal && *c.temporal > 2))
      throw RequestError(kErrorInvalidElement, "Invalid element (substream and temporal should be 0, 1 or 2)");
    changes.push_back(c);
  };
  auto by_mid = [&](const std::string& mid) {
    auto s = std::find_if(sub.streams.begin(), sub.streams.end(), [&](const SubscribedStream& x) { return x.mid == mid; });
    if (s == sub.streams.end()) throw RequestError(kErrorNoSuchFeed, "No such mid (" + mid + ") in this subscription");
    return &*s;
  };
  if (const json* streams = field(body, "streams")) {
    if (!streams->is_array()) throw RequestError(kErrorInvalidElement, "Invalid element (streams should be an array)");
    for (const json& item : *streams) {
      if (!item.is_object()) throw RequestError(kErrorInvalidElement, "Invalid element (streams items should be objects)");
      read(item, by_mid(req_string(item, "mid")));
    }
  }
  if (auto mid = opt_string(body, "mid")) {
    read(body, by_mid(*mid));
  } else if (field(body, "substream") || field(body, "temporal") || field(body, "fallback")) {
    for (SubscribedStream& s : sub.streams)
      if (s.source.type == "video") read(body, &s);
  }
  for (const char* kind : {"audio", "video"})
    if (auto send = opt_bool(body, kind))
      for (SubscribedStream& s : sub.streams)
        if (s.source.type == kind) changes.push_back({&s, send, {}, {}, {}});
  std::vector<std::tuple<int, int, int, int64_t>> layers;  // mindex, substream, temporal, fallback (-1: unchanged)
  for (const Change& c : changes) {
    if (c.send) c.stream->send = *c.send;
    if (c.substream || c.temporal || c.fallback)
      layers.emplace_back(c.stream->mindex, c.substream ? static_cast<int>(*c.substream) : -1,
                          c.temporal ? static_cast<int>(*c.temporal) : -1,
                          c.fallback ? static_cast<int64_t>(*c.fallback) : -1);
  }
  if (!layers.empty())
    room.media->post([handle = sub.handle, layers](Routes& routes) {
      for (const auto& [mindex, substream, temporal, fallback] : layers)
        if (Target* t = routes.target(handle, mindex)) {
          t->layers.set_target(substream >= 0 ? substream : t->layers.target_substream(),
                               temporal >= 0 ? temporal : t->layers.target_temporal());
          if (fallback >= 0) t->layers.set_fallback(std::chrono::microseconds(fallback));
        }
    });
  if (sub.started) set_subscriber_active(room, sub, true, false);
  return {{{"videoroom", "event"}, {"room", room.settings.id}, {"configured", "ok"}}};
}

VideoRoomPlugin::Reply VideoRoomPlugin::switch_streams(HandleId handle, const json& body) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr || state->role != Role::kSubscriber) throw RequestError(kErrorJoinFirst, "Not a subscriber in a room");
  Subscriber& sub = room->subscribers.at(handle);
  const json* streams = field(body, "streams");
  if (streams == nullptr) throw RequestError(kErrorMissingElement, "Missing element (streams)");
  if (!streams->is_array() || streams->empty())
    throw RequestError(kErrorInvalidElement, "Invalid element (streams should be a non-empty array)");
  // Check every change before making any.
  struct Change {
    SubscribedStream* stream;
    const Participant* publisher;
    const StreamInfo* source;
  };
  std::vector<Change> changes;
  for (const json& item : *streams) {
    if (!item.is_object()) throw RequestError(kErrorInvalidElement, "Invalid element (streams items should be objects)");
    uint64_t feed = req_uint(item, "feed");
    std::string mid = req_string(item, "mid"), sub_mid = req_string(item, "sub_mid");
    const Participant* p = room->find_participant(feed);
    if (p == nullptr || !p->published) throw RequestError(kErrorNoSuchFeed, "No such feed (" + std::to_string(feed) + ")");
    auto source = std::find_if(p->streams.begin(), p->streams.end(), [&](const StreamInfo& x) { return x.mid == mid; });
    if (source == p->streams.end())
      throw RequestError(kErrorNoSuchFeed, "No such mid (" + mid + ") in feed " + std::to_string(feed));
    auto s = std::find_if(sub.streams.begin(), sub.streams.end(), [&](const SubscribedStream& x) { return x.mid == sub_mid; });
    if (s == sub.streams.end()) throw RequestError(kErrorNoSuchFeed, "No such mid (" + sub_mid + ") in this subscription");
    if (source->type != s->source.type || source->codec != s->source.codec)
      throw RequestError(kErrorInvalidElement, "Can't switch mid " + sub_mid + " from " + s->source.type + "/" + s->source.codec +
                                                   " to " + source->type + "/" + source->codec);
    changes.push_back({&*s, p, &*source});
  }
  for (const Change& c : changes) {
    SubscribedStream& s = *c.stream;
    s.feed_id = c.publisher->id;
    s.feed_handle = c.publisher->handle;
    s.source = *c.source;
    room->media->post([handle, mindex = s.mindex, publisher = s.feed_handle, pub_mindex = s.source.mindex,
                       fallback = forwarder_for(s), active = sub.started && s.send](Routes& routes) {
      routes.move_target(handle, mindex, publisher, pub_mindex, fallback, active);
    });
  }
  json list = json::array();
  for (const SubscribedStream& s : sub.streams) list.push_back(s.to_json());
  return {{{"videoroom", "event"}, {"room", room->settings.id}, {"switched", "ok"}, {"changes", changes.size()},
           {"streams", list}}};
}

VideoRoomPlugin::Reply VideoRoomPlugin::start(HandleId handle, const json& jsep) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr || state->role != Role::kSubscriber) throw RequestError(kErrorJoinFirst, "Not a subscriber in a room");
  Subscriber& sub = room->subscribers.at(handle);
  if (!jsep.is_null() && jsep.value("type", "") != "answer") throw RequestError(kErrorInvalidSdpType, "Subscribers send an answer");
  set_subscriber_active(*room, sub, true, false);
  return {{{"videoroom", "event"}, {"room", room->settings.id}, {"started", "ok"}}};
}

VideoRoomPlugin::Reply VideoRoomPlugin::pause(HandleId handle) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr || state->role != Role::kSubscriber) throw RequestError(kErrorJoinFirst, "Not a subscriber in a room");
  set_subscriber_active(*room, room->subscribers.at(handle), false, false);
  return {{{"videoroom", "event"}, {"room", room->settings.id}, {"paused", "ok"}}};
}

// --- PeerConnection events (control loop) ---

void VideoRoomPlugin::setup_media(HandleId handle) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr || state->role != Role::kSubscriber) return;
  // Packets relayed before DTLS was up went nowhere: start again from a keyframe.
  Subscriber& sub = room->subscribers.at(handle);
  if (sub.started) set_subscriber_active(*room, sub, true, /*restart=*/true);
}

void VideoRoomPlugin::hangup_media(HandleId handle) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr) return;
  if (state->role == Role::kPublisher) {
    if (Participant* p = room->find_participant(state->participant)) stop_publishing(*room, *p);
  } else if (state->role == Role::kSubscriber) {
    set_subscriber_active(*room, room->subscribers.at(handle), false, false);
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
