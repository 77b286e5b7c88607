// janus.plugin.videoroom: subscribers. `join` (ptype subscriber) brings the server's offer of
// the wanted feeds in one PeerConnection; `start` takes the answer; `subscribe`, `unsubscribe`
// and `update` change the set of streams and bring a new offer ("updated"), as does a feed that
// goes away (its m-lines become inactive); `configure`, `switch`, `pause` change what flows
// without renegotiation. One offer at a time: a change while an offer is unanswered is sent
// as a new offer once the answer arrives.
#include <algorithm>
#include <optional>
#include <tuple>

#include "core/media/sdp.h"
#include "plugins/videoroom/errors.h"
#include "plugins/videoroom/request_fields.h"
#include "plugins/videoroom/subscriber_sdp.h"
#include "plugins/videoroom/videoroom_plugin.h"

namespace junction::videoroom {
namespace {

using Role = HandleState::Role;

// A fresh forwarder for a subscriber's m-line.
Forwarder forwarder_for(const SubscribedStream& s) {
  VideoCodec codec = s.source.type == "video" ? video_codec_from_name(s.source.codec.c_str()) : VideoCodec::kNone;
  return Forwarder(codec, s.payload_type, s.source.clock_rate > 0 ? static_cast<uint32_t>(s.source.clock_rate) : 90000);
}

// `streams: [{feed, mid?}]` of a join or subscribe, or the older single `feed` of a join.
std::vector<std::pair<uint64_t, std::optional<std::string>>> wanted_feeds(const json& body, const char* key,
                                                                         bool allow_feed) {
  std::vector<std::pair<uint64_t, std::optional<std::string>>> wanted;
  if (const json* streams = field(body, key)) {
    if (!streams->is_array() || streams->empty())
      throw RequestError(kErrorInvalidElement, std::string("Invalid element (") + key + " should be a non-empty array)");
    for (const json& s : *streams) {
      if (!s.is_object()) throw RequestError(kErrorInvalidElement, std::string("Invalid element (") + key + " items should be objects)");
      wanted.emplace_back(req_uint(s, "feed"), opt_string(s, "mid"));
    }
  } else if (auto feed = allow_feed ? opt_uint(body, "feed") : std::nullopt) {
    wanted.emplace_back(*feed, std::nullopt);
  } else {
    throw RequestError(kErrorMissingElement, std::string("Missing element (") + key + ")");
  }
  return wanted;
}

json stream_list(const Room& room, const Subscriber& sub) {
  json list = json::array();
  for (const SubscribedStream& s : sub.streams) {
    json item = s.to_json();
    if (const Participant* p = const_cast<Room&>(room).find_participant(s.feed_id); p && !p->display.empty())
      item["feed_display"] = p->display;
    list.push_back(item);
  }
  return list;
}

}  // namespace

// New m-lines for the wanted feeds, after the subscriber's existing ones (checked whole before
// anything changes: 428 for an unknown feed or mid).
std::vector<SubscribedStream> VideoRoomPlugin::new_streams(
    Room& room, Subscriber& sub, const std::vector<std::pair<uint64_t, std::optional<std::string>>>& wanted) {
  std::vector<SubscribedStream> out;
  int next = static_cast<int>(sub.streams.size()) + (sub.data_mindex >= 0 ? 1 : 0);
  for (const auto& [feed, mid] : wanted) {
    Participant* p = room.find_participant(feed);
    if (p == nullptr || !p->published) throw RequestError(kErrorNoSuchFeed, "No such feed (" + std::to_string(feed) + ")");
    bool found = false;
    for (const StreamInfo& source : p->streams) {
      if (mid && source.mid != *mid) continue;
      found = true;
      SubscribedStream s;
      s.mindex = next++;
      s.mid = std::to_string(s.mindex);
      s.feed_id = feed;
      s.feed_handle = p->handle;
      s.source = source;
      s.payload_type = static_cast<uint8_t>(source.payload_type);
      s.ssrc = random_ssrc();
      if (source.type == "video") s.rtx_ssrc = random_ssrc();
      out.push_back(std::move(s));
    }
    if (!found) throw RequestError(kErrorNoSuchFeed, "No such mid (" + mid.value_or("") + ") in feed " + std::to_string(feed));
  }
  return out;
}

// Routes for new m-lines: inactive targets until the answer comes with `start`.
void VideoRoomPlugin::add_targets(Room& room, HandleId handle, const std::vector<SubscribedStream>& streams) {
  std::vector<std::tuple<HandleId, int, int, Forwarder>> targets;
  for (const SubscribedStream& s : streams) targets.emplace_back(s.feed_handle, s.source.mindex, s.mindex, forwarder_for(s));
  room.media->post([handle, targets](Routes& routes) {
    auto& by_mindex = routes.subscribers[handle].by_mindex;
    for (const auto& [publisher, pub_mindex, mindex, forwarder] : targets) {
      if (static_cast<size_t>(mindex) >= by_mindex.size()) by_mindex.resize(static_cast<size_t>(mindex) + 1);
      by_mindex[static_cast<size_t>(mindex)] = {publisher, pub_mindex};
      if (PublisherStreamRoute* stream = routes.stream(publisher, pub_mindex))
        stream->targets.push_back(Target{handle, mindex, false, forwarder, {}});
    }
  });
}

// The subscriber's current offer (a new session version each time).
json VideoRoomPlugin::subscriber_offer(Subscriber& sub) {
  sub.offer_pending = true;
  media::SessionDescription offer = make_subscriber_offer(sub.streams, sub.data_mindex, sub.sdp_session, ++sub.sdp_version);
  return {{"type", "offer"}, {"sdp", media::write_sdp(offer)}};
}

// After a change of streams: the new offer now, or once the pending one is answered.
void VideoRoomPlugin::renegotiate(Room& room, Subscriber& sub) {
  if (sub.offer_pending) {
    sub.update_queued = true;
    return;
  }
  json event = {{"videoroom", "updated"}, {"room", room.settings.id}, {"streams", stream_list(room, sub)}};
  services_->push_event(sub.handle, "", event, subscriber_offer(sub));
}

// A publisher stopped: its streams' m-lines go inactive in every subscriber's next offer.
void VideoRoomPlugin::feed_gone(Room& room, HandleId publisher) {
  for (auto& [handle, sub] : room.subscribers) {
    bool changed = false;
    for (SubscribedStream& s : sub.streams)
      if (s.feed_handle == publisher && s.active) {
        s.feed_handle = 0;
        s.active = false;
        changed = true;
      }
    if (changed && sub.answered) renegotiate(room, sub);
  }
}

VideoRoomPlugin::Reply VideoRoomPlugin::join_subscriber(HandleId handle, Room& room, const json& body) {
  Subscriber sub;
  sub.handle = handle;
  sub.sdp_session = random_id();
  sub.streams = new_streams(room, sub, wanted_feeds(body, "streams", /*allow_feed=*/true));
  // The publishers' data channel messages come on channels we open on one m=application line,
  // after the first streams.
  bool with_data = std::any_of(sub.streams.begin(), sub.streams.end(), [&](const SubscribedStream& s) {
    const Participant* p = room.find_participant(s.feed_id);
    return p != nullptr && p->data;
  });
  if (with_data) sub.data_mindex = static_cast<int>(sub.streams.size());
  add_targets(room, handle, sub.streams);
  json list = stream_list(room, sub);
  for (json& item : list) item["ready"] = false;
  json jsep = subscriber_offer(sub);
  room.subscribers[handle] = std::move(sub);
  handles_[handle] = HandleState{Role::kSubscriber, room.settings.id, 0};
  directory_.set(handle, room.media);
  return {{{"videoroom", "attached"}, {"room", room.settings.id}, {"streams", list}}, jsep};
}

VideoRoomPlugin::Reply VideoRoomPlugin::update_subscription(HandleId handle, const std::string& request, const json& body) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr || state->role != Role::kSubscriber) throw RequestError(kErrorJoinFirst, "Not a subscriber in a room");
  Subscriber& sub = room->subscribers.at(handle);
  const char* add_key = request == "update" ? "subscribe" : "streams";
  const char* drop_key = request == "update" ? "unsubscribe" : "streams";
  // Check everything before changing anything.
  std::vector<SubscribedStream> added;
  if (request == "subscribe" || (request == "update" && field(body, add_key)))
    added = new_streams(*room, sub, wanted_feeds(body, add_key, false));
  std::vector<SubscribedStream*> dropped;
  if (request == "unsubscribe" || (request == "update" && field(body, drop_key))) {
    const json* list = field(body, drop_key);
    if (list == nullptr) throw RequestError(kErrorMissingElement, std::string("Missing element (") + drop_key + ")");
    if (!list->is_array() || list->empty())
      throw RequestError(kErrorInvalidElement, std::string("Invalid element (") + drop_key + " should be a non-empty array)");
    for (const json& item : *list) {
      if (!item.is_object()) throw RequestError(kErrorInvalidElement, std::string("Invalid element (") + drop_key + " items should be objects)");
      // {sub_mid}: one of our m-lines; {feed[, mid]}: that feed's streams (or one of them).
      auto sub_mid = opt_string(item, "sub_mid");
      auto feed = opt_uint(item, "feed");
      auto mid = opt_string(item, "mid");
      if (!sub_mid && !feed) throw RequestError(kErrorMissingElement, "Missing element (feed or sub_mid)");
      size_t before = dropped.size();
      for (SubscribedStream& s : sub.streams)
        if (s.active && (sub_mid ? s.mid == *sub_mid : s.feed_id == *feed && (!mid || s.source.mid == *mid)))
          dropped.push_back(&s);
      if (dropped.size() == before)
        throw RequestError(kErrorNoSuchFeed, "No such stream in this subscription (" + item.dump() + ")");
    }
  }
  if (added.empty() && dropped.empty())
    throw RequestError(kErrorMissingElement, "Missing element (subscribe or unsubscribe)");
  std::vector<int> gone;
  for (SubscribedStream* s : dropped) {
    s->active = false;
    s->feed_handle = 0;
    gone.push_back(s->mindex);
  }
  if (!gone.empty())
    room->media->post([handle, gone](Routes& routes) {
      for (int mindex : gone) routes.remove_target(handle, mindex);
    });
  add_targets(*room, handle, added);
  for (SubscribedStream& s : added) sub.streams.push_back(std::move(s));
  if (sub.offer_pending) {
    sub.update_queued = true;
    return {{{"videoroom", "updating"}, {"room", room->settings.id}}};
  }
  return {{{"videoroom", "updated"}, {"room", room->settings.id}, {"streams", stream_list(*room, sub)}}, subscriber_offer(sub)};
}

