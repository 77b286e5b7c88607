#include "core/media/rtcp_packet.h"

#include <gtest/gtest.h>

#include <optional>
#include <tuple>
#include <vector>

namespace junction::media {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::vector<RtcpHeader> packets_of(const Bytes& b) {
  std::vector<RtcpHeader> out;
  auto compound = RtcpCompound::parse(b);
  if (compound)
    for (const RtcpHeader& h : *compound) out.push_back(h);
  return out;
}

// The single packet of `b`, which must parse as a compound of one.
RtcpHeader only_packet(const Bytes& b) {
  auto packets = packets_of(b);
  EXPECT_EQ(packets.size(), 1u);
  return packets.at(0);
}

// SR with one report block, RC=1, length 12 (52 bytes).
// clang-format off
const Bytes kSr = {
    0x81, 0xC8, 0x00, 0x0C,
    0x01, 0x02, 0x03, 0x04,                          // SSRC
    0xE0, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00,  // NTP
    0x00, 0x00, 0x10, 0x00,                          // RTP timestamp
    0x00, 0x00, 0x00, 0x0A,                          // packet count 10
    0x00, 0x00, 0x03, 0xE8,                          // octet count 1000
    0x0A, 0x0B, 0x0C, 0x0D,                          // block: SSRC
    0x40, 0xFF, 0xFF, 0xFE,                          // fraction 64/256, cumulative -2
    0x00, 0x01, 0x00, 0x05,                          // extended highest seq
    0x00, 0x00, 0x00, 0x20,                          // jitter
    0x12, 0x34, 0x56, 0x78,                          // LSR
    0x00, 0x01, 0x00, 0x00,                          // DLSR: 1 s
};
// clang-format on
// SDES, one chunk with CNAME "abc", null-terminated and padded to the word.
// clang-format off
const Bytes kSdes = {
    0x81, 0xCA, 0x00, 0x03, 0x01, 0x02, 0x03, 0x04, 0x01, 0x03, 'a', 'b', 'c', 0x00, 0x00, 0x00,
};
// clang-format on

TEST(RtcpCompound, SenderReportWithSdes) {
  Bytes b = concat({kSr, kSdes});
  auto compound = RtcpCompound::parse(b);
  ASSERT_TRUE(compound);
  EXPECT_EQ(compound->packet_count(), 2u);
  auto packets = packets_of(b);
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_EQ(packets[0].packet_type, kRtcpSr);
  EXPECT_EQ(packets[0].count_or_format, 1);
  EXPECT_EQ(packets[0].length_bytes, 52u);
  EXPECT_EQ(packets[1].packet_type, kRtcpSdes);

  auto sr = parse_sr(packets[0]);
  ASSERT_TRUE(sr);
  EXPECT_EQ(sr->ssrc, 0x01020304u);
  EXPECT_EQ(sr->ntp, 0xE000000080000000ULL);
  EXPECT_EQ(sr->rtp_timestamp, 0x1000u);
  EXPECT_EQ(sr->packet_count, 10u);
  EXPECT_EQ(sr->octet_count, 1000u);
  ASSERT_EQ(sr->report_blocks().size(), 1u);
  const ReportBlock& rb = sr->report_blocks()[0];
  EXPECT_EQ(rb.ssrc, 0x0A0B0C0Du);
  EXPECT_EQ(rb.fraction_lost, 0x40);
  EXPECT_EQ(rb.cumulative_lost, -2);
  EXPECT_EQ(rb.highest_seq, 0x00010005u);
  EXPECT_EQ(rb.jitter, 0x20u);
  EXPECT_EQ(rb.lsr, 0x12345678u);
  EXPECT_EQ(rb.dlsr, 0x00010000u);
  EXPECT_FALSE(parse_rr(packets[0]));  // wrong type

  auto sdes = parse_sdes(packets[1]);
  ASSERT_TRUE(sdes);
  ASSERT_EQ(sdes->items().size(), 1u);
  EXPECT_EQ(sdes->items()[0].ssrc, 0x01020304u);
  EXPECT_EQ(sdes->items()[0].cname, "abc");

  int visited = 0;
  compound->for_each([&](const RtcpHeader&) { ++visited; });
  EXPECT_EQ(visited, 2);
}

TEST(RtcpCompound, ReceiverReportAndSdesWithSeveralChunks) {
  const Bytes rr = {0x80, 0xC9, 0x00, 0x01, 0xCA, 0xFE, 0x00, 0x01};
  auto r = parse_rr(only_packet(rr));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ssrc, 0xCAFE0001u);
  EXPECT_TRUE(r->report_blocks().empty());

