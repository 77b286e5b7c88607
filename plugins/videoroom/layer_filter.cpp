#include "plugins/videoroom/layer_filter.h"

#include <utility>

namespace junction::videoroom {

int LayerFilter::choose(const std::array<Clock::time_point, kMaxSubstreams>& last_seen, Clock::time_point now) const {
  auto arriving = [&](int s) { return last_seen[static_cast<size_t>(s)] != Clock::time_point{} &&
                                      now - last_seen[static_cast<size_t>(s)] <= fallback_; };
  int target = target_substream_ < 0 ? 0 : target_substream_ >= kMaxSubstreams ? kMaxSubstreams - 1 : target_substream_;
  for (int s = target; s >= 0; --s)
    if (arriving(s)) return s;
  for (int s = target + 1; s < kMaxSubstreams; ++s)
    if (arriving(s)) return s;
  return -1;
}

LayerFilter::Verdict LayerFilter::on_packet(const Packet& packet,
                                            const std::array<Clock::time_point, kMaxSubstreams>& last_seen,
                                            Clock::time_point now) {
  wanted_ = choose(last_seen, now);
  if (packet.substream != current_substream_) {
    if (packet.substream != wanted_ || !packet.keyframe) return Verdict::kOtherLayer;
    current_substream_ = packet.substream;
    substream_changed_ = true;
    // A keyframe starts every temporal layer afresh.
    if (current_temporal_ != target_temporal_) temporal_changed_ = true;
    current_temporal_ = target_temporal_;
    return Verdict::kForward;
  }
  if (packet.temporal_id < 0) return Verdict::kForward;
  if (packet.frame_start && current_temporal_ != target_temporal_) {
    bool down = target_temporal_ < current_temporal_;
    if (down || packet.keyframe || (packet.layer_sync && packet.temporal_id <= target_temporal_)) {
      current_temporal_ = target_temporal_;
      temporal_changed_ = true;
    }
  }
  return packet.temporal_id > current_temporal_ ? Verdict::kDropTemporal : Verdict::kForward;
}

}  // namespace junction::videoroom
