#include "mixers/audio/jitter_buffer.h"

#include <algorithm>

namespace junction::mixers {

bool JitterBuffer::push(uint16_t seq, uint32_t timestamp, std::span<const uint8_t> payload,
                        std::optional<uint8_t> level_dbov) {
  std::lock_guard lock(mutex_);
  if (payload.size() > kMaxPayload) {
    ++stats_.oversize;
    return false;
  }
  auto clear = [this] {
    used_.fill(false);
    count_ = 0;
    playing_ = false;
  };
  if (playing_) {
    int16_t d = distance(next_seq_, seq);
    if (d < 0) {
      ++stats_.late;
      return false;
    }
    if (d >= static_cast<int16_t>(kSlots)) clear();  // a jump (new sender state): start over
  } else if (count_ > 0) {
    int16_t d = distance(lowest_, seq);
    if (d >= static_cast<int16_t>(kSlots / 2) || d <= -static_cast<int16_t>(kSlots / 2)) clear();
  }
  if (!playing_ && (count_ == 0 || distance(lowest_, seq) < 0)) lowest_ = seq;
  size_t slot = seq % kSlots;
  Packet& p = slots_[slot];
  if (used_[slot]) {
    if (p.seq == seq) {
      ++stats_.duplicate;
      return false;
    }
  } else {
    used_[slot] = true;
    ++count_;
  }
  p.seq = seq;
  p.timestamp = timestamp;
  p.level_dbov = level_dbov;
  p.size = payload.size();
  std::copy(payload.begin(), payload.end(), p.payload.begin());
  ++stats_.pushed;
  return true;
}

JitterBuffer::Result JitterBuffer::pop(Packet& out) {
  std::lock_guard lock(mutex_);
  if (!playing_) {
    if (count_ == 0 || count_ < static_cast<size_t>(std::max(config_.prefill, 1))) return Result::kEmpty;
    playing_ = true;
    next_seq_ = lowest_;
  }
  if (count_ == 0) {
    playing_ = false;
    ++stats_.underruns;
    return Result::kEmpty;
  }
  // Too far behind the sender: skip the oldest so the delay comes back down.
  while (count_ > static_cast<size_t>(std::max(config_.max_depth, 1))) {
    size_t slot = next_seq_ % kSlots;
    if (used_[slot] && slots_[slot].seq == next_seq_) {
      used_[slot] = false;
      --count_;
    }
    ++next_seq_;
    ++stats_.skipped;
  }
  size_t slot = next_seq_ % kSlots;
  Packet& p = slots_[slot];
  if (used_[slot] && p.seq == next_seq_) {
    out.seq = p.seq;
    out.timestamp = p.timestamp;
    out.level_dbov = p.level_dbov;
    out.size = p.size;
    std::copy_n(p.payload.begin(), p.size, out.payload.begin());
    used_[slot] = false;
    --count_;
    ++next_seq_;
    ++stats_.played;
    return Result::kPacket;
  }
  out.seq = next_seq_++;
  out.size = 0;
  out.level_dbov.reset();
  ++stats_.lost;
  return Result::kLost;
}

void JitterBuffer::reset() {
  std::lock_guard lock(mutex_);
  used_.fill(false);
  count_ = 0;
  playing_ = false;
}

size_t JitterBuffer::depth() const {
  std::lock_guard lock(mutex_);
  return count_locked();
}

JitterBuffer::Stats JitterBuffer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace junction::mixers
