#pragma once
// Which packets of a simulcast publisher stream one subscriber gets (media worker only, no
// allocation). A subscriber asks for a substream (0 = lowest quality) and a temporal layer; it
// gets the highest substream at or below the one asked for that is still arriving (a layer
// that sent nothing for `fallback` is taken as stopped), or the lowest arriving one above it.
// Switching to another substream waits for a keyframe on it (the caller asks the publisher for
// one while `wants_keyframe()`), so the subscriber's decoder never sees a delta frame of a stream
// it has not started; until then the current layer keeps flowing. Temporal layers (VP8 TID) are
// filtered at frame starts only: going down drops higher layers from the next frame on, going
// up waits for a layer-sync (Y) frame or a keyframe.
#include <array>
#include <chrono>
#include <cstdint>
#include <utility>

namespace junction::videoroom {

class LayerFilter {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kMaxSubstreams = 4;

  struct Packet {
    int substream = 0;         // the layer this packet belongs to
    bool keyframe = false;     // the packet starts a keyframe
    bool frame_start = false;  // the packet starts a frame
    int temporal_id = -1;      // VP8 TID, -1 when absent
    bool layer_sync = false;   // VP8 Y bit
  };
  enum class Verdict {
    kForward,
    kOtherLayer,    // not the layer being sent: no trace in the subscriber's numbering
    kDropTemporal,  // a packet of the sent layer filtered out: the numbering must skip it
  };

  // substream/temporal: what the subscriber asked for; fallback: how long a silent layer counts
  // as arriving.
  void set_target(int substream, int temporal) {
    target_substream_ = substream;
    target_temporal_ = temporal;
  }
  void set_fallback(std::chrono::microseconds fallback) { fallback_ = fallback; }
  int target_substream() const { return target_substream_; }
  int target_temporal() const { return target_temporal_; }

  // `last_seen`: when each substream of the publisher stream last arrived (this packet's
  // included). Decides for one packet.
  Verdict on_packet(const Packet& packet, const std::array<Clock::time_point, kMaxSubstreams>& last_seen,
                    Clock::time_point now);

  int current_substream() const { return current_substream_; }  // -1 before the first switch
  int current_temporal() const { return current_temporal_; }
  bool wants_keyframe() const { return wanted_ != current_substream_ && wanted_ >= 0; }
  // True once after each change of the sent substream or temporal layer (for the event).
  bool take_substream_change() { return std::exchange(substream_changed_, false); }
  bool take_temporal_change() { return std::exchange(temporal_changed_, false); }

 private:
  int choose(const std::array<Clock::time_point, kMaxSubstreams>& last_seen, Clock::time_point now) const;

  int target_substream_ = 2, target_temporal_ = 2;  // Janus's defaults: the best there is
  std::chrono::microseconds fallback_{250000};
  int current_substream_ = -1, current_temporal_ = -1;
  int wanted_ = -1;
  bool substream_changed_ = false, temporal_changed_ = false;
};

}  // namespace junction::videoroom
