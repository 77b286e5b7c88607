#include "core/media/nack_generator.h"

#include <algorithm>

#include "core/media/seq_num.h"

namespace junction::media {

NackGenerator::NackGenerator(NackOptions options) : options_(options) {
  if (options_.max_missing == 0) options_.max_missing = 1;
  missing_.reserve(options_.max_missing);
}

void NackGenerator::reset(int64_t seq) {
  given_up_ += missing_.size();
  missing_.clear();
  newest_ = seq;
  restart_candidate_.reset();
  ++resets_;
}

void NackGenerator::add_range(int64_t first, int64_t end,
                              std::chrono::steady_clock::time_point now) {
  // Never track more than max_missing: of a long gap keep the newest, then evict the oldest.
  auto cap = static_cast<int64_t>(options_.max_missing);
  first = std::max(first, end - cap);
  auto incoming = static_cast<size_t>(end - first);
  if (missing_.size() + incoming > options_.max_missing) {
    size_t evict = missing_.size() + incoming - options_.max_missing;
    given_up_ += evict;
    missing_.erase(missing_.begin(), missing_.begin() + static_cast<std::ptrdiff_t>(evict));
  }
  for (int64_t s = first; s < end; ++s) missing_.push_back(Entry{s, now, now, 0});
}

void NackGenerator::on_packet(uint16_t seq, std::chrono::steady_clock::time_point now) {
  if (!newest_) {
    newest_ = int64_t{1} << 16 | seq;
    return;
  }
  int64_t newest = *newest_;
  int64_t value = newest + seq_delta(seq, static_cast<uint16_t>(newest));
  if (value > newest) {
    restart_candidate_.reset();
    if (value - newest > options_.max_jump) {
      reset(value);
      return;
    }
    add_range(newest + 1, value, now);
    newest_ = value;
    return;
  }
  if (value == newest) return;  // duplicate of the newest
  if (newest - value > options_.max_jump) {
    if (restart_candidate_ && *restart_candidate_ == value) {
      reset(value);
    } else {
      restart_candidate_ = value + 1;
    }
    return;
  }
  // Late or reordered: no longer missing.
  auto it = std::lower_bound(missing_.begin(), missing_.end(), value,
                             [](const Entry& e, int64_t s) { return e.seq < s; });
  if (it != missing_.end() && it->seq == value) missing_.erase(it);
}

size_t NackGenerator::due(std::chrono::steady_clock::time_point now, std::chrono::milliseconds rtt,
                          std::span<uint16_t> out) {
  auto interval = std::max<std::chrono::steady_clock::duration>(rtt, options_.min_interval);
  size_t n = 0;
  auto keep = missing_.begin();
  for (auto it = missing_.begin(); it != missing_.end(); ++it) {
    Entry& e = *it;
    bool expired = now - e.detected > options_.max_age;
    bool ready = e.retries == 0 || now - e.last_sent >= interval;
    if (expired || (ready && e.retries >= options_.max_retries)) {
      ++given_up_;
      continue;
    }
    if (ready && n < out.size()) {
      out[n++] = static_cast<uint16_t>(e.seq);
      ++e.retries;
      e.last_sent = now;
    }
    *keep++ = e;
  }
  missing_.erase(keep, missing_.end());
  return n;
}

}  // namespace junction::media
