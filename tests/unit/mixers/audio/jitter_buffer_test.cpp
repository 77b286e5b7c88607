#include "mixers/audio/jitter_buffer.h"

#include <gtest/gtest.h>

#include <vector>

namespace junction::mixers {
namespace {

using Result = JitterBuffer::Result;

void push(JitterBuffer& jb, uint16_t seq) {
  uint8_t payload[3] = {static_cast<uint8_t>(seq), static_cast<uint8_t>(seq >> 8), 0x42};
  jb.push(seq, seq * 960u, payload);
}

// What successive pops give: the sequence number played, -seq-1 for a concealed loss, or empty.
std::vector<int> drain(JitterBuffer& jb, int pops) {
  std::vector<int> out;
  JitterBuffer::Packet p;
  for (int i = 0; i < pops; ++i) {
    Result r = jb.pop(p);
    if (r == Result::kEmpty) break;
    if (r == Result::kPacket) {
      EXPECT_EQ(p.size, 3u);
      EXPECT_EQ(p.payload[0], static_cast<uint8_t>(p.seq));
      out.push_back(p.seq);
    } else {
      out.push_back(-static_cast<int>(p.seq) - 1);
    }
  }
  return out;
}

TEST(JitterBuffer, WaitsForPrefillThenPlaysInOrder) {
  JitterBuffer jb({.prefill = 2, .max_depth = 12});
  JitterBuffer::Packet p;
  push(jb, 100);
  EXPECT_EQ(jb.pop(p), Result::kEmpty);  // one packet is not enough to start
  push(jb, 101);
  push(jb, 102);
  EXPECT_EQ(drain(jb, 10), (std::vector<int>{100, 101, 102}));
}

TEST(JitterBuffer, ReordersPackets) {
  JitterBuffer jb({.prefill = 3, .max_depth = 12});
  for (uint16_t s : {12, 10, 11, 14, 13}) push(jb, s);
  EXPECT_EQ(drain(jb, 10), (std::vector<int>{10, 11, 12, 13, 14}));
}

TEST(JitterBuffer, ReportsALossWhenLaterPacketsWait) {
  JitterBuffer jb({.prefill = 2, .max_depth = 12});
  for (uint16_t s : {1, 2, 4, 5}) push(jb, s);
  EXPECT_EQ(drain(jb, 10), (std::vector<int>{1, 2, -4, 4, 5}));
  EXPECT_EQ(jb.stats().lost, 1u);
}

TEST(JitterBuffer, DropsLateAndDuplicatePackets) {
  JitterBuffer jb({.prefill = 2, .max_depth = 12});
  push(jb, 7);
  push(jb, 8);
  EXPECT_EQ(drain(jb, 1), (std::vector<int>{7}));
  uint8_t payload[3] = {7, 0, 0x42};
  EXPECT_FALSE(jb.push(7, 0, payload));  // already played
  uint8_t dup[3] = {8, 0, 0x42};
  EXPECT_FALSE(jb.push(8, 0, dup));      // already buffered
  EXPECT_EQ(jb.stats().late, 1u);
  EXPECT_EQ(jb.stats().duplicate, 1u);
  EXPECT_EQ(drain(jb, 5), (std::vector<int>{8}));
}

TEST(JitterBuffer, WrapsAroundTheSequenceSpace) {
  JitterBuffer jb({.prefill = 2, .max_depth = 12});
  for (uint16_t s : {65534, 0, 65535, 1}) push(jb, s);
  EXPECT_EQ(drain(jb, 10), (std::vector<int>{65534, 65535, 0, 1}));
}

TEST(JitterBuffer, UnderrunStartsOverWithAFreshPrefill) {
  JitterBuffer jb({.prefill = 2, .max_depth = 12});
  push(jb, 1);
  push(jb, 2);
  EXPECT_EQ(drain(jb, 5), (std::vector<int>{1, 2}));
  EXPECT_EQ(jb.stats().underruns, 1u);
  // The sender comes back much later (it was muted): no concealment of the whole gap.
  push(jb, 300);
  JitterBuffer::Packet p;
  EXPECT_EQ(jb.pop(p), Result::kEmpty);
  push(jb, 301);
  EXPECT_EQ(drain(jb, 5), (std::vector<int>{300, 301}));
}

TEST(JitterBuffer, SkipsTheOldestWhenTooDeep) {
  JitterBuffer jb({.prefill = 2, .max_depth = 4});
  for (uint16_t s = 0; s < 8; ++s) push(jb, s);
  std::vector<int> played = drain(jb, 10);
  EXPECT_EQ(played.front(), 4);  // 0..3 were skipped to bring the depth down to 4
  EXPECT_EQ(played.back(), 7);
  EXPECT_EQ(jb.stats().skipped, 4u);
}

TEST(JitterBuffer, RefusesOversizePayloads) {
  JitterBuffer jb;
  std::vector<uint8_t> big(JitterBuffer::kMaxPayload + 1, 0);
  EXPECT_FALSE(jb.push(1, 0, big));
  EXPECT_EQ(jb.depth(), 0u);
}

TEST(JitterBuffer, KeepsTheAudioLevel) {
  JitterBuffer jb({.prefill = 1, .max_depth = 12});
  uint8_t payload[1] = {1};
  jb.push(5, 0, payload, uint8_t{30});
  JitterBuffer::Packet p;
  ASSERT_EQ(jb.pop(p), Result::kPacket);
  ASSERT_TRUE(p.level_dbov.has_value());
  EXPECT_EQ(*p.level_dbov, 30);
}

}  // namespace
}  // namespace junction::mixers
