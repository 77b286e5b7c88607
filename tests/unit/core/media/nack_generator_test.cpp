#include "core/media/nack_generator.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace junction::media {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::vector<uint16_t> due(NackGenerator& g, Clock::time_point now,
                          std::chrono::milliseconds rtt = 100ms) {
  std::array<uint16_t, 64> out{};
  size_t n = g.due(now, rtt, out);
  return std::vector<uint16_t>(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
}

TEST(NackGenerator, DetectsGaps) {
  NackGenerator g;
  Clock::time_point t0{};
  g.on_packet(1, t0);
  g.on_packet(2, t0);
  EXPECT_EQ(g.missing_count(), 0u);
  g.on_packet(5, t0);
  EXPECT_EQ(g.missing_count(), 2u);
  EXPECT_EQ(due(g, t0), (std::vector<uint16_t>{3, 4}));
  EXPECT_TRUE(due(g, t0 + 1ms).empty());  // just sent
}

TEST(NackGenerator, ReorderedOrLateArrivalClears) {
  NackGenerator g;
  Clock::time_point t0{};
  g.on_packet(10, t0);
  g.on_packet(14, t0);
  g.on_packet(12, t0);  // reordered, before any NACK
  EXPECT_EQ(due(g, t0), (std::vector<uint16_t>{11, 13}));
  g.on_packet(11, t0 + 30ms);  // the retransmission
  EXPECT_EQ(g.missing_count(), 1u);
  EXPECT_EQ(due(g, t0 + 200ms), (std::vector<uint16_t>{13}));
  g.on_packet(14, t0 + 210ms);  // duplicate of the newest: nothing changes
  g.on_packet(10, t0 + 210ms);  // duplicate of an old one
  EXPECT_EQ(g.missing_count(), 1u);
}

TEST(NackGenerator, RetriesSpacedByRtt) {
  NackGenerator g;
  Clock::time_point t0{};
  g.on_packet(1, t0);
  g.on_packet(3, t0);
  EXPECT_EQ(due(g, t0, 100ms), (std::vector<uint16_t>{2}));
  EXPECT_TRUE(due(g, t0 + 99ms, 100ms).empty());
  EXPECT_EQ(due(g, t0 + 100ms, 100ms), (std::vector<uint16_t>{2}));
  // A small rtt is floored at 20 ms.
  EXPECT_TRUE(due(g, t0 + 110ms, 5ms).empty());
  EXPECT_EQ(due(g, t0 + 120ms, 5ms), (std::vector<uint16_t>{2}));
}

TEST(NackGenerator, GivesUpAfterMaxRetries) {
  NackGenerator g;
  Clock::time_point t0{};
  g.on_packet(1, t0);
  g.on_packet(3, t0);
  int sent = 0;
  for (int i = 0; i < 40; ++i) sent += static_cast<int>(due(g, t0 + i * 20ms, 20ms).size());
  EXPECT_EQ(sent, 10);
  EXPECT_EQ(g.missing_count(), 0u);
  EXPECT_EQ(g.given_up(), 1u);
}

TEST(NackGenerator, GivesUpAfterOneSecond) {
  NackGenerator g;
  Clock::time_point t0{};
  g.on_packet(1, t0);
  g.on_packet(3, t0);
  EXPECT_EQ(due(g, t0, 600ms).size(), 1u);
  EXPECT_EQ(g.missing_count(), 1u);
  EXPECT_EQ(due(g, t0 + 1000ms, 600ms).size(), 1u);  // still within the second
  EXPECT_TRUE(due(g, t0 + 1001ms, 1ms).empty());
  EXPECT_EQ(g.missing_count(), 0u);
}

TEST(NackGenerator, WrapsAt65535) {
  NackGenerator g;
  Clock::time_point t0{};
  g.on_packet(65533, t0);
  g.on_packet(65535, t0);
  g.on_packet(2, t0);
  EXPECT_EQ(due(g, t0), (std::vector<uint16_t>{65534, 0, 1}));
  g.on_packet(0, t0 + 5ms);
  EXPECT_EQ(g.missing_count(), 2u);
}

TEST(NackGenerator, BigForwardJumpResets) {
  NackGenerator g;
  Clock::time_point t0{};
  g.on_packet(1, t0);
  g.on_packet(5, t0);
  EXPECT_EQ(g.missing_count(), 3u);
  g.on_packet(3000, t0);
  EXPECT_EQ(g.missing_count(), 0u);
  EXPECT_EQ(g.resets(), 1u);
  g.on_packet(3002, t0);  // tracking continues from the new place
  EXPECT_EQ(due(g, t0), (std::vector<uint16_t>{3001}));
  // A jump of exactly the limit is still a gap (1000 ahead: 999 missing).
  NackGenerator h;
  h.on_packet(0, t0);
  h.on_packet(1000, t0);
  EXPECT_EQ(h.missing_count(), 999u);
  EXPECT_EQ(h.resets(), 0u);
}

TEST(NackGenerator, StalePacketIgnoredUnlessTheSenderRestarted) {
  NackGenerator g;
  Clock::time_point t0{};
  g.on_packet(5000, t0);
  g.on_packet(5002, t0);
  g.on_packet(100, t0);  // far behind: ignored
  EXPECT_EQ(g.missing_count(), 1u);
  EXPECT_EQ(g.resets(), 0u);
  g.on_packet(101, t0);  // and followed: the sender restarted from there
  EXPECT_EQ(g.resets(), 1u);
  EXPECT_EQ(g.missing_count(), 0u);
  g.on_packet(103, t0);
  EXPECT_EQ(due(g, t0), (std::vector<uint16_t>{102}));
}

TEST(NackGenerator, BoundedListAndOutput) {
  NackOptions options;
  options.max_missing = 10;
  NackGenerator g(options);
  Clock::time_point t0{};
  g.on_packet(0, t0);
  g.on_packet(51, t0);  // 50 missing, only the newest 10 kept
  EXPECT_EQ(g.missing_count(), 10u);
  std::array<uint16_t, 4> out{};
  EXPECT_EQ(g.due(t0, 100ms, out), 4u);
  EXPECT_EQ(out[0], 41);
  EXPECT_EQ(out[3], 44);
  // The rest were not sent and stay due.
  EXPECT_EQ(due(g, t0 + 1ms), (std::vector<uint16_t>{45, 46, 47, 48, 49, 50}));
  // More gaps evict the oldest.
  g.on_packet(54, t0);
  EXPECT_EQ(g.missing_count(), 10u);
  EXPECT_EQ(due(g, t0 + 200ms).front(), 43);
}

}  // namespace
}  // namespace junction::media
