#pragma once
// Receive-side loss tracking for one RTP stream: notices gaps in the sequence numbers and says
// which ones to NACK (RFC 4585 §6.2.1) and when. Time comes from the caller (`now`), so tests
// drive it with a fake clock. One instance per received SSRC, on that stream's worker thread.
//
// Memory is reserved at construction (options.max_missing entries); on_packet() and due() never
// allocate.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace junction::media {

struct NackOptions {
  int max_retries = 10;                        // NACKs per missing packet
  std::chrono::milliseconds min_interval{20};  // retries are max(rtt, this) apart
  std::chrono::milliseconds max_age{1000};     // a missing packet is forgotten after this
  size_t max_missing = 1000;                   // tracked at once; the oldest go first
  uint16_t max_jump = 1000;                    // a bigger forward jump resets the state
};

class NackGenerator {
 public:
  NackGenerator() : NackGenerator(NackOptions{}) {}
  explicit NackGenerator(NackOptions options);

  // Every received packet (including retransmissions, once unwrapped from RTX). A gap adds the
  // seqs in between; a late arrival clears its entry; a jump of more than max_jump forward drops
  // all state (count in resets(): the caller will want a keyframe instead). A packet more than
  // max_jump behind is ignored as stale, unless the next one follows it: then the sender
  // restarted its numbering and the state is reset to it.
  void on_packet(uint16_t seq, std::chrono::steady_clock::time_point now);

  // Writes the seqs to NACK now into `out`, oldest first, and returns how many (at most
  // out.size(); the rest stay due). A missing seq is sent at most max_retries times, no more often
  // than max(rtt, min_interval), and is dropped after max_age or its last retry.
  size_t due(std::chrono::steady_clock::time_point now, std::chrono::milliseconds rtt,
             std::span<uint16_t> out);

  size_t missing_count() const { return missing_.size(); }
  uint64_t resets() const { return resets_; }
  uint64_t given_up() const { return given_up_; }  // entries dropped without the packet arriving

 private:
  struct Entry {
    int64_t seq;  // unwrapped
    std::chrono::steady_clock::time_point detected;
    std::chrono::steady_clock::time_point last_sent;
    int retries;
  };

  void reset(int64_t seq);
  void add_range(int64_t first, int64_t end, std::chrono::steady_clock::time_point now);

  NackOptions options_;
  std::vector<Entry> missing_;  // ascending seq; capacity reserved, never grown past it
  std::optional<int64_t> newest_;
  std::optional<int64_t> restart_candidate_;  // the seq after a stale packet
  uint64_t resets_ = 0;
  uint64_t given_up_ = 0;
};

}  // namespace junction::media
