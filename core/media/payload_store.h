#pragma once
// Payload bytes shared by the send histories (RetransmissionCache) of every peer a packet was
// forwarded to. A fan-out sends one payload to N subscribers under N different headers; each
// subscriber's history keeps its own header bytes and a reference into this store, so a second
// of video history costs a media worker bitrate x 1 s once per publisher instead of once per
// subscriber (~150 kB per 1.2 Mbit/s subscriber before).
//
// Bytes are appended to 64 kB chunks front to back. A chunk is recycled once the newest bytes in
// it are older than max_age; a reference names its chunk by serial number, so a reference into a
// recycled chunk reads as gone, never as someone else's bytes. Consecutive identical payloads (one
// packet forwarded to many) are stored once: put() compares with the last payload it stored.
// One store per media worker, used on that worker's thread only.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <vector>

namespace junction::media {

class PayloadStore {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kChunkSize = 64 * 1024;

  struct Ref {
    uint64_t chunk = 0;  // serial number; 0: nothing stored
    uint32_t offset = 0;
    uint32_t size = 0;
  };

  explicit PayloadStore(std::chrono::milliseconds max_age = std::chrono::milliseconds(1000));

  // Stores `bytes` (or finds them: the same bytes as the last put) and says where. Empty or
  // larger than a chunk: not stored, an empty Ref.
  Ref put(std::span<const uint8_t> bytes, Clock::time_point now);
  // The bytes a Ref names, or empty once their chunk was recycled.
  std::span<const uint8_t> get(const Ref& ref) const;

  // Chunks holding bytes (the store's memory is this x kChunkSize, plus at most kMaxSpare).
  size_t chunks() const { return chunks_.size(); }
  uint64_t stored() const { return stored_; }  // put() calls that copied bytes
  uint64_t shared() const { return shared_; }  // put() calls answered with the last payload

 private:
  struct Chunk {
    std::unique_ptr<uint8_t[]> bytes;
    uint32_t used = 0;
    Clock::time_point newest;
  };
  static constexpr size_t kMaxSpare = 2;  // recycled chunks kept for reuse, beyond: freed

  std::chrono::milliseconds max_age_;
  std::deque<Chunk> chunks_;  // serials first_serial_, first_serial_ + 1, ...
  uint64_t first_serial_ = 1;
  std::vector<std::unique_ptr<uint8_t[]>> spare_;
  Ref last_;
  uint64_t stored_ = 0, shared_ = 0;

  void start_chunk(Clock::time_point now);
};

}  // namespace junction::media
