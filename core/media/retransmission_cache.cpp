#include "core/media/retransmission_cache.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace junction::media {
namespace {

size_t slot_count(size_t capacity) {
  if (capacity < 1) capacity = 1;
  if (capacity > 65536) capacity = 65536;
  return std::bit_ceil(capacity);
}

}  // namespace

RetransmissionCache::RetransmissionCache(size_t capacity, std::chrono::milliseconds max_age, PayloadStore* shared)
    : capacity_(slot_count(capacity)),
      slots_(std::min(capacity_, kInitialSlots)),
      ring_(std::make_unique_for_overwrite<uint8_t[]>(capacity_ * kMaxPacket)),
      ring_size_(static_cast<uint32_t>(capacity_ * kMaxPacket)),
      max_age_(max_age),
      shared_(shared) {}

void RetransmissionCache::store(std::span<const uint8_t> packet, uint16_t seq,
                                std::chrono::steady_clock::time_point now, size_t own) {
  if (packet.empty() || packet.size() > kMaxPacket) {
    ++dropped_;
    return;
  }
  PayloadStore::Ref rest;
  if (shared_ && own < packet.size()) {
    rest = shared_->put(packet.subspan(own), now);
    if (rest.size != 0) packet = packet.first(own);
  }
  const auto size = static_cast<uint32_t>(packet.size());
  // Start a new lap once this one began max_age ago: the bytes at the start of the ring are
  // then too old to be asked for, and the ring never grows past what max_age needs.
  if (head_ > 0 && (head_ + size > ring_size_ || now - lap_started_ > max_age_)) next_lap();
  if (head_ == 0) lap_started_ = now;
  std::memcpy(&ring_[head_], packet.data(), size);
  // The slot belongs to a packet still within max_age: grow rather than forget it early.
  while (slots_.size() < capacity_) {
    const Slot& taken = slots_[seq & (slots_.size() - 1)];
    if (taken.lap == 0 || taken.seq == seq || now - taken.stored_at > max_age_ || !holds_packet(taken)) break;
    grow();
  }
  slots_[seq & (slots_.size() - 1)] = Slot{now, head_, lap_, seq, static_cast<uint16_t>(size), rest};
  head_ += size;
  footprint_ = std::max<size_t>(footprint_, head_);
}

void RetransmissionCache::next_lap() {
  head_ = 0;
  if (++lap_ == 0) {  // 2^32 laps later: lap numbers restart, so nothing older may match
    for (Slot& slot : slots_) slot = Slot{};
    lap_ = 1;
  }
}

bool RetransmissionCache::holds_packet(const Slot& slot) const {
  return slot.lap == lap_ || (slot.lap + 1 == lap_ && slot.offset >= head_);
}

void RetransmissionCache::grow() {
  // A slot at i holds a seq with seq % n == i; in 2n slots it goes to i or i + n, so no two
  // slots collide.
  std::vector<Slot> grown(slots_.size() * 2);
  for (const Slot& slot : slots_)
    if (slot.lap != 0) grown[slot.seq & (grown.size() - 1)] = slot;
  slots_ = std::move(grown);
}

size_t RetransmissionCache::find(uint16_t seq, std::chrono::steady_clock::time_point now,
                                 std::span<uint8_t> out) const {
  const Slot& slot = slots_[seq & (slots_.size() - 1)];
  if (slot.lap == 0 || slot.seq != seq) return 0;
  if (now - slot.stored_at > max_age_) return 0;
  // Written in this lap, or in the previous one beyond where this lap has written so far.
  if (!holds_packet(slot)) return 0;
  std::span<const uint8_t> rest;
  if (slot.shared.size != 0) {
    rest = shared_->get(slot.shared);
    if (rest.empty()) return 0;
  }
  if (size_t{slot.size} + rest.size() > out.size()) return 0;
  std::memcpy(out.data(), &ring_[slot.offset], slot.size);
  if (!rest.empty()) std::memcpy(out.data() + slot.size, rest.data(), rest.size());
  return slot.size + rest.size();
}

void RetransmissionCache::clear() {
  for (Slot& slot : slots_) slot = Slot{};
  next_lap();
}

}  // namespace junction::media
