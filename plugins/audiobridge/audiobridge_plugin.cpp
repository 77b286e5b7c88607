// janus.plugin.audiobridge: lifecycle, request dispatch and room management (create, edit,
// destroy, exists, list, listparticipants, allowed, kick, kick_all, mute, unmute, mute_room,
// unmute_room). See audiobridge_plugin.h for the map of the files.
#include "plugins/audiobridge/audiobridge_plugin.h"

#include <chrono>

#include "plugins/audiobridge/errors.h"
#include "plugins/common/request_dispatch.h"
#include "plugins/common/room_handles.h"

namespace junction::audiobridge {

using plugin::MessageResult;

namespace {

const plugins::RequestCodes kCodes{"audiobridge", kErrorInvalidJson, kErrorMissingElement, kErrorInvalidElement,
                                   kErrorInvalidRequest, kErrorUnknown};

json error_data(int code, const std::string& why) { return plugins::error_data(kCodes, code, why); }

bool is_sync(const std::string& r) {
  return r == "create" || r == "edit" || r == "destroy" || r == "exists" || r == "list" || r == "listparticipants" ||
         r == "allowed" || r == "kick" || r == "kick_all" || r == "mute" || r == "unmute" || r == "mute_room" ||
         r == "unmute_room" || r == "enable_recording";
}

bool is_async(const std::string& r) { return r == "join" || r == "configure" || r == "changeroom" || r == "leave"; }

}  // namespace

plugin::Info AudioBridgePlugin::info() const {
  return {"janus.plugin.audiobridge", "Junction AudioBridge plugin",
          "An audio MCU: one mix per participant, one shared encode for all listeners (Janus AudioBridge compatible).",
          "The Junction authors", "0.1.0", 100};
}

void AudioBridgePlugin::init(plugin::Services& services, const json& settings) {
  services_ = &services;
  // Rooms from the configuration ("rooms": [create bodies]); without any, Janus's sample room.
  auto configured = settings.find("rooms");
  if (configured != settings.end() && configured->is_array()) {
    for (const json& body : *configured) {
      if (!body.is_object()) continue;
      RoomSettings s = settings_from_create(body);
      s.id = Body::required(Body(body).id("room"), "room");
      if (s.description.empty()) s.description = "Room " + std::to_string(s.id);
      add_room(std::move(s));
    }
  } else {
    RoomSettings demo;
    demo.id = 1234;
    demo.description = "Demo Room";
    demo.secret = "adminpwd";
    demo.sampling_rate = 16000;
    add_room(std::move(demo));
  }
}

void AudioBridgePlugin::shutdown() {
  for (auto& [id, room] : rooms_) room.mixer->stop();
  rooms_.clear();
  handles_.clear();
  routes_.clear();
}

void AudioBridgePlugin::create_session(HandleId handle) { handles_[handle] = HandleState{}; }

void AudioBridgePlugin::destroy_session(HandleId handle) {
  HandleState* state = nullptr;
  if (Room* room = room_of_handle(handle, &state)) remove_participant(*room, state->participant, true);
  handles_.erase(handle);
  routes_.erase(handle);
}

json AudioBridgePlugin::query_session(HandleId handle) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr) return {{"room", nullptr}};
  json out = {{"room", room->settings.id}, {"id", state->participant}};
  if (Participant* p = room->find(state->participant)) {
    out["muted"] = p->muted;
    out["setup"] = p->setup;
    out["volume"] = p->volume;
    out["talking"] = p->mixer->talking();
    auto jb = p->mixer->jitter_stats();
    out["jitter"] = {{"pushed", jb.pushed}, {"played", jb.played}, {"lost", jb.lost}, {"late", jb.late},
                     {"skipped", jb.skipped}, {"underruns", jb.underruns}};
  }
  return out;
}

