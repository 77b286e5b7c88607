#pragma once
// Talking detection as Janus's AudioBridge does it: the RFC 6464 levels (-dBov, 0 loudest) of
// `active_packets` consecutive packets are averaged; a participant whose average is louder than
// `level_average` (a smaller number) is talking, otherwise not. The state is decided once per
// window, so an event fires at most every `active_packets` packets.
#include <cstdint>

namespace junction::mixers {

class TalkDetector {
 public:
  TalkDetector(int active_packets = 100, int level_average = 25)
      : active_packets_(active_packets < 1 ? 1 : active_packets), level_average_(level_average) {}

  // One packet's level. True when this packet closed a window and the state changed.
  bool add(uint8_t level_dbov) {
    sum_ += level_dbov;
    if (++count_ < active_packets_) return false;
    last_average_ = static_cast<int>(sum_ / count_);
    sum_ = 0;
    count_ = 0;
    bool now = last_average_ < level_average_;
    bool changed = now != talking_;
    talking_ = now;
    return changed;
  }
  void reset() {
    sum_ = 0;
    count_ = 0;
    talking_ = false;
  }

  bool talking() const { return talking_; }
  int last_average() const { return last_average_; }  // dBov of the last window (positive)

 private:
  int active_packets_;
  int level_average_;
  int64_t sum_ = 0;
  int count_ = 0;
  bool talking_ = false;
  int last_average_ = 127;
};

}  // namespace junction::mixers
