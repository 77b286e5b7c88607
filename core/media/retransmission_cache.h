#pragma once
// Send-side store of recently sent RTP packets, answering NACKs (RFC 4585 §6.2.1) with the bytes
// to retransmit (as is, or wrapped in RTX by the caller).
//
// Packets are copied back to back into a byte ring, found through `capacity` index slots picked
// by the sequence number. The ring starts over from its beginning once the packet there is older
// than max_age (or the end is reached), so the memory a stream touches follows its bitrate x
// max_age (~150 kB for 1.2 Mbit/s and 1 s) instead of capacity x the largest packet: a fan-out
// keeps one cache per subscriber, and fixed 1500-byte slots made it ~770 kB each. The ring is
// allocated once (capacity x kMaxPacket bytes of address space, left untouched beyond what is
// used). One cache per sending SSRC, owned by its stream, used on one worker thread.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace junction::media {

class RetransmissionCache {
 public:
  static constexpr size_t kMaxPacket = 1500;

  // `capacity` (index slots: packets findable at most) is rounded up to a power of two (at most
  // 65536) so that slots stay a whole fraction of the 16-bit sequence space and a wrap never
  // evicts a recent packet early.
  explicit RetransmissionCache(size_t capacity = 1024,
                               std::chrono::milliseconds max_age = std::chrono::milliseconds(1000));

  // Copies `packet` (the plain RTP bytes as sent, before SRTP) under `seq`. Packets larger than
  // kMaxPacket or empty are not stored (counted in dropped()).
  void store(std::span<const uint8_t> packet, uint16_t seq,
             std::chrono::steady_clock::time_point now);
  // The stored bytes for `seq`, or empty if never stored, overwritten, or older than max_age.
  // The span is valid until the next store() into the same slot.
  std::span<const uint8_t> find(uint16_t seq, std::chrono::steady_clock::time_point now) const;

  size_t capacity() const { return slots_.size(); }
  uint64_t dropped() const { return dropped_; }
  // The most of the ring ever used: the bytes of memory the cache really touched.
  size_t footprint() const { return footprint_; }
  void clear();

 private:
  struct Slot {
    std::chrono::steady_clock::time_point stored_at;
    uint32_t offset = 0;  // in the ring
    uint32_t lap = 0;     // which pass over the ring wrote it (0: empty)
    uint16_t seq = 0;
    uint16_t size = 0;
  };

  std::vector<Slot> slots_;
  std::unique_ptr<uint8_t[]> ring_;
  uint32_t ring_size_;
  uint32_t head_ = 0;  // where the next packet goes in the current lap
  uint32_t lap_ = 1;
  std::chrono::steady_clock::time_point lap_started_;
  std::chrono::milliseconds max_age_;
  uint64_t dropped_ = 0;
  size_t footprint_ = 0;

  void next_lap();
};

}  // namespace junction::media