std::vector<plugin::Metric> AudioBridgePlugin::metrics() {
  using Kind = plugin::Metric::Kind;
  mixers::AudioMixer::Stats total = retired_;
  double participants = 0;
  for (const auto& [id, room] : rooms_) {
    participants += static_cast<double>(room.participants.size());
    auto s = room.mixer->stats();
    total.ticks += s.ticks;
    total.overruns += s.overruns;
    total.encodes += s.encodes;
    total.packets += s.packets;
  }
  return {{"rooms", "Rooms that exist now.", Kind::kGauge, static_cast<double>(rooms_.size())},
          {"participants", "Participants joined to a room now (publishers and audio-only or idle joiners).",
           Kind::kGauge, participants},
          {"audio_mixer_ticks_total", "20 ms mixing ticks run by the audio mixers.", Kind::kCounter,
           static_cast<double>(total.ticks)},
          {"audio_mixer_overruns_total", "Mixing ticks that ended after the next one was due.", Kind::kCounter,
           static_cast<double>(total.overruns)},
          {"audio_mixer_encodes_total", "Opus encodes by the audio mixers (one per talker plus one shared, per tick).",
           Kind::kCounter, static_cast<double>(total.encodes)},
          {"audio_mixer_packets_total", "RTP packets of mixed audio sent to participants.", Kind::kCounter,
           static_cast<double>(total.packets)}};
}

json AudioBridgePlugin::handle_admin_message(const json& request) {
  return plugins::admin_request<RequestError>(kCodes, request,
                                              [&](const std::string& name) { return sync_request(name, request); });
}

MessageResult AudioBridgePlugin::handle_message(HandleId handle, const std::string& transaction, const json& body,
                                                const json& jsep) {
  if (handles_.count(handle) == 0) return MessageResult::error("No session for this handle");
  return plugins::dispatch_request<RequestError>(
      *services_, handle, transaction, body, kCodes, is_sync, is_async,
      [&](const std::string& request) { return sync_request(request, body); },
      [&](const std::string& request) {
        Reply reply = async_request(handle, request, body, jsep);
        return std::make_pair(std::move(reply.data), std::move(reply.jsep));
      },
      [&](const RequestError&) {
        // A refused offer leaves a PeerConnection with nothing to carry, unless the participant
        // already had its media up (a refused renegotiation keeps the call going).
        HandleState* state = nullptr;
        room_of_handle(handle, &state);
        if (!jsep.is_null() && jsep.value("type", "") == "offer" && (state == nullptr || state->mindex < 0))
          services_->close_pc(handle);
      });
}

json AudioBridgePlugin::sync_request(const std::string& request, const json& body) {
  try {
    if (request == "create") return create_room(body);
    if (request == "edit") return edit_room(body);
    if (request == "destroy") return destroy_room(body);
    if (request == "listparticipants") return list_participants(body);
    if (request == "allowed") return allowed(body);
    if (request == "enable_recording") return enable_recording(body);
    if (request == "kick" || request == "kick_all") return kick(body, request == "kick_all");
    if (request == "mute" || request == "unmute") return mute(body, request == "mute");
    if (request == "mute_room" || request == "unmute_room") return mute_room(body, request == "mute_room");
    if (request == "exists") {
      uint64_t id = Body::required(Body(body).id("room"), "room");
      return {{"audiobridge", "success"}, {"room", id}, {"exists", rooms_.count(id) != 0}};
    }
    // list
    json list = json::array();
    for (const auto& [id, room] : rooms_)
      if (!room.settings.is_private) list.push_back(room.list_entry());
    return {{"audiobridge", "success"}, {"list", list}};
  } catch (const RequestError& e) {
    return error_data(e.code, e.what());
  }
}

Room& AudioBridgePlugin::room_of(const json& body) {
  uint64_t id = Body::required(Body(body).id("room"), "room");
  auto it = rooms_.find(id);
  if (it == rooms_.end()) throw RequestError(kErrorNoSuchRoom, "No such room (" + std::to_string(id) + ")");
  return it->second;
}

void AudioBridgePlugin::check_secret(const Room& room, const json& body) const {
  if (!room.settings.secret.empty() && Body(body).text("secret").value_or("") != room.settings.secret)
    throw RequestError(kErrorUnauthorized, "Unauthorized (wrong secret)");
}

Room& AudioBridgePlugin::add_room(RoomSettings settings) {
  uint64_t id = settings.id;
  Room& room = rooms_[id];
  mixers::MixerSettings mix;
  mix.sample_rate = settings.sampling_rate;
  mix.bitrate = settings.default_bitrate;
  mix.expected_loss = settings.default_expectedloss;
  mix.audio_active_packets = settings.audio_active_packets;
  mix.audio_level_average = settings.audio_level_average;
  room.mixer = std::make_unique<mixers::AudioMixer>(
      mix, make_packet_sink(*services_, routes_), make_talking_sink(*services_, routes_, id, settings.audiolevel_event));
  room.settings = std::move(settings);
  if (room.settings.record) set_recording(room, true);
  room.mixer->start();
  return room;
}

