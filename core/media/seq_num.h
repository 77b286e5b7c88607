#pragma once
// RTP sequence number arithmetic (16 bits, wrapping; RFC 3550 §A.1) and unwrapping into a
// monotonic 64-bit count for code that needs to compare across wraps.
#include <cstdint>
#include <optional>

namespace junction::media {

// True when `a` comes after `b` in sequence order (the shorter way round the 16-bit circle).
constexpr bool seq_newer(uint16_t a, uint16_t b) {
  return a != b && static_cast<uint16_t>(a - b) < 0x8000;
}
// Signed distance from `b` to `a` in [-32768, 32767].
constexpr int seq_delta(uint16_t a, uint16_t b) { return static_cast<int16_t>(static_cast<uint16_t>(a - b)); }

// Turns 16-bit sequence numbers into 64-bit ones. Packets may arrive late or reordered: each is
// placed relative to the newest seen so far, within half the circle.
class SeqUnwrapper {
 public:
  int64_t unwrap(uint16_t seq);
  std::optional<int64_t> last() const { return last_; }

 private:
  std::optional<int64_t> last_;
};

}  // namespace junction::media
