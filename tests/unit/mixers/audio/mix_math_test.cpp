#include "mixers/audio/mix_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "mixers/audio/talk_detector.h"

namespace junction::mixers {
namespace {

TEST(MixMath, SumsSaturateInsteadOfWrapping) {
  std::vector<int16_t> a(4, 30000), b(4, 30000), c(4, -32768);
  std::vector<int32_t> ca(4), cb(4), cc(4), sum(4, 0);
  scale(a, 100, ca);
  scale(b, 100, cb);
  accumulate(sum, ca);
  accumulate(sum, cb);
  std::vector<int16_t> out(4);
  saturate(sum, out);
  EXPECT_EQ(out[0], 32767);  // 60000 clipped, not wrapped to a negative value
  scale(c, 100, cc);
  std::vector<int32_t> neg(4, 0);
  accumulate(neg, cc);
  accumulate(neg, cc);
  saturate(neg, out);
  EXPECT_EQ(out[0], -32768);
}

TEST(MixMath, MixMinusRemovesOnlyTheOwnContribution) {
  std::vector<int16_t> a = {1000, -2000, 3000}, b = {10, 20, 30};
  std::vector<int32_t> ca(3), cb(3), sum(3, 0);
  scale(a, 100, ca);
  scale(b, 100, cb);
  accumulate(sum, ca);
  accumulate(sum, cb);
  std::vector<int16_t> out(3);
  mix_minus(sum, ca, out);
  EXPECT_EQ(out, b);
  // The 16-bit sum of two loud participants saturates, but each one's mix-minus is exact: it is
  // taken from the 32-bit sum.
  std::vector<int16_t> loud(3, 32000);
  std::vector<int32_t> cl(3), big(3, 0);
  scale(loud, 100, cl);
  accumulate(big, cl);
  accumulate(big, cl);
  accumulate(big, cb);
  saturate(big, out);
  EXPECT_EQ(out[0], 32767);
  mix_minus(big, cl, out);
  EXPECT_EQ(out[0], 32000 + 10);
  mix_minus(big, cb, out);
  EXPECT_EQ(out[0], 32767);  // the other two together still clip
}

TEST(MixMath, VolumeScalesInPercent) {
  std::vector<int16_t> in = {1000, -1000};
  std::vector<int32_t> out(2);
  scale(in, 50, out);
  EXPECT_EQ(out[0], 500);
  EXPECT_EQ(out[1], -500);
  scale(in, 0, out);
  EXPECT_EQ(out[0], 0);
  scale(in, 200, out);
  EXPECT_EQ(out[0], 2000);
}

TEST(MixMath, LevelsFollowRfc6464) {
  std::vector<int16_t> silence(320, 0), sine(320);
  for (size_t i = 0; i < sine.size(); ++i) sine[i] = static_cast<int16_t>(32767 * std::sin(2 * M_PI * 1000 * i / 16000.0));
  EXPECT_EQ(level_dbov(silence), 127);
  EXPECT_EQ(level_dbov(sine), 3);  // a full-scale sine's RMS is 3 dB below full scale
  for (auto& s : sine) s = static_cast<int16_t>(s / 100);
  EXPECT_EQ(level_dbov(sine), 43);
}

TEST(TalkDetector, DecidesOncePerWindow) {
  TalkDetector d(5, 25);
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(d.add(10));
  EXPECT_TRUE(d.add(10));  // window full, average 10 < 25: talking
  EXPECT_TRUE(d.talking());
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(d.add(127));
  EXPECT_TRUE(d.add(127));
  EXPECT_FALSE(d.talking());
  EXPECT_EQ(d.last_average(), 127);
}

}  // namespace
}  // namespace junction::mixers
