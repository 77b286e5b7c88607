#include "core/media/retransmission_cache.h"

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

RetransmissionCache::RetransmissionCache(size_t capacity, std::chrono::milliseconds max_age)
    : slots_(slot_count(capacity)),
      data_(std::make_unique_for_overwrite<uint8_t[]>(slots_.size() * kMaxPacket)),
      max_age_(max_age) {}

void RetransmissionCache::store(std::span<const uint8_t> packet, uint16_t seq,
                                std::chrono::steady_clock::time_point now) {
  if (packet.empty() || packet.size() > kMaxPacket) {
    ++dropped_;
    return;
  }
  size_t index = seq & (slots_.size() - 1);
  Slot& slot = slots_[index];
  std::memcpy(&data_[index * kMaxPacket], packet.data(), packet.size());
  slot.stored_at = now;
  slot.seq = seq;
  slot.size = static_cast<uint16_t>(packet.size());
}

std::span<const uint8_t> RetransmissionCache::find(
    uint16_t seq, std::chrono::steady_clock::time_point now) const {
  size_t index = seq & (slots_.size() - 1);
  const Slot& slot = slots_[index];
  if (slot.size == 0 || slot.seq != seq) return {};
  if (now - slot.stored_at > max_age_) return {};
  return {&data_[index * kMaxPacket], slot.size};
}

void RetransmissionCache::clear() {
  for (Slot& slot : slots_) slot = Slot{};
}

}  // namespace junction::media
