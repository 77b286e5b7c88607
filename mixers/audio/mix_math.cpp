#include "mixers/audio/mix_math.h"

#include <algorithm>
#include <cmath>

namespace junction::mixers {
namespace {

int16_t clamp16(int64_t v) { return static_cast<int16_t>(std::clamp<int64_t>(v, INT16_MIN, INT16_MAX)); }

template <typename T>
uint8_t level_of(std::span<const T> frame) {
  if (frame.empty()) return 127;
  double energy = 0;
  for (T s : frame) {
    double v = std::clamp<double>(s, INT16_MIN, INT16_MAX);
    energy += v * v;
  }
  double rms = std::sqrt(energy / static_cast<double>(frame.size()));
  if (rms < 1e-9) return 127;
  double dbov = 20.0 * std::log10(rms / 32768.0);
  return static_cast<uint8_t>(std::clamp(std::lround(-dbov), 0L, 127L));
}

}  // namespace

void scale(std::span<const int16_t> in, int volume_percent, std::span<int32_t> out) {
  size_t n = std::min(in.size(), out.size());
  if (volume_percent == 100) {
    for (size_t i = 0; i < n; ++i) out[i] = in[i];
    return;
  }
  for (size_t i = 0; i < n; ++i) out[i] = in[i] * volume_percent / 100;
}

void accumulate(std::span<int32_t> sum, std::span<const int32_t> add) {
  size_t n = std::min(sum.size(), add.size());
  for (size_t i = 0; i < n; ++i) sum[i] += add[i];
}

void saturate(std::span<const int32_t> in, std::span<int16_t> out) {
  size_t n = std::min(in.size(), out.size());
  for (size_t i = 0; i < n; ++i) out[i] = clamp16(in[i]);
}

void mix_minus(std::span<const int32_t> sum, std::span<const int32_t> own, std::span<int16_t> out) {
  size_t n = std::min({sum.size(), own.size(), out.size()});
  for (size_t i = 0; i < n; ++i) out[i] = clamp16(int64_t{sum[i]} - own[i]);
}

uint8_t level_dbov(std::span<const int16_t> frame) { return level_of(frame); }
uint8_t level_dbov(std::span<const int32_t> frame) { return level_of(frame); }

}  // namespace junction::mixers
