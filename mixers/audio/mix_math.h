#pragma once
// The arithmetic of mixing: 16-bit mono frames, 32-bit sums (no overflow before the final
// saturation, whatever the number of participants up to 65536 at full scale), volume in percent,
// and RFC 6464 style levels. Allocation-free; the spans of one call have equal sizes.
#include <cstdint>
#include <span>

namespace junction::mixers {

// out[i] = in[i] * volume_percent / 100 (a participant's contribution to the mix).
void scale(std::span<const int16_t> in, int volume_percent, std::span<int32_t> out);
// sum[i] += add[i]
void accumulate(std::span<int32_t> sum, std::span<const int32_t> add);
// out[i] = clamp(in[i]) to int16.
void saturate(std::span<const int32_t> in, std::span<int16_t> out);
// out[i] = clamp(sum[i] - own[i]): the mix without one participant (mix-minus).
void mix_minus(std::span<const int32_t> sum, std::span<const int32_t> own, std::span<int16_t> out);

// The RMS level of a frame as RFC 6464 writes it: -dBov, 0 (full scale) .. 127 (silence).
uint8_t level_dbov(std::span<const int16_t> frame);
uint8_t level_dbov(std::span<const int32_t> frame);

}  // namespace junction::mixers
