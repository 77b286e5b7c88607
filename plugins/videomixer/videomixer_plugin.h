#pragma once
// junction.plugin.videomixer: a video MCU (README.md has the API). Each participant sends one
// video and one audio stream and receives one composite picture (mixers/video) and one mix-minus
// (mixers/audio) on one PeerConnection.
//   videomixer_plugin.cpp   lifecycle, request dispatch, room management (sync requests), sinks
//   participants.cpp        join, configure, leave; the SDP answer; events; media callbacks
//   room.{h,cpp}            room settings, participants and their JSON views
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/gateway/plugin.h"
#include "plugins/common/random_ids.h"
#include "plugins/common/route_table.h"
#include "plugins/videomixer/room.h"

namespace junction::videomixer {

struct HandleState {
  uint64_t room = 0;  // 0: not in a room
  uint64_t participant = 0;
  // Negotiated with this handle's peer (an answered offer); -1: no such m-line.
  int audio_mindex = -1, video_mindex = -1;
  uint8_t audio_pt = 111, video_pt = 96;
  mixers::VideoCodec video_codec = mixers::VideoCodec::kVp8;  // both ways
  uint32_t audio_ssrc = 0, video_ssrc = 0;
  int level_ext_id = 0;
};

// What the media workers and the mixer threads need of a handle.
struct Route {
  std::shared_ptr<mixers::MixerParticipant> audio;
  std::shared_ptr<mixers::VideoParticipant> video;
  int audio_mindex = -1, video_mindex = -1;
  int audio_pt = -1, video_pt = -1;
  int level_ext_id = 0;
};
using Routes = plugins::RouteTable<Route>;

class VideoMixerPlugin final : public plugin::Plugin {
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
  void incoming_keyframe_request(HandleId handle, int mindex) override;
  void incoming_remb(HandleId handle, uint64_t bitrate_bps) override;

 private:
  struct Reply {
    json data;
    json jsep = nullptr;
  };

  // Room management (videomixer_plugin.cpp).
  json sync_request(const std::string& request, const json& body);
  json create_room(const json& body);
  json destroy_room(const json& body);
  Room& room_of(const json& body);  // 523 / 524 / 525
  Room& add_room(RoomSettings settings);  // throws RequestError 529
  void remove_room(uint64_t id);
  void check_speakers();  // timer: layout events when a room's active speaker changed

  // Participants (participants.cpp).
  Reply async_request(HandleId handle, const std::string& request, const json& body, const json& jsep);
  Reply join(HandleId handle, const json& body, const json& jsep);
  Reply configure(HandleId handle, const json& body, const json& jsep);
  Reply leave(HandleId handle);
  void remove_participant(Room& room, uint64_t id, bool notify_leaving);
  void notify(Room& room, const json& event, uint64_t except = 0);
  void announce(Room& room, const Participant& p);  // {"participants":[p]} to the others
  void send_layouts(Room& room);                     // everyone's `layout`
  void layouts_after_reply(uint64_t room, HandleId only);
  json answer_offer(HandleId handle, HandleState& state, const json& jsep);
  void refresh_route(HandleId handle);
  Room* room_of_handle(HandleId handle, HandleState** state = nullptr);

  plugin::Services* services_ = nullptr;
  std::map<uint64_t, Room> rooms_;             // control loop only
  std::map<HandleId, HandleState> handles_;   // control loop only
  Routes routes_;                              // for the media workers and mixer threads
  plugin::TimerId speaker_timer_ = 0;
};

using plugins::random_id;
using plugins::random_ssrc;

}  // namespace junction::videomixer
