#include "core/media/seq_num.h"

#include <gtest/gtest.h>

namespace junction::media {
namespace {

TEST(SeqNum, NewerAcrossTheWrap) {
  EXPECT_TRUE(seq_newer(1, 0));
  EXPECT_TRUE(seq_newer(0, 65535));
  EXPECT_TRUE(seq_newer(10, 65530));
  EXPECT_FALSE(seq_newer(65530, 10));
  EXPECT_FALSE(seq_newer(5, 5));
  EXPECT_EQ(seq_delta(2, 65534), 4);
  EXPECT_EQ(seq_delta(65534, 2), -4);
}

TEST(SeqUnwrapper, CountsUpThroughWraps) {
  SeqUnwrapper u;
  int64_t first = u.unwrap(65534);
  EXPECT_EQ(u.unwrap(65535), first + 1);
  EXPECT_EQ(u.unwrap(0), first + 2);
  EXPECT_EQ(u.unwrap(1), first + 3);
  // Three full cycles, in steps of 1000.
  int64_t value = u.unwrap(1);
  uint16_t seq = 1;
  for (int i = 0; i < 200; ++i) {
    seq = static_cast<uint16_t>(seq + 1000);
    EXPECT_EQ(u.unwrap(seq), value + 1000 * (i + 1));
  }
}

TEST(SeqUnwrapper, LateAndReorderedPacketsFallBehind) {
  SeqUnwrapper u;
  int64_t a = u.unwrap(2);
  EXPECT_EQ(u.unwrap(65535), a - 3);  // from before the wrap, arriving late
  EXPECT_EQ(u.unwrap(5), a + 3);
  EXPECT_EQ(u.unwrap(4), a + 2);  // reordered: does not move the newest
  EXPECT_EQ(*u.last(), a + 3);
  EXPECT_GT(u.unwrap(65535), 0);
}

}  // namespace
}  // namespace junction::media