json AudioBridgePlugin::create_room(const json& body) {
  RoomSettings settings = settings_from_create(body);
  if (auto id = Body(body).id("room")) {
    if (rooms_.count(*id) != 0) throw RequestError(kErrorRoomExists, "Room " + std::to_string(*id) + " already exists");
    settings.id = *id;
  } else {
    do settings.id = random_id();
    while (rooms_.count(settings.id) != 0);
  }
  if (settings.description.empty()) settings.description = "Room " + std::to_string(settings.id);
  uint64_t id = settings.id;
  try {
    add_room(std::move(settings));
  } catch (const RequestError&) {
    rooms_.erase(id);
    throw;
  } catch (const std::exception& e) {
    rooms_.erase(id);
    throw RequestError(kErrorLibopusError, std::string("Cannot create the room's mixer: ") + e.what());
  }
  services_->log(plugin::LogLevel::kInfo, "audiobridge: created room " + std::to_string(id));
  return {{"audiobridge", "created"}, {"room", id}, {"permanent", false}};
}

json AudioBridgePlugin::edit_room(const json& body) {
  Room& room = room_of(body);
  check_secret(room, body);
  Body b(body);
  // Validate everything before changing anything.
  RoomSettings next = room.settings;
  if (auto v = b.text("new_description")) next.description = *v;
  if (auto v = b.text("new_secret")) next.secret = *v;
  if (auto v = b.text("new_pin")) next.pin = *v;
  if (auto v = b.flag("new_is_private")) next.is_private = *v;
  if (auto v = b.text("new_record_dir")) next.record_dir = *v;
  (void)b.flag("permanent");
  room.settings = next;
  return {{"audiobridge", "edited"}, {"room", next.id}, {"permanent", false}};
}

json AudioBridgePlugin::destroy_room(const json& body) {
  Room& room = room_of(body);
  check_secret(room, body);
  uint64_t id = room.settings.id;
  remove_room(id);
  return {{"audiobridge", "destroyed"}, {"room", id}, {"permanent", false}};
}

void AudioBridgePlugin::remove_room(uint64_t id) {
  auto it = rooms_.find(id);
  if (it == rooms_.end()) return;
  Room& room = it->second;
  room.mixer->stop();
  room.recorder.reset();  // the WAV gets its final header
  auto s = room.mixer->stats();
  retired_.ticks += s.ticks;
  retired_.overruns += s.overruns;
  retired_.encodes += s.encodes;
  retired_.packets += s.packets;
  json event = {{"audiobridge", "destroyed"}, {"room", id}};
  for (const auto& [pid, p] : room.participants) {
    services_->push_event(p.handle, "", event);
    services_->close_pc(p.handle);
    handles_[p.handle] = HandleState{};
    routes_.erase(p.handle);
  }
  rooms_.erase(it);
  services_->log(plugin::LogLevel::kInfo, "audiobridge: destroyed room " + std::to_string(id));
}

json AudioBridgePlugin::allowed(const json& body) {
  Room& room = room_of(body);
  check_secret(room, body);
  Body b(body);
  std::string action = Body::required(b.text("action"), "action");
  const json* list = b.array("allowed");
  if (action != "enable" && action != "disable" && action != "add" && action != "remove")
    throw RequestError(kErrorInvalidElement, "Unsupported action '" + action + "' (allowed)");
  if ((action == "add" || action == "remove") && list == nullptr)
    throw RequestError(kErrorMissingElement, "Missing element (allowed)");
  if (action == "enable") room.settings.check_allowed = true;
  if (action == "disable") room.settings.check_allowed = false;
  if (list != nullptr)
    for (const json& token : *list) {
      if (!token.is_string()) throw RequestError(kErrorInvalidElement, "Invalid element (allowed should be an array of strings)");
      if (action == "remove") room.settings.allowed.erase(token.get<std::string>());
      else if (action == "add") room.settings.allowed.insert(token.get<std::string>());
    }
  json tokens = json::array();
  for (const auto& t : room.settings.allowed) tokens.push_back(t);
  return {{"audiobridge", "success"}, {"room", room.settings.id}, {"allowed", tokens}};
}

