// janus.plugin.videoroom: lifecycle, request dispatch and room management (create, destroy,
// exists, list, listparticipants). See videoroom_plugin.h for the map of the files.
#include "plugins/videoroom/videoroom_plugin.h"

#include <algorithm>

#include "plugins/common/request_dispatch.h"
#include "plugins/common/room_handles.h"
#include "plugins/videoroom/errors.h"
#include "plugins/videoroom/request_fields.h"

namespace junction::videoroom {

using plugin::MessageResult;

namespace {

const plugins::RequestCodes kCodes{"videoroom", kErrorInvalidJson, kErrorMissingElement, kErrorInvalidElement,
                                   kErrorInvalidRequest, kErrorUnknown};

json error_data(int code, const std::string& why) { return plugins::error_data(kCodes, code, why); }

bool is_sync(const std::string& request) {
  return request == "create" || request == "destroy" || request == "edit" || request == "exists" ||
         request == "list" || request == "listparticipants" || request == "kick" || request == "allowed" ||
         request == "moderate";
}

void check_secret(const Room& room, const json& body) {
  if (!room.settings.secret.empty() && opt_string(body, "secret").value_or("") != room.settings.secret)
    throw RequestError(kErrorUnauthorized, "Unauthorized (wrong secret)");
}

bool is_async(const std::string& request) {
  return request == "join" || request == "joinandconfigure" || request == "publish" || request == "configure" || request == "unpublish" ||
         request == "start" || request == "pause" || request == "leave" || request == "switch" ||
         request == "subscribe" || request == "unsubscribe" || request == "update";
}

}  // namespace

plugin::Info VideoRoomPlugin::info() const {
  return {"janus.plugin.videoroom", "Junction VideoRoom plugin",
          "An SFU video room (Janus VideoRoom compatible).", "The Junction authors", "0.1.0", 100};
}

void VideoRoomPlugin::init(plugin::Services& services, const json& settings) {
  services_ = &services;
  // Rooms from the configuration ("rooms": [create bodies]); without any, Janus's sample room.
  auto configured = settings.find("rooms");
  if (configured != settings.end() && configured->is_array()) {
    for (const json& body : *configured) {
      if (!body.is_object()) continue;
      RoomSettings s = settings_from_create(body);
      s.id = req_uint(body, "room");
      if (s.description.empty()) s.description = "Room " + std::to_string(s.id);
      add_room(std::move(s));
    }
  } else {
    RoomSettings demo;
    demo.id = 1234;
    demo.description = "Demo Room";
    demo.secret = "adminpwd";
    demo.max_publishers = 6;
    demo.bitrate = 128000;
    demo.fir_freq = 10;
    add_room(std::move(demo));
  }
  // Permanent rooms from the rooms file (a configured room of the same id wins).
  store_.open(services.state_dir() + "/janus.plugin.videoroom.rooms.json", services);
  for (const auto& [id, body] : store_.rooms()) {
    if (rooms_.count(id) != 0) {
      services.log(plugin::LogLevel::kWarn, "videoroom: room " + std::to_string(id) + " in " + store_.path() +
                                                " is also configured; the configured one is used");
      continue;
    }
    try {
      RoomSettings s = settings_from_create(body);
      s.id = id;
      add_room(std::move(s));
    } catch (const RequestError& e) {
      services.log(plugin::LogLevel::kWarn, "videoroom: room " + std::to_string(id) + " in " + store_.path() +
                                                " skipped: " + e.what());
    }
  }
  if (!store_.rooms().empty())
    services.log(plugin::LogLevel::kInfo, "videoroom: " + std::to_string(store_.rooms().size()) +
                                              " permanent room(s) in " + store_.path());
}

void VideoRoomPlugin::shutdown() {
  for (auto& [id, room] : rooms_) room.media->close();
  rooms_.clear();
  handles_.clear();
  directory_.clear();
}

void VideoRoomPlugin::create_session(HandleId handle) { handles_[handle] = HandleState{}; }

void VideoRoomPlugin::destroy_session(HandleId handle) {
  auto it = handles_.find(handle);
  if (it != handles_.end() && it->second.role != HandleState::Role::kNone) {
    try {
      leave(handle);
    } catch (const std::exception&) {
      // Not in a room any more (destroyed meanwhile): nothing to undo.
    }
  }
  handles_.erase(handle);
  directory_.erase(handle);
}

json VideoRoomPlugin::query_session(HandleId handle) {
  auto it = handles_.find(handle);
  if (it == handles_.end()) return json::object();
  const HandleState& s = it->second;
  json out = {{"role", s.role == HandleState::Role::kPublisher    ? "publisher"
                       : s.role == HandleState::Role::kSubscriber ? "subscriber"
                                                                  : "none"}};
  if (s.room != 0) out["room"] = s.room;
  if (s.participant != 0) out["id"] = s.participant;
  return out;
}

std::vector<plugin::Metric> VideoRoomPlugin::metrics() {
  double publishers = 0, subscribers = 0, participants = 0;
  for (const auto& [id, room] : rooms_) {
    participants += static_cast<double>(room.participants.size());
    publishers += static_cast<double>(room.active_publishers());
    subscribers += static_cast<double>(room.subscribers.size());
  }
  return {{"rooms", "Rooms that exist now.", plugin::Metric::Kind::kGauge, static_cast<double>(rooms_.size())},
          {"participants", "Participants joined to a room now (publishers and audio-only or idle joiners).",
           plugin::Metric::Kind::kGauge, participants},
          {"publishers", "Participants publishing media now.", plugin::Metric::Kind::kGauge, publishers},
          {"subscribers", "Subscriber handles joined to a room now.", plugin::Metric::Kind::kGauge, subscribers}};
}

json VideoRoomPlugin::handle_admin_message(const json& request) {
  return plugins::admin_request<RequestError>(kCodes, request,
                                              [&](const std::string& name) { return sync_request(name, request); });
}

MessageResult VideoRoomPlugin::handle_message(HandleId handle, const std::string& transaction, const json& body,
                                              const json& jsep) {
  if (handles_.count(handle) == 0) return MessageResult::error("No session for this handle");
  return plugins::dispatch_request<RequestError>(
      *services_, handle, transaction, body, kCodes, is_sync, is_async,
      [&](const std::string& request) { return sync_request(request, body); },
      [&](const std::string& request) {
        Reply reply = async_request(handle, request, body, jsep);
        return std::make_pair(std::move(reply.data), std::move(reply.jsep));
      },
      [&](const RequestError& e) {
        // A publisher's offer that was refused leaves a PeerConnection with nobody to feed it.
        // (Not when it was a second offer from a publisher that already publishes.)
        if (!jsep.is_null() && jsep.value("type", "") == "offer" && e.code != kErrorAlreadyPublished)
          services_->close_pc(handle);
      });
}

json VideoRoomPlugin::sync_request(const std::string& request, const json& body) {
  try {
    if (request == "create") return create_room(body);
    if (request == "destroy") return destroy_room(body);
    if (request == "edit") return edit_room(body);
    if (request == "listparticipants") return list_participants(body);
    if (request == "kick") return kick(body);
    if (request == "allowed") return allowed(body);
    if (request == "moderate") return moderate(body);
    if (request == "exists") {
      const json* v = field(body, "room");
      if (v == nullptr) throw RequestError(kErrorMissingElement, "Missing element (room)");
      if (!v->is_number_unsigned()) throw RequestError(kErrorInvalidElement, "Invalid element (room should be a positive integer)");
      uint64_t id = v->get<uint64_t>();
      return {{"videoroom", "success"}, {"room", id}, {"exists", rooms_.count(id) != 0}};
    }
    // list
    json list = json::array();
    for (const auto& [id, room] : rooms_)
      if (!room.settings.is_private) list.push_back(room.list_entry());
    return {{"videoroom", "success"}, {"list", list}};
  } catch (const RequestError& e) {
    return error_data(e.code, e.what());
  }
}

Room& VideoRoomPlugin::room_of(const json& body) {
  const json* v = field(body, "room");
  if (v == nullptr) throw RequestError(kErrorMissingElement, "Missing element (room)");
  if (!v->is_number_unsigned()) throw RequestError(kErrorInvalidElement, "Invalid element (room should be a positive integer)");
  auto it = rooms_.find(v->get<uint64_t>());
  if (it == rooms_.end()) throw RequestError(kErrorNoSuchRoom, "No such room (" + std::to_string(v->get<uint64_t>()) + ")");
  return it->second;
}

void VideoRoomPlugin::add_room(RoomSettings settings) {
  uint64_t id = settings.id;
  Room room;
  room.settings = std::move(settings);
  room.media = std::make_shared<RoomMedia>(id);
  uint64_t fir = room.settings.fir_freq;
  bool talking = room.settings.audiolevel_event;
  auto packets = static_cast<uint32_t>(room.settings.audio_active_packets);
  auto threshold = static_cast<uint32_t>(room.settings.audio_level_average);
  room.media->post([fir, talking, packets, threshold](Routes& routes) {
    routes.fir_freq_seconds = fir;
    routes.talking.enabled = talking;
    routes.talking.packets = packets;
    routes.talking.threshold = threshold;
  });
  rooms_[id] = std::move(room);
}

json VideoRoomPlugin::create_room(const json& body) {
  RoomSettings settings = settings_from_create(body);
  if (auto id = opt_uint(body, "room")) {
    if (*id == 0) throw RequestError(kErrorInvalidElement, "Invalid element (room should be a positive integer)");
    if (rooms_.count(*id) != 0) throw RequestError(kErrorRoomExists, "Room " + std::to_string(*id) + " already exists");
    settings.id = *id;
  } else {
    do settings.id = random_id();
    while (rooms_.count(settings.id) != 0);
  }
  if (settings.description.empty()) settings.description = "Room " + std::to_string(settings.id);
  uint64_t id = settings.id;
  bool permanent = opt_bool(body, "permanent").value_or(false);
  if (permanent) save_room(settings);
  add_room(std::move(settings));
  services_->log(plugin::LogLevel::kInfo, "videoroom: created room " + std::to_string(id) + (permanent ? " (permanent)" : ""));
  return {{"videoroom", "created"}, {"room", id}, {"permanent", permanent}};
}

void VideoRoomPlugin::save_room(const RoomSettings& settings) {
  try {
    store_.put(settings.id, settings.to_create_body());
  } catch (const std::exception& e) {
    throw RequestError(kErrorUnknown, std::string("Room not saved: ") + e.what());
  }
}

json VideoRoomPlugin::destroy_room(const json& body) {
  Room& room = room_of(body);
  check_secret(room, body);
  uint64_t id = room.settings.id;
  // As with Janus, a permanent room leaves the rooms file only when asked ("permanent": true).
  bool permanent = opt_bool(body, "permanent").value_or(false);
  if (permanent) {
    try {
      store_.erase(id);
    } catch (const std::exception& e) {
      throw RequestError(kErrorUnknown, std::string("Room not removed from the rooms file: ") + e.what());
    }
  }
  remove_room(id);
  return {{"videoroom", "destroyed"}, {"room", id}, {"permanent", permanent}};
}

json VideoRoomPlugin::edit_room(const json& body) {
  Room& room = room_of(body);
  check_secret(room, body);
  // Validate everything before changing anything.
  RoomSettings next = room.settings;
  if (auto v = opt_string(body, "new_description")) next.description = *v;
  if (auto v = opt_string(body, "new_secret")) next.secret = *v;
  if (auto v = opt_string(body, "new_pin")) next.pin = *v;
  if (auto v = opt_bool(body, "new_is_private")) next.is_private = *v;
  if (auto v = opt_uint(body, "new_publishers")) next.max_publishers = std::max<uint64_t>(*v, 1);
  if (auto v = opt_uint(body, "new_bitrate")) next.bitrate = *v;
  if (auto v = opt_uint(body, "new_fir_freq")) next.fir_freq = *v;
  // With "permanent": true the rooms file gets the edited room too (before anything changes here).
  bool permanent = opt_bool(body, "permanent").value_or(false);
  if (permanent) save_room(next);
  room.settings = next;
  uint64_t fir = next.fir_freq;
  room.media->post([fir](Routes& routes) { routes.fir_freq_seconds = fir; });
  // A new room bitrate applies to the publishers' next REMB (their own cap still applies).
  for (const auto& [id, p] : room.participants) {
    if (!p.published) continue;
    uint64_t cap = next.bitrate;
    if (p.bitrate > 0) cap = cap > 0 ? std::min(cap, p.bitrate) : p.bitrate;
    room.media->post([handle = p.handle, cap](Routes& routes) {
      auto it = routes.publishers.find(handle);
      if (it == routes.publishers.end()) return;
      it->second.remb_bitrate = cap;
      it->second.remb_due = true;
    });
  }
  return {{"videoroom", "edited"}, {"room", next.id}, {"permanent", permanent}};
}

void VideoRoomPlugin::remove_room(uint64_t id) {
  auto it = rooms_.find(id);
  if (it == rooms_.end()) return;
  Room& room = it->second;
  json event = {{"videoroom", "destroyed"}, {"room", id}};
  std::vector<HandleId> members;
  for (const auto& [pid, p] : room.participants) members.push_back(p.handle);
  for (const auto& [handle, s] : room.subscribers) members.push_back(handle);
  for (HandleId handle : members) {
    services_->push_event(handle, "", event);
    services_->close_pc(handle);
    handles_[handle] = HandleState{};
    directory_.erase(handle);
  }
  room.media->close();
  rooms_.erase(it);
  services_->log(plugin::LogLevel::kInfo, "videoroom: destroyed room " + std::to_string(id));
}

json VideoRoomPlugin::list_participants(const json& body) {
  Room& room = room_of(body);
  json list = json::array();
  for (const auto& [id, p] : room.participants) {
    json item = {{"id", id}, {"publisher", p.published}};
    if (!p.display.empty()) item["display"] = p.display;
    list.push_back(item);
  }
  return {{"videoroom", "participants"}, {"room", room.settings.id}, {"participants", list}};
}

json VideoRoomPlugin::kick(const json& body) {
  Room& room = room_of(body);
  check_secret(room, body);
  uint64_t id = req_uint(body, "id");
  Participant* p = room.find_participant(id);
  if (p == nullptr) throw RequestError(kErrorNoSuchFeed, "No such user " + std::to_string(id) + " in room " + std::to_string(room.settings.id));
  HandleId handle = p->handle;
  uint64_t room_id = room.settings.id;
  services_->push_event(handle, "", {{"videoroom", "event"}, {"room", room_id}, {"leaving", "ok"}, {"reason", "kicked"}});
  notify_participants(room, {{"videoroom", "event"}, {"room", room_id}, {"kicked", id}}, id);
  bool had_media = p->published;
  remove_participant(room, id);  // the others also get `leaving`
  handles_[handle] = HandleState{};
  if (had_media) services_->close_pc(handle);
  services_->log(plugin::LogLevel::kInfo, "videoroom: participant " + std::to_string(id) + " kicked from room " + std::to_string(room_id));
  return {{"videoroom", "success"}};
}

json VideoRoomPlugin::allowed(const json& body) {
  Room& room = room_of(body);
  check_secret(room, body);
  std::string action = req_string(body, "action");
  if (action != "enable" && action != "disable" && action != "add" && action != "remove")
    throw RequestError(kErrorInvalidElement, "Unsupported action '" + action + "' (enable, disable, add or remove)");
  RoomSettings& s = room.settings;
  if (action == "enable" || action == "disable") {
    s.check_allowed = action == "enable";
  } else {
    const json* list = field(body, "allowed");
    if (list == nullptr) throw RequestError(kErrorMissingElement, "Missing element (allowed)");
    std::set<std::string> tokens = token_list(*list);
    for (const std::string& token : tokens) {
      if (action == "add") s.allowed.insert(token);
      else s.allowed.erase(token);
    }
  }
  return {{"videoroom", "success"}, {"room", s.id}, {"allowed", s.allowed}};
}

json VideoRoomPlugin::moderate(const json& body) {
  Room& room = room_of(body);
  check_secret(room, body);
  uint64_t id = req_uint(body, "id");
  std::string mid = req_string(body, "mid");
  const json* mute = field(body, "mute");
  if (mute == nullptr) throw RequestError(kErrorMissingElement, "Missing element (mute)");
  if (!mute->is_boolean()) throw RequestError(kErrorInvalidElement, "Invalid element (mute should be a boolean)");
  Participant* p = room.find_participant(id);
  if (p == nullptr || !p->published) throw RequestError(kErrorNoSuchFeed, "No such feed (" + std::to_string(id) + ")");
  auto stream = std::find_if(p->streams.begin(), p->streams.end(), [&mid](const StreamInfo& s) { return s.mid == mid; });
  if (stream == p->streams.end()) throw RequestError(kErrorNoSuchFeed, "No such mid (" + mid + ") in feed " + std::to_string(id));
  stream->moderated = mute->get<bool>();
  apply_stream_state(room, *p);
  // Everyone sees the stream's new `moderated` flag in an updated `publishers` list.
  notify_participants(room, {{"videoroom", "event"}, {"room", room.settings.id}, {"publishers", json::array({p->to_json()})}},
                      0);
  return {{"videoroom", "success"}};
}

Room* VideoRoomPlugin::room_of_handle(HandleId handle, HandleState** state) {
  return plugins::room_of_handle(handles_, rooms_, handle, state);
}

uint64_t VideoRoomPlugin::media_affinity(HandleId handle) { return plugins::room_affinity(handles_, handle); }
uint64_t VideoRoomPlugin::media_affinity_for(HandleId handle, const json& body) {
  return plugins::room_affinity_for(handles_, handle, body);
}

}  // namespace junction::videoroom

JUNCTION_PLUGIN(junction::videoroom::VideoRoomPlugin)
