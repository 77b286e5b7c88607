#pragma once
// Per-participant jitter buffer of an audio mixer: the media worker pushes RTP payloads as they
// arrive, the mixer thread pops one per 20 ms tick in sequence order.
//
// Fixed storage (kSlots payload slots indexed by sequence number), so a push copies into a slot
// and never allocates. One small mutex per buffer: the only contention is between the participant's
// own media worker and the room's mixer thread, each holding it for a copy of one payload.
//
// Playout: nothing plays until `prefill` packets are buffered (absorbs arrival jitter). Then each
// pop returns the next sequence number: the packet, or kLost when it is missing but later ones are
// there (the caller conceals it), or kEmpty when nothing is buffered (an underrun: the sender
// paused, muted or stalled; playout starts over with a fresh prefill). A packet older than the
// playout point is late and dropped. When more than `max_depth` packets wait, the oldest are
// skipped so latency stays bounded.
#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>

namespace junction::mixers {

class JitterBuffer {
 public:
  static constexpr size_t kSlots = 64;
  static constexpr size_t kMaxPayload = 1500;

  struct Config {
    int prefill = 2;     // packets buffered before playout starts
    int max_depth = 12;  // packets; beyond it the oldest are skipped
  };

  struct Packet {
    uint16_t seq = 0;
    uint32_t timestamp = 0;
    std::optional<uint8_t> level_dbov;  // RFC 6464 level (0 loudest .. 127 silence), if sent
    size_t size = 0;
    std::array<uint8_t, kMaxPayload> payload{};
    std::span<const uint8_t> bytes() const { return {payload.data(), size}; }
  };

  enum class Result { kPacket, kLost, kEmpty };

  struct Stats {
    uint64_t pushed = 0, played = 0, lost = 0, late = 0, duplicate = 0, skipped = 0, underruns = 0,
             oversize = 0;
  };

  JitterBuffer() : JitterBuffer(Config{}) {}
  explicit JitterBuffer(Config config) : config_(config) {}
  JitterBuffer(const JitterBuffer&) = delete;
  JitterBuffer& operator=(const JitterBuffer&) = delete;

  // Media worker. Returns false if the packet was dropped (late, duplicate, too big).
  bool push(uint16_t seq, uint32_t timestamp, std::span<const uint8_t> payload,
            std::optional<uint8_t> level_dbov = std::nullopt);
  // Mixer thread. With kPacket, `out` holds the packet; with kLost, `out.seq` is the missing one.
  Result pop(Packet& out);
  // Drops everything and waits for a new prefill (e.g. the participant changed rooms).
  void reset();

  size_t depth() const;  // packets buffered
  Stats stats() const;

 private:
  size_t count_locked() const { return count_; }
  int16_t distance(uint16_t from, uint16_t to) const { return static_cast<int16_t>(to - from); }

  const Config config_;
  mutable std::mutex mutex_;
  std::array<Packet, kSlots> slots_{};
  std::array<bool, kSlots> used_{};
  size_t count_ = 0;
  bool playing_ = false;
  uint16_t next_seq_ = 0;  // playing_: the next sequence number to play
  uint16_t lowest_ = 0;    // !playing_ && count_ > 0: the oldest buffered sequence number
  Stats stats_;
};

}  // namespace junction::mixers
