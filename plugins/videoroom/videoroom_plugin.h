#pragma once
// janus.plugin.videoroom: an SFU room plugin speaking Janus's VideoRoom API (API.md §3, §4).
// This class holds the control-plane state (rooms, which handle is who) and answers requests;
// room.h has the room model, media_router.h the forwarding on the media worker.
//   videoroom_plugin.cpp   lifecycle, request dispatch, room management (sync requests)
//   participants.cpp       joining, publishers (async requests), media callbacks
//   subscribers.cpp        subscribers: offers, renegotiation, layer and source choices
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/gateway/plugin.h"
#include "plugins/common/random_ids.h"
#include "plugins/videoroom/media_router.h"
#include "plugins/videoroom/room.h"
#include "plugins/videoroom/room_store.h"

namespace junction::videoroom {

struct HandleState {
  enum class Role { kNone, kPublisher, kSubscriber };
  Role role = Role::kNone;
  uint64_t room = 0;
  uint64_t participant = 0;  // publishers: the participant id
};

class VideoRoomPlugin final : public plugin::Plugin {
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
  uint64_t media_affinity_for(HandleId handle, const json& body) override;
  void setup_media(HandleId handle) override;
  void hangup_media(HandleId handle) override;
  void incoming_rtp(HandleId handle, const media::IncomingRtp& packet) override;
  void incoming_data(HandleId handle, const media::DataMessage& message) override;
  void incoming_keyframe_request(HandleId handle, int mindex) override;

 private:
  struct Reply {
    json data;
    json jsep = nullptr;
  };

  // Room management (videoroom_plugin.cpp).
  json sync_request(const std::string& request, const json& body);
  json create_room(const json& body);
  json destroy_room(const json& body);
  json edit_room(const json& body);
  json list_participants(const json& body);
  json kick(const json& body);
  json allowed(const json& body);
  json moderate(const json& body);
  void save_room(const RoomSettings& settings);  // into the rooms file; 499 when it cannot be written
  Room& room_of(const json& body);  // 429 / 430 / 426
  void add_room(RoomSettings settings);
  void remove_room(uint64_t id);

  // Participants (participants.cpp).
  Reply async_request(HandleId handle, const std::string& request, const json& body, const json& jsep);
  Reply join(HandleId handle, const json& body, const json& jsep);
  Reply join_publisher(HandleId handle, Room& room, const json& body);
  Reply join_subscriber(HandleId handle, Room& room, const json& body);
  Reply publish(HandleId handle, const json& body, const json& jsep);
  Reply configure(HandleId handle, const json& body, const json& jsep);
  Reply unpublish(HandleId handle);
  Reply start(HandleId handle, const json& jsep);
  Reply pause(HandleId handle);
  Reply switch_streams(HandleId handle, const json& body);
  Reply configure_subscriber(Room& room, Subscriber& subscriber, const json& body);
  Reply update_subscription(HandleId handle, const std::string& request, const json& body);  // subscribe/unsubscribe/update
  std::vector<SubscribedStream> new_streams(Room& room, Subscriber& subscriber,
                                            const std::vector<std::pair<uint64_t, std::optional<std::string>>>& wanted);
  void add_targets(Room& room, HandleId handle, const std::vector<SubscribedStream>& streams);
  json subscriber_offer(Subscriber& subscriber);
  void renegotiate(Room& room, Subscriber& subscriber);
  void feed_gone(Room& room, HandleId publisher);  // its streams go inactive for every subscriber
  Reply leave(HandleId handle);
  void stop_publishing(Room& room, Participant& participant);  // notifies `unpublished`
  void remove_participant(Room& room, uint64_t participant_id);  // notifies `leaving`
  void remove_subscriber(Room& room, HandleId handle);
  void notify_participants(Room& room, const json& event, uint64_t except_participant);
  void set_subscriber_active(Room& room, Subscriber& subscriber, bool active, bool restart);
  // Tells the room's worker which of the publisher's streams to forward (its audio/video
  // settings and the moderator's mutes).
  void apply_stream_state(Room& room, const Participant& participant);
  Room* room_of_handle(HandleId handle, HandleState** state = nullptr);

  plugin::Services* services_ = nullptr;
  std::map<uint64_t, Room> rooms_;            // control loop only
  std::map<HandleId, HandleState> handles_;  // control loop only
  MediaDirectory directory_;                  // handle -> room media, for the workers
  RoomStore store_;                           // permanent rooms
};

using plugins::random_id;
using plugins::random_ssrc;

}  // namespace junction::videoroom
