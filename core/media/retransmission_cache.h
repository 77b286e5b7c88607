#pragma once
// Send-side store of recently sent RTP packets, answering NACKs (RFC 4585 §6.2.1) with the bytes
// to retransmit (as is, or wrapped in RTX by the caller).
//
// All memory is taken at construction: `capacity` slots of kMaxPacket bytes. store() copies into
// the slot picked by the sequence number; a later packet whose sequence number maps to the same
// slot overwrites it. One cache per sending SSRC, owned by its stream, used on one worker thread.
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

  // `capacity` is rounded up to a power of two (at most 65536) so that slots stay a whole
  // fraction of the 16-bit sequence space and a wrap never evicts a recent packet early.
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
  void clear();

 private:
  struct Slot {
    std::chrono::steady_clock::time_point stored_at;
    uint16_t seq = 0;
    uint16_t size = 0;  // 0: empty
  };

  std::vector<Slot> slots_;
  std::unique_ptr<uint8_t[]> data_;  // slots_.size() * kMaxPacket bytes
  std::chrono::milliseconds max_age_;
  uint64_t dropped_ = 0;
};

}  // namespace junction::media
