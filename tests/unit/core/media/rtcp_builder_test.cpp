#include "core/media/rtcp_builder.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "core/media/rtcp_packet.h"

namespace junction::media {
namespace {

using Bytes = std::vector<uint8_t>;

// Parses `out[0..n)` as a compound of exactly one packet.
RtcpHeader single(const std::array<uint8_t, 1500>& out, size_t n) {
  std::span<const uint8_t> bytes(out.data(), n);
  auto compound = RtcpCompound::parse(bytes);
  EXPECT_TRUE(compound);
  EXPECT_EQ(compound->packet_count(), 1u);
  return *compound->begin();
}

TEST(RtcpBuilder, SenderReportRoundTrips) {
  SenderReport sr{.ssrc = 0x01020304,
                  .ntp = 0xE1234567'89ABCDEFULL,
                  .rtp_timestamp = 90000,
                  .packet_count = 42,
                  .octet_count = 4200};
  ASSERT_TRUE(sr.add({.ssrc = 7,
                      .fraction_lost = 25,
                      .cumulative_lost = -3,
                      .highest_seq = 0x10005,
                      .jitter = 12,
                      .lsr = 0xAABBCCDD,
                      .dlsr = 65536}));
  ASSERT_TRUE(sr.add({.ssrc = 8, .cumulative_lost = 0x7FFFFF}));
  std::array<uint8_t, 1500> out{};
  size_t n = build_sr(out, sr);
  ASSERT_EQ(n, 28u + 2 * 24);
  auto back = parse_sr(single(out, n));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->ssrc, sr.ssrc);
  EXPECT_EQ(back->ntp, sr.ntp);
  EXPECT_EQ(back->rtp_timestamp, 90000u);
  EXPECT_EQ(back->packet_count, 42u);
  EXPECT_EQ(back->octet_count, 4200u);
  ASSERT_EQ(back->report_blocks().size(), 2u);
  const ReportBlock& a = back->report_blocks()[0];
  EXPECT_EQ(a.ssrc, 7u);
  EXPECT_EQ(a.fraction_lost, 25);
  EXPECT_EQ(a.cumulative_lost, -3);
  EXPECT_EQ(a.highest_seq, 0x10005u);
  EXPECT_EQ(a.jitter, 12u);
  EXPECT_EQ(a.lsr, 0xAABBCCDDu);
  EXPECT_EQ(a.dlsr, 65536u);
  EXPECT_EQ(back->report_blocks()[1].cumulative_lost, 0x7FFFFF);

  EXPECT_EQ(build_sr(std::span<uint8_t>(out.data(), n - 1), sr), 0u);
}

TEST(RtcpBuilder, ReceiverReportClampsCumulativeLoss) {
  ReceiverReport rr{.ssrc = 99};
  rr.add({.ssrc = 1, .cumulative_lost = -10'000'000});
  std::array<uint8_t, 1500> out{};
  size_t n = build_rr(out, rr);
  ASSERT_EQ(n, 32u);
  auto back = parse_rr(single(out, n));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->ssrc, 99u);
  ASSERT_EQ(back->report_blocks().size(), 1u);
  EXPECT_EQ(back->report_blocks()[0].cumulative_lost, -0x800000);

  ReceiverReport empty{.ssrc = 5};
  EXPECT_EQ(build_rr(out, empty), 8u);
  EXPECT_EQ(build_rr(std::span<uint8_t>(out.data(), 7), empty), 0u);

  for (size_t i = 0; i < kMaxReportBlocks; ++i) EXPECT_TRUE(empty.add({}));
  EXPECT_FALSE(empty.add({}));
}

TEST(RtcpBuilder, SdesCnameAndByeInACompound) {
  std::array<uint8_t, 1500> out{};
  ReceiverReport rr{.ssrc = 0x1234};
  size_t n = build_rr(out, rr);
  for (std::string cname : {"", "a", "abc", "abcd", "0123456789abcdef"}) {
    size_t s = build_sdes_cname(std::span<uint8_t>(out).subspan(n), 0x1234, cname);
    ASSERT_NE(s, 0u);
    EXPECT_EQ(s % 4, 0u);
    size_t b = build_bye(std::span<uint8_t>(out).subspan(n + s), 0x1234);
    ASSERT_EQ(b, 8u);
    auto compound = RtcpCompound::parse(std::span<const uint8_t>(out.data(), n + s + b));
    ASSERT_TRUE(compound);
    ASSERT_EQ(compound->packet_count(), 3u);
    auto it = compound->begin();
    ++it;
    auto sdes = parse_sdes(*it);
    ASSERT_TRUE(sdes);
    ASSERT_EQ(sdes->items().size(), 1u);
    EXPECT_EQ(sdes->items()[0].ssrc, 0x1234u);
    EXPECT_EQ(sdes->items()[0].cname, cname);
    ++it;
    auto bye = parse_bye(*it);
    ASSERT_TRUE(bye);
    ASSERT_EQ(bye->sources().size(), 1u);
    EXPECT_EQ(bye->sources()[0], 0x1234u);
  }
  // "abcd": 8 + 2 + 4 = 14, plus a terminator, rounded to 16 bytes.
  EXPECT_EQ(build_sdes_cname(out, 1, "abcd"), 16u);
  EXPECT_EQ(build_sdes_cname(std::span<uint8_t>(out.data(), 15), 1, "abcd"), 0u);
  EXPECT_EQ(build_sdes_cname(out, 1, std::string(256, 'x')), 0u);
  EXPECT_EQ(build_bye(std::span<uint8_t>(out.data(), 7), 1), 0u);
}

