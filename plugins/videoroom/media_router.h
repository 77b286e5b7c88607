#pragma once
// The media side of a room: who forwards to whom, run on the room's media worker.
//
// Every handle of a room has the room id as its media affinity, so all of the room's
// PeerConnections live on one worker and the routing tables below are only ever touched by that
// worker: forwarding takes no lock. The control loop changes the tables by posting commands;
// the worker applies them before it handles its next media call (one atomic load per packet
// when nothing changed).
//
// A media callback names only a handle; the worker finds the handle's room in a per-thread cache
// filled from a mutex-guarded directory on a miss, and refreshed whenever the directory loses an
// entry (a handle left its room), so the steady state takes no lock either.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/gateway/plugin.h"
#include "plugins/videoroom/forwarder.h"
#include "plugins/videoroom/layer_filter.h"

namespace junction::videoroom {

using plugin::HandleId;
using Clock = std::chrono::steady_clock;

struct Target {  // one subscriber m-line fed by a publisher stream
  HandleId subscriber = 0;
  int mindex = 0;
  bool active = false;  // started and not paused
  Forwarder forwarder;
  LayerFilter layers;   // simulcast sources: which layer this subscriber gets
};

// Talking detection on a publisher's audio (RFC 6464 levels, as Janus's audiolevel_event): every
// Routes::talking.packets packets, the average level (in -dBov: lower is louder) decides.
struct TalkingDetector {
  uint8_t extension_id = 0;  // the audio-level extension's id; 0: the stream does not carry it
  uint32_t sum = 0, count = 0;
  bool talking = false;
  // Shared with the control loop's StreamInfo, which shows it in `publishers` lists.
  std::shared_ptr<std::atomic<bool>> shown;
};

struct PublisherStreamRoute {
  int mindex = 0;
  std::string mid;
  bool video = false;
  VideoCodec codec = VideoCodec::kNone;
  // Simulcast: when each layer last arrived (LayerFilter's view of which layers are alive).
  std::array<Clock::time_point, LayerFilter::kMaxSubstreams> layer_seen{};
  TalkingDetector level;
  bool enabled = true;  // configure audio/video
  bool keyframe_wanted = false;
  Clock::time_point last_keyframe_request{};
  std::vector<Target> targets;
};

struct PublisherRoute {
  uint64_t participant_id = 0;
  std::vector<PublisherStreamRoute> streams;  // by publisher mindex (unused slots stay empty)
  uint64_t remb_bitrate = 0;
  bool remb_due = true;
  Clock::time_point last_remb{};
};

struct SubscriberRoute {
  struct Source {
    HandleId publisher = 0;
    int publisher_mindex = -1;
  };
  std::vector<Source> by_mindex;  // the source of each of the subscriber's m-lines
};

struct Routes {
  std::unordered_map<HandleId, PublisherRoute> publishers;
  std::unordered_map<HandleId, SubscriberRoute> subscribers;
  uint64_t fir_freq_seconds = 0;
  struct {
    bool enabled = false;    // the room's audiolevel_event
    uint32_t packets = 100;  // audio_active_packets
    uint32_t threshold = 25; // audio_level_average (-dBov)
  } talking;
  std::vector<HandleId> participants;  // who hears talking events (every publisher handle in the room)
  // Helpers for commands.
  PublisherStreamRoute* stream(HandleId publisher, int mindex);
  void remove_targets_of(HandleId subscriber);
  // Moves the subscriber's m-line `mindex` to another publisher stream, keeping its forwarder
  // (so the numbering it sees stays continuous); `fallback` serves when the old source is gone.
  void move_target(HandleId subscriber, int mindex, HandleId publisher, int publisher_mindex, Forwarder fallback,
                   bool active);
  Target* target(HandleId subscriber, int mindex);  // the target feeding that m-line, or null
  void remove_target(HandleId subscriber, int mindex);  // the m-line gets nothing any more
};

class RoomMedia {
 public:
  explicit RoomMedia(uint64_t room_id) : room_id_(room_id) {}
  uint64_t room_id() const { return room_id_; }

  // Control loop: queue a change for the worker. Thread-safe.
  void post(std::function<void(Routes&)> command);
  void close() { closed_ = true; }
  bool closed() const { return closed_; }

  // Media worker.
  void on_rtp(plugin::Services& services, HandleId handle, const media::IncomingRtp& packet);
  void on_keyframe_request(plugin::Services& services, HandleId subscriber, int mindex);
  // A publisher's data channel message goes to every subscriber of that publisher.
  void on_data(plugin::Services& services, HandleId publisher, const media::DataMessage& message);
  bool knows(HandleId handle);  // the handle has a route here (after applying pending commands)

 private:
  void apply_pending();
  void request_keyframe(plugin::Services& services, HandleId publisher, PublisherStreamRoute& stream, Clock::time_point now);
  void detect_talking(plugin::Services& services, const PublisherRoute& publisher, PublisherStreamRoute& stream,
                      const media::RtpPacket& rtp);
  // Simulcast: whether `target` gets this packet; tells the subscriber when its layer changed.
  bool pass_layers(plugin::Services& services, Target& target, PublisherStreamRoute& stream,
                   const media::IncomingRtp& packet, const LayerFilter::Packet& info, Clock::time_point now);

  const uint64_t room_id_;
  std::atomic<bool> closed_{false};
  std::mutex mutex_;  // guards pending_
  std::vector<std::function<void(Routes&)>> pending_;
  std::atomic<bool> has_pending_{false};
  Routes routes_;                           // media worker only
  std::array<uint8_t, 1600> scratch_{};     // media worker only: one subscriber's copy of a packet
};

// Handle -> room media, for the workers (see the top of this file).
class MediaDirectory {
 public:
  void set(HandleId handle, std::shared_ptr<RoomMedia> media);  // control loop
  void erase(HandleId handle);                                  // control loop
  void clear();
  // Media worker: the handle's room media, or null.
  std::shared_ptr<RoomMedia> find(HandleId handle);

 private:
  std::mutex mutex_;
  std::unordered_map<HandleId, std::shared_ptr<RoomMedia>> map_;
  std::atomic<uint64_t> version_{1};
};

}  // namespace junction::videoroom