json AudioBridgePlugin::kick(const json& body, bool all) {
  Room& room = room_of(body);
  check_secret(room, body);
  uint64_t room_id = room.settings.id;
  std::vector<uint64_t> targets;
  if (all) {
    for (const auto& [id, p] : room.participants) targets.push_back(id);
  } else {
    uint64_t id = Body::required(Body(body).id("id"), "id");
    if (room.find(id) == nullptr) throw RequestError(kErrorNoSuchUser, "No such user " + std::to_string(id) + " in room " + std::to_string(room_id));
    targets.push_back(id);
  }
  for (uint64_t id : targets) {
    HandleId handle = room.participants.at(id).handle;
    if (all) services_->push_event(handle, "", {{"audiobridge", "event"}, {"room", room_id}, {"kicked_all", id}});
    else notify(room, {{"audiobridge", "event"}, {"room", room_id}, {"kicked", id}});
    remove_participant(room, id, false);
    handles_[handle] = HandleState{};
    routes_.erase(handle);
    services_->close_pc(handle);
  }
  return {{"audiobridge", "success"}};
}

json AudioBridgePlugin::mute(const json& body, bool muted) {
  Room& room = room_of(body);
  check_secret(room, body);
  uint64_t id = Body::required(Body(body).id("id"), "id");
  Participant* p = room.find(id);
  if (p == nullptr) throw RequestError(kErrorNoSuchUser, "No such user " + std::to_string(id) + " in room " + std::to_string(room.settings.id));
  if (p->muted != muted) {
    p->muted = muted;
    room.apply_mute(*p);
    announce(room, *p, true);
  }
  return {{"audiobridge", "success"}};
}

json AudioBridgePlugin::mute_room(const json& body, bool muted) {
  Room& room = room_of(body);
  check_secret(room, body);
  if (room.muted != muted) {
    room.muted = muted;
    for (auto& [id, p] : room.participants) room.apply_mute(p);
    notify(room, {{"audiobridge", "event"}, {"room", room.settings.id}, {"muted", muted}});
  }
  return {{"audiobridge", "success"}};
}

// The mix goes to `record_file`, or to a file named after the room and the time in `record_dir`
// (default: the working folder), as Janus names them.
void AudioBridgePlugin::set_recording(Room& room, bool on) {
  if (!on) {
    room.mixer->set_mix_tap({});
    room.recorder.reset();
    return;
  }
  if (room.recorder) return;
  std::string path = room.settings.record_file;
  if (path.empty()) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    std::string dir = room.settings.record_dir.empty() ? "." : room.settings.record_dir;
    path = dir + "/junction-audioroom-" + std::to_string(room.settings.id) + "-" + std::to_string(ms) + ".wav";
  }
  try {
    room.recorder = std::make_shared<mixers::MixRecorder>(path, room.settings.sampling_rate);
  } catch (const std::exception& e) {
    throw RequestError(kErrorUnknown, std::string("Cannot record the mix: ") + e.what());
  }
  room.mixer->set_mix_tap([recorder = room.recorder](std::span<const int16_t> pcm) { recorder->write(pcm); });
  services_->log(plugin::LogLevel::kInfo, "audiobridge: room " + std::to_string(room.settings.id) + " records to " + path);
}

json AudioBridgePlugin::enable_recording(const json& body) {
  Room& room = room_of(body);
  check_secret(room, body);
  Body b(body);
  bool record = Body::required(b.flag("record"), "record");
  auto file = b.text("record_file");
  auto dir = b.text("record_dir");
  if (record && room.recorder) set_recording(room, false);  // a new file
  if (file) room.settings.record_file = *file;
  if (dir) room.settings.record_dir = *dir;
  set_recording(room, record);
  room.settings.record = record;
  return {{"audiobridge", "success"}, {"record", record}};
}

json AudioBridgePlugin::list_participants(const json& body) {
  Room& room = room_of(body);
  return {{"audiobridge", "participants"}, {"room", room.settings.id}, {"participants", room.participants_json()}};
}

Room* AudioBridgePlugin::room_of_handle(HandleId handle, HandleState** state) {
  return plugins::room_of_handle(handles_, rooms_, handle, state);
}

uint64_t AudioBridgePlugin::media_affinity(HandleId handle) { return plugins::room_affinity(handles_, handle); }

}  // namespace junction::audiobridge

JUNCTION_PLUGIN(junction::audiobridge::AudioBridgePlugin)
