#pragma once
// Send-side store of recently sent RTP packets, answering NACKs (RFC 4585 §6.2.1) with the bytes
// to retransmit (as is, or wrapped in RTX by the caller).
//
// Packets are copied back to back into a byte ring, found through `capacity` index slots picked
// by the sequence number. The ring starts over from its beginning once the packet there is older
// than max_age (or the end is reached), so the memory a stream touches follows its bitrate x
// max_age instead of capacity x the largest packet. The ring is allocated once (capacity x
// kMaxPacket bytes of address space, left untouched beyond what is used).
//
// The index grows the same way: it starts at kInitialSlots and doubles (up to `capacity`) only
// when a packet would take the slot of one still younger than max_age, so it holds what max_age
// needs at the stream's packet rate (128 slots for 110 packets/s) instead of always `capacity`:
// a 512-slot index was 20 kB per video subscriber, most of it never findable within max_age.
// It grows a few times in a stream's first second, never per packet afterwards.
//
// With a PayloadStore (the media worker's), the caller says where a packet's own bytes end (its
// header, the payload descriptor a forwarder may have rewritten) and the rest, the same for every
// subscriber of a fan-out, goes to the shared store: the ring then holds ~40 bytes per packet
// (~5 kB per second of 1.2 Mbit/s video instead of ~150 kB). One cache per sending SSRC, owned by
// its stream, used on its worker's thread.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/media/payload_store.h"

namespace junction::media {

class RetransmissionCache {
 public:
  static constexpr size_t kMaxPacket = 1500;
  static constexpr size_t kInitialSlots = 64;

  // `capacity` (index slots at most: packets findable at most) is rounded up to a power of two (at most
  // 65536) so that slots stay a whole fraction of the 16-bit sequence space and a wrap never
  // evicts a recent packet early.
  // `shared` (may be null: everything in the ring) must outlive the cache and keep bytes at
  // least max_age.
  explicit RetransmissionCache(size_t capacity = 1024,
                               std::chrono::milliseconds max_age = std::chrono::milliseconds(1000),
                               PayloadStore* shared = nullptr);

  // Copies `packet` (the plain RTP bytes as sent, before SRTP) under `seq`: its first `own`
  // bytes into the ring, the rest into the shared store (all of it into the ring without one).
  // Packets larger than kMaxPacket or empty are not stored (counted in dropped()).
  void store(std::span<const uint8_t> packet, uint16_t seq, std::chrono::steady_clock::time_point now,
             size_t own = kMaxPacket);
  // Copies the stored bytes for `seq` into `out` and returns their size; 0 if never stored,
  // overwritten, older than max_age, gone from the shared store, or larger than `out`.
  size_t find(uint16_t seq, std::chrono::steady_clock::time_point now, std::span<uint8_t> out) const;

  size_t capacity() const { return capacity_; }
  size_t slots() const { return slots_.size(); }  // the index as grown so far (<= capacity)
  uint64_t dropped() const { return dropped_; }
  // The most of the ring ever used: the bytes of memory the cache itself really touched.
  size_t footprint() const { return footprint_; }
  void clear();

 private:
  struct Slot {
    std::chrono::steady_clock::time_point stored_at;
    uint32_t offset = 0;  // in the ring
    uint32_t lap = 0;     // which pass over the ring wrote it (0: empty)
    uint16_t seq = 0;
    uint16_t size = 0;  // in the ring
    PayloadStore::Ref shared;  // the rest of the packet
  };

  size_t capacity_;
  std::vector<Slot> slots_;
  std::unique_ptr<uint8_t[]> ring_;
  uint32_t ring_size_;
  uint32_t head_ = 0;  // where the next packet goes in the current lap
  uint32_t lap_ = 1;
  std::chrono::steady_clock::time_point lap_started_;
  std::chrono::milliseconds max_age_;
  PayloadStore* shared_;
  uint64_t dropped_ = 0;
  size_t footprint_ = 0;

  void next_lap();
  bool holds_packet(const Slot& slot) const;  // written in this lap or intact from the last one
  void grow();                                // doubles the index, every slot kept
};

}  // namespace junction::media