  // Two chunks: one with a NAME item then CNAME "xy", one with no items at all.
  // clang-format off
  const Bytes sdes = {
      0x82, 0xCA, 0x00, 0x05,
      0x00, 0x00, 0x00, 0x01, 0x02, 0x01, 'n', 0x01, 0x02, 'x', 'y', 0x00,
      0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
  };
  // clang-format on
  auto s = parse_sdes(only_packet(sdes));
  ASSERT_TRUE(s);
  ASSERT_EQ(s->items().size(), 2u);
  EXPECT_EQ(s->items()[0].cname, "xy");
  EXPECT_EQ(s->items()[1].ssrc, 2u);
  EXPECT_EQ(s->items()[1].cname, "");

  // An item running past the packet.
  const Bytes bad = {0x81, 0xCA, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x09, 'a', 'b'};
  EXPECT_FALSE(parse_sdes(only_packet(bad)));
  // SC=2 with only one chunk.
  const Bytes missing = {0x82, 0xCA, 0x00, 0x02, 0, 0, 0, 1, 0x00, 0x00, 0x00, 0x00};
  EXPECT_FALSE(parse_sdes(only_packet(missing)));
}

TEST(RtcpCompound, Bye) {
  const Bytes bye = {0x81, 0xCB, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44};
  auto b = parse_bye(only_packet(bye));
  ASSERT_TRUE(b);
  ASSERT_EQ(b->sources().size(), 1u);
  EXPECT_EQ(b->sources()[0], 0x11223344u);
  EXPECT_EQ(b->reason, "");

  // clang-format off
  const Bytes with_reason = {
      0x82, 0xCB, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 2, 0x04, 'g', 'o', 'n', 'e', 0, 0, 0,
  };
  // clang-format on
  b = parse_bye(only_packet(with_reason));
  ASSERT_TRUE(b);
  ASSERT_EQ(b->sources().size(), 2u);
  EXPECT_EQ(b->sources()[1], 2u);
  EXPECT_EQ(b->reason, "gone");

  const Bytes too_many = {0x83, 0xCB, 0x00, 0x01, 0, 0, 0, 1};  // SC=3, one SSRC
  EXPECT_FALSE(parse_bye(only_packet(too_many)));
}

TEST(RtcpCompound, GenericNackExpandsBlp) {
  // PID 65534, BLP bits 0 and 2: 65534, 65535 and (65534 + 3) = 1 across the wrap; then a
  // second item PID 100 with no BLP.
  // clang-format off
  const Bytes nack = {
      0x81, 0xCD, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
      0xFF, 0xFE, 0x00, 0x05, 0x00, 0x64, 0x00, 0x00,
  };
  // clang-format on
  auto n = parse_nack(only_packet(nack));
  ASSERT_TRUE(n);
  EXPECT_EQ(n->sender_ssrc, 1u);
  EXPECT_EQ(n->media_ssrc, 2u);
  EXPECT_EQ(n->item_count(), 2u);
  std::vector<uint16_t> seen;
  n->for_each_lost([&](uint16_t s) { seen.push_back(s); });
  EXPECT_EQ(seen, (std::vector<uint16_t>{65534, 65535, 1, 100}));

  uint16_t two[2];
  EXPECT_EQ(n->lost(two), 2u);  // bounded by the output
  EXPECT_EQ(two[1], 65535);

  const Bytes full_blp = {0x81, 0xCD, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0x00, 0x0A, 0xFF, 0xFF};
  n = parse_nack(only_packet(full_blp));
  ASSERT_TRUE(n);
  uint16_t all[17];
  ASSERT_EQ(n->lost(all), 17u);
  EXPECT_EQ(all[0], 10);
  EXPECT_EQ(all[16], 26);

  const Bytes no_items = {0x81, 0xCD, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};
  EXPECT_FALSE(parse_nack(only_packet(no_items)));
  EXPECT_FALSE(parse_pli(only_packet(nack)));  // wrong type
}

