#include "core/media/payload_store.h"

#include <cstring>

namespace junction::media {

PayloadStore::PayloadStore(std::chrono::milliseconds max_age) : max_age_(max_age) {}

PayloadStore::Ref PayloadStore::put(std::span<const uint8_t> bytes, Clock::time_point now) {
  if (bytes.empty() || bytes.size() > kChunkSize) return {};
  if (last_.size == bytes.size()) {
    auto previous = get(last_);
    if (!previous.empty() && std::memcmp(previous.data(), bytes.data(), bytes.size()) == 0) {
      chunks_.back().newest = now;  // the last payload is always in the newest chunk
      ++shared_;
      return last_;
    }
  }
  if (chunks_.empty() || chunks_.back().used + bytes.size() > kChunkSize) start_chunk(now);
  Chunk& chunk = chunks_.back();
  std::memcpy(chunk.bytes.get() + chunk.used, bytes.data(), bytes.size());
  last_ = Ref{first_serial_ + chunks_.size() - 1, chunk.used, static_cast<uint32_t>(bytes.size())};
  chunk.used += static_cast<uint32_t>(bytes.size());
  chunk.newest = now;
  ++stored_;
  return last_;
}

void PayloadStore::start_chunk(Clock::time_point now) {
  // Chunks whose newest bytes are older than max_age: nobody may ask for them any more.
  while (!chunks_.empty() && now - chunks_.front().newest > max_age_) {
    if (spare_.size() < kMaxSpare) spare_.push_back(std::move(chunks_.front().bytes));
    chunks_.pop_front();
    ++first_serial_;
  }
  Chunk chunk;
  if (!spare_.empty()) {
    chunk.bytes = std::move(spare_.back());
    spare_.pop_back();
  } else {
    chunk.bytes = std::make_unique_for_overwrite<uint8_t[]>(kChunkSize);
  }
  chunk.newest = now;
  chunks_.push_back(std::move(chunk));
}

std::span<const uint8_t> PayloadStore::get(const Ref& ref) const {
  if (ref.chunk < first_serial_ || ref.chunk - first_serial_ >= chunks_.size()) return {};
  const Chunk& chunk = chunks_[ref.chunk - first_serial_];
  if (ref.offset + ref.size > chunk.used) return {};
  return {chunk.bytes.get() + ref.offset, ref.size};
}

}  // namespace junction::media