TEST(RtcpBuilder, NackPacksGapsAndWraps) {
  const std::vector<uint16_t> lost = {65534, 65535, 0, 2, 20, 40};
  std::array<uint8_t, 1500> out{};
  size_t n = build_nack(out, 0xA, 0xB, lost);
  // Items: 65534 + {65535, 0, 2}; 20; 40.
  ASSERT_EQ(n, 12u + 3 * 4);
  EXPECT_EQ(out[12], 0xFF);
  EXPECT_EQ(out[13], 0xFE);
  EXPECT_EQ(out[14], 0x00);
  EXPECT_EQ(out[15], 0x0B);  // bits 0, 1, 3
  auto nack = parse_nack(single(out, n));
  ASSERT_TRUE(nack);
  EXPECT_EQ(nack->sender_ssrc, 0xAu);
  EXPECT_EQ(nack->media_ssrc, 0xBu);
  std::vector<uint16_t> back;
  nack->for_each_lost([&](uint16_t s) { back.push_back(s); });
  EXPECT_EQ(back, lost);

  // 17 consecutive fit in one item; the 18th starts another.
  std::vector<uint16_t> run;
  for (uint16_t s = 100; s < 118; ++s) run.push_back(s);
  EXPECT_EQ(build_nack(out, 1, 2, run), 12u + 2 * 4);
  nack = parse_nack(single(out, 20));
  std::vector<uint16_t> run_back(18);
  EXPECT_EQ(nack->lost(run_back), 18u);
  EXPECT_EQ(run_back, run);

  EXPECT_EQ(build_nack(out, 1, 2, {}), 0u);
  EXPECT_EQ(build_nack(std::span<uint8_t>(out.data(), 23), 0xA, 0xB, lost), 0u);
}

TEST(RtcpBuilder, PliAndFir) {
  std::array<uint8_t, 1500> out{};
  size_t n = build_pli(out, 1, 2);
  ASSERT_EQ(n, 12u);
  auto pli = parse_pli(single(out, n));
  ASSERT_TRUE(pli);
  EXPECT_EQ(pli->sender_ssrc, 1u);
  EXPECT_EQ(pli->media_ssrc, 2u);
  EXPECT_EQ(build_pli(std::span<uint8_t>(out.data(), 11), 1, 2), 0u);

  n = build_fir(out, 1, 0xDEADBEEF, 200);
  ASSERT_EQ(n, 20u);
  auto fir = parse_fir(single(out, n));
  ASSERT_TRUE(fir);
  EXPECT_EQ(fir->media_ssrc, 0u);
  ASSERT_EQ(fir->entry_count(), 1u);
  EXPECT_EQ(fir->entry(0).ssrc, 0xDEADBEEFu);
  EXPECT_EQ(fir->entry(0).seq_nr, 200);
  EXPECT_EQ(build_fir(std::span<uint8_t>(out.data(), 19), 1, 2, 3), 0u);
}

TEST(RtcpBuilder, RembMantissaAndExponent) {
  std::array<uint8_t, 1500> out{};
  const std::array<uint32_t, 2> ssrcs{0x11, 0x22};
  size_t n = build_remb(out, 7, 1'500'000, ssrcs);
  ASSERT_EQ(n, 28u);
  EXPECT_EQ(out[16], 2);     // Num SSRC
  EXPECT_EQ(out[17], 0x0E);  // exp 3 in the top six bits, mantissa 0x2DC6C below
  EXPECT_EQ(out[18], 0xDC);
  EXPECT_EQ(out[19], 0x6C);
  auto remb = parse_remb(single(out, n));
  ASSERT_TRUE(remb);
  EXPECT_EQ(remb->sender_ssrc, 7u);
  EXPECT_EQ(remb->bitrate_bps, 1'500'000u);
  ASSERT_EQ(remb->ssrc_count(), 2u);
  EXPECT_EQ(remb->ssrc(0), 0x11u);

  // Small values are exact; large ones round down by less than one part in 2^17.
  for (uint64_t bps : {0ULL, 1ULL, 262'143ULL, 262'144ULL, 2'500'001ULL, 10'000'000'000ULL}) {
    n = build_remb(out, 1, bps, {});
    ASSERT_EQ(n, 20u);
    uint64_t back = parse_remb(single(out, n))->bitrate_bps;
    EXPECT_LE(back, bps);
    EXPECT_GE(back, bps - bps / (1 << 17));
    if (bps <= 262'144) {
      EXPECT_EQ(back, bps);
    }
  }
  EXPECT_EQ(build_remb(std::span<uint8_t>(out.data(), 27), 7, 1, ssrcs), 0u);
  std::vector<uint32_t> too_many(256, 1);
  EXPECT_EQ(build_remb(out, 7, 1, too_many), 0u);
}

}  // namespace
}  // namespace junction::media