TEST(RtcpCompound, PliAndFir) {
  const Bytes pli = {0x81, 0xCE, 0x00, 0x02, 0, 0, 0, 7, 0xAB, 0xCD, 0xEF, 0x01};
  auto p = parse_pli(only_packet(pli));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->sender_ssrc, 7u);
  EXPECT_EQ(p->media_ssrc, 0xABCDEF01u);

  // clang-format off
  const Bytes fir = {
      0x84, 0xCE, 0x00, 0x06, 0, 0, 0, 7, 0, 0, 0, 0,
      0x00, 0x00, 0x00, 0x09, 0x05, 0x00, 0x00, 0x00,  // SSRC 9, seq 5
      0x00, 0x00, 0x00, 0x0A, 0xFF, 0x00, 0x00, 0x00,  // SSRC 10, seq 255
  };
  // clang-format on
  auto f = parse_fir(only_packet(fir));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->sender_ssrc, 7u);
  ASSERT_EQ(f->entry_count(), 2u);
  EXPECT_EQ(f->entry(0).ssrc, 9u);
  EXPECT_EQ(f->entry(0).seq_nr, 5);
  EXPECT_EQ(f->entry(1).ssrc, 10u);
  EXPECT_EQ(f->entry(1).seq_nr, 255);
  EXPECT_FALSE(parse_fir(only_packet(pli)));
}

TEST(RtcpCompound, Remb) {
  // 1.5 Mbit/s = 187500 * 2^3: exp 3, mantissa 0x2DC6C; two SSRCs.
  // clang-format off
  const Bytes remb = {
      0x8F, 0xCE, 0x00, 0x06, 0, 0, 0, 7, 0, 0, 0, 0,
      'R', 'E', 'M', 'B', 0x02, 0x0E, 0xDC, 0x6C,
      0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
  };
  // clang-format on
  auto r = parse_remb(only_packet(remb));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->sender_ssrc, 7u);
  EXPECT_EQ(r->bitrate_bps, 1'500'000u);
  ASSERT_EQ(r->ssrc_count(), 2u);
  EXPECT_EQ(r->ssrc(1), 2u);

  Bytes not_remb = remb;
  not_remb[15] = 'X';
  EXPECT_FALSE(parse_remb(only_packet(not_remb)));
  Bytes too_many = remb;
  too_many[16] = 3;  // three SSRCs announced, two present
  EXPECT_FALSE(parse_remb(only_packet(too_many)));
  Bytes huge = remb;
  huge[17] = 0xFF;  // exponent 63 with a non-zero mantissa: saturates
  EXPECT_EQ(parse_remb(only_packet(huge))->bitrate_bps, UINT64_MAX);
}

// Transport-wide CC feedback built by hand per draft-holmer-...-01 §3.1:
//   base 100, 25 statuses, reference time 0x123456, feedback count 5;
//   chunk 1: run length, small delta x3          (100..102)
//   chunk 2: run length, not received x5          (103..107)
//   chunk 3: 1-bit vector 1001 0000 0000 01       (108..121: 108, 111, 121 received)
//   chunk 4: 2-bit vector large, none, small, ... (122..124; the rest of the chunk unused)
//   deltas: 04 FF 00 | 08 10 01 | FF9C (-100) 02, then zero padding to the word.
// clang-format off
const Bytes kTwcc = {
    0x8F, 0xCD, 0x00, 0x09,
    0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22,
    0x00, 0x64, 0x00, 0x19, 0x12, 0x34, 0x56, 0x05,
    0x20, 0x03, 0x00, 0x05, 0xA4, 0x01, 0xE1, 0x00,
    0x04, 0xFF, 0x00, 0x08, 0x10, 0x01, 0xFF, 0x9C, 0x02, 0x00, 0x00, 0x00,
};
// clang-format on

TEST(RtcpCompound, TransportCcFeedback) {
  auto fb = parse_twcc(only_packet(kTwcc));
  ASSERT_TRUE(fb);
  EXPECT_EQ(fb->sender_ssrc, 0x11111111u);
  EXPECT_EQ(fb->media_ssrc, 0x22222222u);
  EXPECT_EQ(fb->base_seq, 100);
  EXPECT_EQ(fb->status_count, 25);
  EXPECT_EQ(fb->reference_time, 0x123456);
  EXPECT_EQ(fb->reference_time_us(), int64_t{0x123456} * 64000);
  EXPECT_EQ(fb->fb_pkt_count, 5);

  std::vector<std::tuple<uint16_t, bool, int32_t>> seen;
  ASSERT_TRUE(fb->for_each_packet([&](uint16_t seq, bool received, int32_t delta) {
    seen.emplace_back(seq, received, delta);
  }));
  ASSERT_EQ(seen.size(), 25u);
  std::vector<std::tuple<uint16_t, bool, int32_t>> received;
  for (auto& s : seen)
    if (std::get<1>(s)) received.push_back(s);
  EXPECT_EQ(received, (std::vector<std::tuple<uint16_t, bool, int32_t>>{{100, true, 4},
                                                                        {101, true, 255},
                                                                        {102, true, 0},
                                                                        {108, true, 8},
                                                                        {111, true, 16},
                                                                        {121, true, 1},
                                                                        {122, true, -100},
                                                                        {124, true, 2}}));
  EXPECT_EQ(std::get<0>(seen.front()), 100);
  EXPECT_EQ(std::get<0>(seen.back()), 124);
}