void VideoRoomPlugin::set_subscriber_active(Room& room, Subscriber& sub, bool active, bool restart) {
  sub.started = active;
  // A target forwards only once the PeerConnection is up: see setup_media.
  std::vector<bool> on;  // by the subscriber's mindex: started, PeerConnection up, and `send` for that mid
  for (const SubscribedStream& s : sub.streams) on.push_back(active && sub.media_up && s.send);
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
                       fallback = forwarder_for(s), active = sub.started && sub.media_up && s.send](Routes& routes) {
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
  if (!jsep.is_null()) {
    sub.offer_pending = false;
    sub.answered = true;
  }
  set_subscriber_active(*room, sub, true, false);
  json data = {{"videoroom", "event"}, {"room", room->settings.id}, {"started", "ok"}};
  if (sub.update_queued) {
    // A change arrived while our offer was unanswered: offer it now.
    sub.update_queued = false;
    services_->push_event(handle, "", {{"videoroom", "updated"}, {"room", room->settings.id}, {"streams", stream_list(*room, sub)}},
                          subscriber_offer(sub));
  }
  return {data};
}

VideoRoomPlugin::Reply VideoRoomPlugin::pause(HandleId handle) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr || state->role != Role::kSubscriber) throw RequestError(kErrorJoinFirst, "Not a subscriber in a room");
  set_subscriber_active(*room, room->subscribers.at(handle), false, false);
  return {{{"videoroom", "event"}, {"room", room->settings.id}, {"paused", "ok"}}};
}

}  // namespace junction::videoroom
