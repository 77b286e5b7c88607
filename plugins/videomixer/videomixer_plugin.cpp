// junction.plugin.videomixer: lifecycle, request dispatch, room management (create, destroy,
// exists, list, listparticipants) and the mixers' sinks. See videomixer_plugin.h for the files.
#include "plugins/videomixer/videomixer_plugin.h"

#include "plugins/common/request_dispatch.h"
#include "plugins/common/room_handles.h"
#include "plugins/videomixer/errors.h"

namespace junction::videomixer {

using plugin::MessageResult;

namespace {

const plugins::RequestCodes kCodes{"videomixer", kErrorInvalidJson, kErrorMissingElement, kErrorInvalidElement,
                                   kErrorInvalidRequest, kErrorUnknown};

bool is_sync(const std::string& r) {
  return r == "create" || r == "destroy" || r == "exists" || r == "list" || r == "listparticipants";
}

bool is_async(const std::string& r) { return r == "join" || r == "configure" || r == "leave"; }

// The mixers' output: one relay_rtp_batch() per tick, each packet on its handle's m-line. The
// batch is reused tick after tick (only the mixer's own thread calls its sink).
template <typename Packet, typename Handle>
std::function<void(std::span<const Packet>)> make_sink(plugin::Services& services, const Routes& routes,
                                                       int Route::*mindex, Handle handle_of) {
  auto batch = std::make_shared<std::vector<plugin::OutgoingRtp>>();
  return [&services, &routes, batch, mindex, handle_of](std::span<const Packet> packets) {
    auto map = routes.snapshot();
    batch->clear();
    for (const Packet& p : packets) {
      auto it = map->find(handle_of(p));
      if (it == map->end() || it->second.*mindex < 0) continue;
      batch->push_back({handle_of(p), it->second.*mindex, p.rtp});
    }
    if (!batch->empty()) services.relay_rtp_batch(*batch);
  };
}

}  // namespace

plugin::Info VideoMixerPlugin::info() const {
  return {"junction.plugin.videomixer", "Junction VideoMixer plugin",
          "A video MCU: one composite picture and one mix-minus audio stream per participant.", "The Junction authors",
          "0.1.0", 100};
}

void VideoMixerPlugin::init(plugin::Services& services, const json& settings) {
  services_ = &services;
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
    add_room(std::move(demo));
  }
  speaker_timer_ = services.start_timer(std::chrono::milliseconds(250), true, [this] { check_speakers(); });
}

void VideoMixerPlugin::shutdown() {
  if (speaker_timer_ != 0) services_->cancel_timer(speaker_timer_);
  for (auto& [id, room] : rooms_) {
    room.video->stop();
    room.audio->stop();
  }
  rooms_.clear();
  handles_.clear();
  routes_.clear();
}

void VideoMixerPlugin::create_session(HandleId handle) { handles_[handle] = HandleState{}; }

void VideoMixerPlugin::destroy_session(HandleId handle) {
  HandleState* state = nullptr;
  if (Room* room = room_of_handle(handle, &state)) {
    remove_participant(*room, state->participant, true);
    send_layouts(*room);
  }
  handles_.erase(handle);
  routes_.erase(handle);
}

json VideoMixerPlugin::query_session(HandleId handle) {
  HandleState* state = nullptr;
  Room* room = room_of_handle(handle, &state);
  if (room == nullptr) return {{"room", nullptr}};
  json out = {{"room", room->settings.id}, {"id", state->participant}};
  if (Participant* p = room->find(state->participant)) {
    out["setup"] = p->setup;
    out["layout"] = mixers::layout_name(p->layout);
    if (state->video_mindex >= 0) out["videocodec"] = mixers::codec_name(state->video_codec);
    auto v = p->video->stats();
    out["video"] = {{"frames_in", v.frames_in}, {"frames_decoded", v.frames_decoded}, {"decode_errors", v.decode_errors},
                    {"keyframe_requests", v.keyframe_requests}, {"frames_out", v.frames_out}};
  }
  return out;
}

std::vector<plugin::Metric> VideoMixerPlugin::metrics() {
  using Kind = plugin::Metric::Kind;
  double participants = 0, encodes = 0, overruns = 0, groups = 0;
  for (const auto& [id, room] : rooms_) {
    participants += static_cast<double>(room.participants.size());
    auto s = room.video->stats();
    encodes += static_cast<double>(s.encodes);
    overruns += static_cast<double>(s.overruns);
    groups += s.last_tick_groups;
  }
  return {{"rooms", "Rooms that exist now.", Kind::kGauge, static_cast<double>(rooms_.size())},
          {"participants", "Participants joined to a room now.", Kind::kGauge, participants},
          {"video_groups", "Composites encoded per tick, all rooms (one per distinct layout).", Kind::kGauge, groups},
          {"video_encodes", "Composite frames encoded by the rooms that exist now.", Kind::kGauge, encodes},
          {"video_overruns", "Video mixing ticks that ended after the next was due (rooms that exist now).",
           Kind::kGauge, overruns}};
}

json VideoMixerPlugin::handle_admin_message(const json& request) {
  return plugins::admin_request<RequestError>(kCodes, request,
                                              [&](const std::string& name) { return sync_request(name, request); });
}

MessageResult VideoMixerPlugin::handle_message(HandleId handle, const std::string& transaction, const json& body,
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
        // A refused first offer leaves a PeerConnection with nothing to carry.
        HandleState* state = nullptr;
        room_of_handle(handle, &state);
        if (!jsep.is_null() && jsep.value("type", "") == "offer" &&
            (state == nullptr || (state->audio_mindex < 0 && state->video_mindex < 0)))
          services_->close_pc(handle);
      });
}