TEST(RtcpCompound, TransportCcNegativeReferenceAndWrap) {
  // base 65535, 2 statuses via a 1-bit vector (both received), reference time -1.
  // clang-format off
  const Bytes twcc = {
      0x8F, 0xCD, 0x00, 0x05, 0, 0, 0, 1, 0, 0, 0, 2,
      0xFF, 0xFF, 0x00, 0x02, 0xFF, 0xFF, 0xFF, 0x00,
      0xB0, 0x00, 0x01, 0x02,
  };
  // clang-format on
  auto fb = parse_twcc(only_packet(twcc));
  ASSERT_TRUE(fb);
  EXPECT_EQ(fb->reference_time, -1);
  std::vector<uint16_t> seqs;
  fb->for_each_packet([&](uint16_t seq, bool received, int32_t) {
    EXPECT_TRUE(received);
    seqs.push_back(seq);
  });
  EXPECT_EQ(seqs, (std::vector<uint16_t>{65535, 0}));
}

TEST(RtcpCompound, TransportCcMalformed) {
  // Deltas cut: the 2-bit vector's small delta for 124 is missing.
  // clang-format off
  Bytes cut = {
      0x8F, 0xCD, 0x00, 0x08,
      0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22,
      0x00, 0x64, 0x00, 0x19, 0x12, 0x34, 0x56, 0x05,
      0x20, 0x03, 0x00, 0x05, 0xA4, 0x01, 0xE1, 0x00,
      0x04, 0xFF, 0x00, 0x08, 0x10, 0x01, 0xFF, 0x9C,
  };
  // clang-format on
  EXPECT_FALSE(parse_twcc(only_packet(cut)));

  // Reserved symbol 3 in a run-length chunk.
  Bytes reserved = kTwcc;
  reserved[20] = 0x60;  // |0|11|...
  EXPECT_FALSE(parse_twcc(only_packet(reserved)));

  // More statuses than the chunks cover.
  Bytes count = kTwcc;
  count[14] = 0xFF;
  count[15] = 0xFF;
  EXPECT_FALSE(parse_twcc(only_packet(count)));
}

TEST(RtcpCompound, PaddingOnTheLastPacket) {
  // RR with P set: 4 bytes of padding, the last one counting them.
  const Bytes padded = {0xA0, 0xC9, 0x00, 0x02, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x04};
  auto h = only_packet(padded);
  EXPECT_EQ(h.length_bytes, 12u);
  EXPECT_EQ(h.bytes.size(), 8u);
  auto rr = parse_rr(h);
  ASSERT_TRUE(rr);
  EXPECT_EQ(rr->ssrc, 9u);

  Bytes zero = padded;
  zero[11] = 0;
  EXPECT_FALSE(RtcpCompound::parse(zero));
  Bytes over = padded;
  over[11] = 9;  // more than the body
  EXPECT_FALSE(RtcpCompound::parse(over));
}

TEST(RtcpCompound, RejectsTruncatedAndOverlong) {
  EXPECT_FALSE(RtcpCompound::parse(Bytes{}));
  EXPECT_FALSE(RtcpCompound::parse(Bytes{0x80, 0xC9, 0x00}));  // not even a header
  // Length field beyond the buffer.
  EXPECT_FALSE(RtcpCompound::parse(Bytes{0x80, 0xC9, 0x00, 0x02, 0, 0, 0, 1}));
  // A valid packet followed by two stray bytes.
  EXPECT_FALSE(RtcpCompound::parse(concat({kSdes, Bytes{0x80, 0xC9}})));
  // The SR cut by one word.
  EXPECT_FALSE(RtcpCompound::parse(Bytes(kSr.begin(), kSr.end() - 4)));
  // Version 1 in the second packet.
  Bytes v1 = kSdes;
  v1[0] = 0x41;
  EXPECT_FALSE(RtcpCompound::parse(concat({kSr, v1})));

  // A well-framed SR that claims two report blocks but carries one.
  Bytes rc = kSr;
  rc[0] = 0x82;
  EXPECT_FALSE(parse_sr(only_packet(rc)));
  // A profile-specific extension after the blocks is allowed.
  Bytes ext = kSr;
  ext[3] = 0x0D;
  ext.insert(ext.end(), {1, 2, 3, 4});
  EXPECT_TRUE(parse_sr(only_packet(ext)));
}

}  // namespace
}  // namespace junction::media
