#pragma once
// janus.plugin.audiobridge: an audio MCU speaking Janus's AudioBridge API (API.md §3). Each
// participant sends one Opus stream and receives one mix of everyone else.
//   audiobridge_plugin.cpp   lifecycle, request dispatch, room management (sync requests)
//   participants.cpp         join, configure, changeroom, leave; events; media callbacks
//   room.{h,cpp}             room settings, participants and their JSON views
//   media_routes.{h,cpp}     handle -> mixer participant for the media workers; mixer -> workers
// The mixing itself (jitter buffers, decode, mix-minus with a shared encode, the 20 ms thread) is
// mixers/audio, which knows nothing of plugins.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/gateway/plugin.h"
#include "plugins/common/random_ids.h"
#include "plugins/audiobridge/media_routes.h"
#include "plugins/audiobridge/room.h"

namespace junction::audiobridge {

struct HandleState {
  uint64_t room = 0;         // 0: not in a room
  uint64_t participant = 0;
  // Negotiated with this handle's peer (configure with an offer).
  int mindex = -1;
  uint8_t payload_type = 111;
  uint32_t ssrc = 0;
  int level_ext_id = 0;
};

class AudioBridgePlugin final : public plugin::Plugin {
 public:
  plugin::Info info() const override;
  void init(plugin::Services& services, const json& settings) override;
  void shutdown() override;
  void create_session(HandleId handle) override;
  plugin::MessageResult handle_message(HandleId handle, const std::string& transaction, const json& body,
                                       const json& jsep) override;
  void destroy_session(HandleId handle) override;
  json query_session(HandleId handle) override;
  json handle_admin_message(const json& request) override;
  std::vector<plugin::Metric> metrics() override;

  uint64_t media_affinity(HandleId handle) override;
  void setup_media(HandleId handle) override;
  void hangup_media(HandleId handle) override;
  void incoming_rtp(HandleId handle, const media::IncomingRtp& packet) override;

 private:
  struct Reply {
    json data;
    json jsep = nullptr;
  };

  // Room management (audiobridge_plugin.cpp).
  json sync_request(const std::string& request, const json& body);
  json create_room(const json& body);
  json edit_room(const json& body);
  json destroy_room(const json& body);
  json allowed(const json& body);
  json kick(const json& body, bool all);
  json mute(const json& body, bool muted);
  json mute_room(const json& body, bool muted);
  json list_participants(const json& body);
  json enable_recording(const json& body);
  void set_recording(Room& room, bool on);  // throws RequestError 499 if the file cannot be made
  Room& room_of(const json& body);  // 483 / 484 / 485
  void check_secret(const Room& room, const json& body) const;  // 487
  Room& add_room(RoomSettings settings);
  void remove_room(uint64_t id);

  // Participants (participants.cpp).
  Reply async_request(HandleId handle, const std::string& request, const json& body, const json& jsep);
  Reply join(HandleId handle, const json& body, const json& jsep);
  Reply configure(HandleId handle, const json& body, const json& jsep);
  Reply changeroom(HandleId handle, const json& body);
  Reply leave(HandleId handle);
  Participant& enter(Room& room, HandleId handle, const json& body, std::optional<mixers::RtpState> rtp);
  void remove_participant(Room& room, uint64_t id, bool notify_leaving);
  void notify(Room& room, const json& event, uint64_t except = 0);
  // The others (and with `to_self` the participant too) get {"participants": [p]}.
  void announce(Room& room, const Participant& p, bool to_self = false);
  json answer_offer(HandleId handle, HandleState& state, const json& jsep);
  void refresh_route(HandleId handle);
  Room* room_of_handle(HandleId handle, HandleState** state = nullptr);

  plugin::Services* services_ = nullptr;
  std::map<uint64_t, Room> rooms_;             // control loop only
  std::map<HandleId, HandleState> handles_;   // control loop only
  MediaRoutes routes_;                          // for the media workers and mixer threads
  mixers::AudioMixer::Stats retired_;           // what destroyed rooms' mixers counted
};

using plugins::random_id;
using plugins::random_ssrc;

}  // namespace junction::audiobridge