json VideoMixerPlugin::sync_request(const std::string& request, const json& body) {
  try {
    if (request == "create") return create_room(body);
    if (request == "destroy") return destroy_room(body);
    if (request == "listparticipants") {
      Room& room = room_of(body);
      return {{"videomixer", "participants"}, {"room", room.settings.id}, {"participants", room.participants_json()}};
    }
    if (request == "exists") {
      uint64_t id = Body::required(Body(body).id("room"), "room");
      return {{"videomixer", "success"}, {"room", id}, {"exists", rooms_.count(id) != 0}};
    }
    json list = json::array();
    for (const auto& [id, room] : rooms_)
      if (!room.settings.is_private) list.push_back(room.list_entry());
    return {{"videomixer", "success"}, {"list", list}};
  } catch (const RequestError& e) {
    return plugins::error_data(kCodes, e.code, e.what());
  }
}

Room& VideoMixerPlugin::room_of(const json& body) {
  uint64_t id = Body::required(Body(body).id("room"), "room");
  auto it = rooms_.find(id);
  if (it == rooms_.end()) throw RequestError(kErrorNoSuchRoom, "No such room (" + std::to_string(id) + ")");
  return it->second;
}

Room& VideoMixerPlugin::add_room(RoomSettings settings) {
  mixers::VideoMixerSettings video;
  video.width = settings.width;
  video.height = settings.height;
  video.fps = settings.fps;
  video.bitrate = settings.bitrate;
  video.codecs = settings.videocodecs;
  mixers::MixerSettings audio;
  audio.sample_rate = settings.sampling_rate;
  // A speaker is found within half a second (25 packets of 20 ms), not Janus's 2 s default.
  audio.audio_active_packets = 25;
  std::unique_ptr<mixers::VideoMixer> video_mixer;
  std::unique_ptr<mixers::AudioMixer> audio_mixer;
  try {
    video_mixer = std::make_unique<mixers::VideoMixer>(
        video, make_sink<mixers::VideoPacket>(*services_, routes_, &Route::video_mindex,
                                              [](const mixers::VideoPacket& p) { return p.receiver; }));
    mixers::VideoMixer* vm = video_mixer.get();
    audio_mixer = std::make_unique<mixers::AudioMixer>(
        audio,
        make_sink<mixers::OutgoingPacket>(*services_, routes_, &Route::audio_mindex,
                                          [](const mixers::OutgoingPacket& p) { return p.participant; }),
        // The last participant who started talking is the active speaker (read by the video
        // mixer's thread; the layout events follow from the control loop's timer).
        [vm](uint64_t handle, bool talking, int) {
          if (talking) vm->set_speaker(handle);
        });
  } catch (const std::exception& e) {
    throw RequestError(kErrorMixer, std::string("Cannot create the room's mixers: ") + e.what());
  }
  uint64_t id = settings.id;
  Room& room = rooms_[id];
  room.settings = std::move(settings);
  room.video = std::move(video_mixer);
  room.audio = std::move(audio_mixer);
  room.video->start();
  room.audio->start();
  return room;
}

json VideoMixerPlugin::create_room(const json& body) {
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
  add_room(std::move(settings));
  services_->log(plugin::LogLevel::kInfo, "videomixer: created room " + std::to_string(id));
  return {{"videomixer", "created"}, {"room", id}, {"permanent", false}};
}

json VideoMixerPlugin::destroy_room(const json& body) {
  Room& room = room_of(body);
  if (!room.settings.secret.empty() && Body(body).text("secret").value_or("") != room.settings.secret)
    throw RequestError(kErrorUnauthorized, "Unauthorized (wrong secret)");
  uint64_t id = room.settings.id;
  remove_room(id);
  return {{"videomixer", "destroyed"}, {"room", id}, {"permanent", false}};
}

void VideoMixerPlugin::remove_room(uint64_t id) {
  auto it = rooms_.find(id);
  if (it == rooms_.end()) return;
  Room& room = it->second;
  room.video->stop();
  room.audio->stop();
  json event = {{"videomixer", "destroyed"}, {"room", id}};
  for (const auto& [pid, p] : room.participants) {
    services_->push_event(p.handle, "", event);
    services_->close_pc(p.handle);
    handles_[p.handle] = HandleState{};
    routes_.erase(p.handle);
  }
  rooms_.erase(it);
  services_->log(plugin::LogLevel::kInfo, "videomixer: destroyed room " + std::to_string(id));
}

void VideoMixerPlugin::check_speakers() {
  for (auto& [id, room] : rooms_) {
    uint64_t speaker = room.video->speaker();
    if (speaker == room.announced_speaker) continue;
    room.announced_speaker = speaker;
    for (const auto& [pid, p] : room.participants)
      if (p.layout != mixers::LayoutKind::kGrid) services_->push_event(p.handle, "", room.layout_event(p));
  }
}

Room* VideoMixerPlugin::room_of_handle(HandleId handle, HandleState** state) {
  return plugins::room_of_handle(handles_, rooms_, handle, state);
}

uint64_t VideoMixerPlugin::media_affinity(HandleId handle) { return plugins::room_affinity(handles_, handle); }

}  // namespace junction::videomixer

JUNCTION_PLUGIN(junction::videomixer::VideoMixerPlugin)
