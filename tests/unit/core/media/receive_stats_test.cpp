#include "core/media/receive_stats.h"

#include <gtest/gtest.h>

#include <initializer_list>

namespace junction::media {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Feeds seqs at 20 ms spacing with matching 90 kHz timestamps (seq * 1800).
void feed(ReceiveStats& stats, std::initializer_list<uint16_t> seqs, Clock::time_point& now) {
  for (uint16_t s : seqs) {
    stats.on_packet(s, static_cast<uint32_t>(s) * 1800, now);
    now += 20ms;
  }
}

TEST(ReceiveStats, FractionAndCumulativeLossWithDuplicates) {
  ReceiveStats stats(90000);
  Clock::time_point now{};
  // 3 and 7 lost, 5 duplicated: 10 expected, 9 received (RFC 3550 counts the duplicate).
  feed(stats, {0, 1, 2, 4, 5, 5, 6, 8, 9}, now);
  EXPECT_EQ(stats.packets_received(), 9u);
  EXPECT_EQ(stats.packets_lost(), 1);
  ReportBlock b = stats.make_report_block(0x42, now);
  EXPECT_EQ(b.ssrc, 0x42u);
  EXPECT_EQ(b.cumulative_lost, 1);
  EXPECT_EQ(b.fraction_lost, 25);  // 1/10 * 256, rounded down
  EXPECT_EQ(b.highest_seq, 9u);

  // Next interval: 12 lost of 10..19.
  feed(stats, {10, 11, 13, 14, 15, 16, 17, 18, 19}, now);
  b = stats.make_report_block(0x42, now);
  EXPECT_EQ(b.fraction_lost, 25);
  EXPECT_EQ(b.cumulative_lost, 2);

  // Nothing arrives: nothing expected, nothing lost in the interval.
  b = stats.make_report_block(0x42, now);
  EXPECT_EQ(b.fraction_lost, 0);
  EXPECT_EQ(b.cumulative_lost, 2);

  // 12 turns up late with 20..23: more received than expected in this interval.
  feed(stats, {20, 21, 12, 22, 23}, now);
  b = stats.make_report_block(0x42, now);
  EXPECT_EQ(b.fraction_lost, 0);
  EXPECT_EQ(b.cumulative_lost, 1);
  EXPECT_EQ(b.highest_seq, 23u);
}

TEST(ReceiveStats, FractionWithoutDuplicates) {
  ReceiveStats stats(48000);
  Clock::time_point now{};
  feed(stats, {100, 101, 103, 104, 106, 108, 109, 110, 112, 113, 114, 115, 116, 118, 119}, now);
  ReportBlock b = stats.make_report_block(1, now);
  EXPECT_EQ(b.cumulative_lost, 5);  // 102, 105, 107, 111, 117
  EXPECT_EQ(b.fraction_lost, 64);   // 5/20
}

TEST(ReceiveStats, HeavyLoss) {
  ReceiveStats stats(90000);
  Clock::time_point now{};
  feed(stats, {0}, now);
  stats.make_report_block(1, now);
  feed(stats, {10}, now);  // 1..9 lost, 10 received: 9/10
  EXPECT_EQ(stats.make_report_block(1, now).fraction_lost, 230);
}

TEST(ReceiveStats, ExtendedHighestSequenceAcrossTheWrap) {
  ReceiveStats stats(90000);
  Clock::time_point now{};
  feed(stats, {65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3, 4, 5}, now);
  ReportBlock b = stats.make_report_block(1, now);
  EXPECT_EQ(b.highest_seq, 0x00010005u);
  EXPECT_EQ(b.cumulative_lost, 0);
  EXPECT_EQ(b.fraction_lost, 0);
}

TEST(ReceiveStats, LargeJumpRestartsOnlyWhenConfirmed) {
  ReceiveStats stats(90000);
  Clock::time_point now{};
  feed(stats, {100, 101, 102}, now);
  feed(stats, {50000}, now);  // a stray: held back, not counted
  EXPECT_EQ(stats.packets_received(), 3u);
  feed(stats, {103}, now);
  EXPECT_EQ(stats.packets_lost(), 0);
  feed(stats, {40000, 40001}, now);  // the sender restarted at 40000
  EXPECT_EQ(stats.packets_received(), 1u);
  EXPECT_EQ(stats.extended_highest_seq(), 40001u);
  EXPECT_EQ(stats.packets_lost(), 0);
}

TEST(ReceiveStats, JitterZeroAtConstantRateAndGrowsWithNoise) {
  ReceiveStats steady(90000);
  Clock::time_point now{};
  for (uint16_t i = 0; i < 100; ++i) {
    steady.on_packet(i, 1000u + i * 1800u, now);
    now += 20ms;
  }
  EXPECT_EQ(steady.make_report_block(1, now).jitter, 0u);

  // Every other packet 5 ms late: each transit difference is 450 units, so jitter tends to 450.
  ReceiveStats noisy(90000);
  Clock::time_point base{};
  uint32_t previous = 0;
  for (uint16_t i = 0; i < 100; ++i) {
    auto arrival = base + i * 20ms + (i % 2 ? 5ms : 0ms);
    noisy.on_packet(i, 0xFFFF0000u + i * 1800u, arrival);  // timestamps wrap on the way
    if (i > 1) {
      EXPECT_GE(noisy.jitter(), previous);
    }
    previous = noisy.jitter();
  }
  uint32_t jitter = noisy.make_report_block(1, base + 2s).jitter;
  EXPECT_GT(jitter, 400u);
  EXPECT_LE(jitter, 450u);
}

TEST(ReceiveStats, LsrAndDlsr) {
  ReceiveStats stats(90000);
  Clock::time_point now{};
  ReportBlock b = stats.make_report_block(7, now);  // nothing yet
  EXPECT_EQ(b.ssrc, 7u);
  EXPECT_EQ(b.lsr, 0u);
  EXPECT_EQ(b.dlsr, 0u);
  EXPECT_EQ(b.highest_seq, 0u);

  feed(stats, {1, 2, 3}, now);
  stats.on_sender_report(0x12345678'9ABCDEF0ULL, now);
  b = stats.make_report_block(7, now + 500ms);
  EXPECT_EQ(b.lsr, 0x56789ABCu);
  EXPECT_EQ(b.dlsr, 32768u);  // half a second in 1/65536 s
  b = stats.make_report_block(7, now + 2s);
  EXPECT_EQ(b.dlsr, 2u * 65536);
}

}  // namespace
}  // namespace junction::media
