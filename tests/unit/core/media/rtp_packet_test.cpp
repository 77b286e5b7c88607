#include "core/media/rtp_packet.h"

#include <gtest/gtest.h>

#include <array>
#include <string_view>
#include <vector>

namespace junction::media {
namespace {

using Bytes = std::vector<uint8_t>;

std::string_view as_text(std::span<const uint8_t> s) {
  return std::string_view(reinterpret_cast<const char*>(s.data()), s.size());
}

// V=2 P=1 X=1 CC=2, M=1 PT=96, two CSRCs, a one-byte extension block with two elements and
// trailing padding, a 3-byte payload, and 3 bytes of RTP padding.
// clang-format off
const Bytes kFullPacket = {
    0xB2, 0xE0, 0x12, 0x34,              // V/P/X/CC, M/PT, sequence 0x1234
    0xDE, 0xAD, 0xBE, 0xEF,              // timestamp
    0x11, 0x22, 0x33, 0x44,              // SSRC
    0xAA, 0xAA, 0xAA, 0xAA,              // CSRC 1
    0xBB, 0xBB, 0xBB, 0xBB,              // CSRC 2
    0xBE, 0xDE, 0x00, 0x02,              // one-byte extension profile, 2 words
    0x10, 0x85,                          // id 1, L=0: audio level (voice, 5)
    0x31, 0x01, 0x02,                    // id 3, L=1: transport seq 0x0102
    0x00, 0x00, 0x00,                    // padding to the word
    0x01, 0x02, 0x03,                    // payload
    0x00, 0x00, 0x03,                    // RTP padding, count 3
};
// clang-format on

TEST(RtpPacket, ParsesHeaderCsrcsOneByteExtensionsAndPadding) {
  auto p = RtpPacket::parse(kFullPacket);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->marker());
  EXPECT_EQ(p->payload_type(), 96);
  EXPECT_EQ(p->sequence(), 0x1234);
  EXPECT_EQ(p->timestamp(), 0xDEADBEEFu);
  EXPECT_EQ(p->ssrc(), 0x11223344u);
  ASSERT_EQ(p->csrc_count(), 2);
  EXPECT_EQ(p->csrc(0), 0xAAAAAAAAu);
  EXPECT_EQ(p->csrc(1), 0xBBBBBBBBu);
  EXPECT_EQ(p->csrc(2), 0u);
  ASSERT_TRUE(p->has_extension());
  EXPECT_EQ(p->extension_profile(), 0xBEDE);
  EXPECT_EQ(p->extension_block().size(), 8u);
  EXPECT_EQ(p->extension(1).size(), 1u);
  EXPECT_EQ(p->extension(1)[0], 0x85);
  ASSERT_EQ(p->extension(3).size(), 2u);
  EXPECT_EQ(p->extension(3)[0], 0x01);
  EXPECT_EQ(p->extension(3)[1], 0x02);
  EXPECT_TRUE(p->extension(2).empty());
  EXPECT_TRUE(p->extension(0).empty());
  EXPECT_TRUE(p->extension(15).empty());
  EXPECT_EQ(p->header_size(), 32u);
  EXPECT_EQ(p->padding_size(), 3u);
  ASSERT_EQ(p->payload().size(), 3u);
  EXPECT_EQ(p->payload()[0], 0x01);
  EXPECT_EQ(p->payload()[2], 0x03);
  EXPECT_EQ(p->bytes().size(), kFullPacket.size());
}

TEST(RtpPacket, ParsesTwoByteExtensions) {
  // clang-format off
  const Bytes packet = {
      0x90, 0x6F, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03,  // X=1, PT=111
      0x10, 0x02, 0x00, 0x02,           // two-byte profile with appbits 2, 2 words
      0x05, 0x00,                       // id 5, length 0
      0xC8, 0x03, 'a', 'b', 'c',        // id 200, length 3
      0x00,                             // padding
      0xFF,                             // payload
  };
  // clang-format on
  auto p = RtpPacket::parse(packet);
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->marker());
  EXPECT_EQ(p->payload_type(), 111);
  EXPECT_EQ(p->extension_profile(), 0x1002);
  EXPECT_EQ(as_text(p->extension(200)), "abc");
  EXPECT_TRUE(p->extension(5).empty());  // present but zero-length
  EXPECT_TRUE(p->extension(6).empty());
  EXPECT_EQ(p->header_size(), 24u);
  ASSERT_EQ(p->payload().size(), 1u);
  EXPECT_EQ(p->payload()[0], 0xFF);
}

TEST(RtpPacket, OneByteIdFifteenStopsTheWalk) {
  // clang-format off
  const Bytes packet = {
      0x90, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03,
      0xBE, 0xDE, 0x00, 0x01,
      0x10, 0x01,  // id 1
      0xF3,        // id 15: reserved, processing stops (its length is not trusted)
      0x20,        // would be id 2, never reached
  };
  // clang-format on
  auto p = RtpPacket::parse(packet);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->extension(1).size(), 1u);
  EXPECT_TRUE(p->extension(2).empty());
  EXPECT_TRUE(p->payload().empty());
}

TEST(RtpPacket, OtherExtensionProfilesAreSkippedWhole) {
  // clang-format off
  const Bytes packet = {
      0x90, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03,
      0x12, 0x34, 0x00, 0x01, 0x10, 0x01, 0x02, 0x03,  // profile 0x1234, one word
      0x42,
  };
  // clang-format on
  auto p = RtpPacket::parse(packet);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->extension_profile(), 0x1234);
  EXPECT_EQ(p->extension_block().size(), 4u);
  EXPECT_TRUE(p->extension(1).empty());
  ASSERT_EQ(p->payload().size(), 1u);
  EXPECT_EQ(p->payload()[0], 0x42);
}

TEST(RtpPacket, MinimalPacketHasEmptyPayload) {
  const Bytes packet = {0x80, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  auto p = RtpPacket::parse(packet);
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->has_extension());
  EXPECT_EQ(p->extension_profile(), 0);
  EXPECT_TRUE(p->extension_block().empty());
  EXPECT_TRUE(p->payload().empty());
}

TEST(RtpPacket, RejectsMalformedPackets) {
  auto rejects = [](const Bytes& b) { return !RtpPacket::parse(b).has_value(); };
  Bytes header = {0x80, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3};

  EXPECT_TRUE(rejects({}));
  EXPECT_TRUE(rejects(Bytes(header.begin(), header.end() - 1)));  // too short

  Bytes v1 = header;
  v1[0] = 0x40;  // version 1
  EXPECT_TRUE(rejects(v1));
  v1[0] = 0xC0;  // version 3
  EXPECT_TRUE(rejects(v1));

  Bytes csrc = header;
  csrc[0] = 0x8F;  // 15 CSRCs announced, none present
  csrc.insert(csrc.end(), {1, 2, 3, 4, 5, 6, 7, 8});
  EXPECT_TRUE(rejects(csrc));

  Bytes ext_header_cut = header;
  ext_header_cut[0] = 0x90;
  ext_header_cut.insert(ext_header_cut.end(), {0xBE, 0xDE});  // extension header cut short
  EXPECT_TRUE(rejects(ext_header_cut));

  Bytes ext_long = header;
  ext_long[0] = 0x90;
  ext_long.insert(ext_long.end(),
                  {0xBE, 0xDE, 0x00, 0x02, 0x10, 0x01, 0x00, 0x00});  // 2 words, 1 there
  EXPECT_TRUE(rejects(ext_long));

  Bytes element_overrun = header;
  element_overrun[0] = 0x90;
  element_overrun.insert(element_overrun.end(), {0xBE, 0xDE, 0x00, 0x01, 0x13, 0x01, 0x02, 0x03});
  EXPECT_TRUE(rejects(element_overrun));  // id 1 says 4 bytes, 3 left in the block

  Bytes two_byte_overrun = header;
  two_byte_overrun[0] = 0x90;
  two_byte_overrun.insert(two_byte_overrun.end(), {0x10, 0x00, 0x00, 0x01, 0x01, 0x05, 0x00, 0x00});
  EXPECT_TRUE(rejects(two_byte_overrun));

  Bytes pad_big = header;
  pad_big[0] = 0xA0;                                  // padding
  pad_big.insert(pad_big.end(), {0x01, 0x02, 0x05});  // 5 padding bytes claimed, 3 after header
  EXPECT_TRUE(rejects(pad_big));

  Bytes pad_zero = header;
  pad_zero[0] = 0xA0;
  pad_zero.insert(pad_zero.end(), {0x01, 0x02, 0x00});
  EXPECT_TRUE(rejects(pad_zero));

  Bytes pad_no_room = header;
  pad_no_room[0] = 0xA0;  // P set but nothing after the header
  EXPECT_TRUE(rejects(pad_no_room));

  Bytes pad_whole = header;
  pad_whole[0] = 0xA0;
  pad_whole.insert(pad_whole.end(), {0x00, 0x00, 0x03});  // padding is the whole payload: fine
  auto p = RtpPacket::parse(pad_whole);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->payload().empty());
}

TEST(RtpPacket, RewritesChangeExactlyTheirBytes) {
  const Bytes original = kFullPacket;
  auto changed = [&](const Bytes& b) {
    std::vector<size_t> at;
    for (size_t i = 0; i < b.size(); ++i)
      if (b[i] != original[i]) at.push_back(i);
    return at;
  };

  Bytes b = original;
  rtp_set_sequence(b, 0xABCD);
  EXPECT_EQ(changed(b), (std::vector<size_t>{2, 3}));
  EXPECT_EQ(RtpPacket::parse(b)->sequence(), 0xABCD);

  b = original;
  rtp_set_timestamp(b, 0x01020304);
  EXPECT_EQ(changed(b), (std::vector<size_t>{4, 5, 6, 7}));
  EXPECT_EQ(RtpPacket::parse(b)->timestamp(), 0x01020304u);

  b = original;
  rtp_set_ssrc(b, 0x55667788);
  EXPECT_EQ(changed(b), (std::vector<size_t>{8, 9, 10, 11}));
  EXPECT_EQ(RtpPacket::parse(b)->ssrc(), 0x55667788u);

  b = original;
  rtp_set_payload_type(b, 100);
  EXPECT_EQ(changed(b), (std::vector<size_t>{1}));
  auto p = RtpPacket::parse(b);
  EXPECT_EQ(p->payload_type(), 100);
  EXPECT_TRUE(p->marker());  // untouched

  b = original;
  rtp_set_marker(b, false);
  EXPECT_EQ(changed(b), (std::vector<size_t>{1}));
  p = RtpPacket::parse(b);
  EXPECT_FALSE(p->marker());
  EXPECT_EQ(p->payload_type(), 96);
  rtp_set_marker(b, true);
  EXPECT_TRUE(changed(b).empty());

  // A span too short for a header is left alone.
  std::array<uint8_t, 4> tiny{1, 2, 3, 4};
  rtp_set_ssrc(tiny, 0);
  EXPECT_EQ(tiny, (std::array<uint8_t, 4>{1, 2, 3, 4}));
}

TEST(RtpPacket, WriteThenParseRoundTrips) {
  const std::array<uint8_t, 5> payload{9, 8, 7, 6, 5};
  std::array<uint8_t, 64> out{};
  size_t n = rtp_write(out, 111, 65535, 0xFFFFFFFF, 0xCAFEBABE, true, payload);
  ASSERT_EQ(n, 17u);
  auto p = RtpPacket::parse(std::span<const uint8_t>(out.data(), n));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->payload_type(), 111);
  EXPECT_EQ(p->sequence(), 65535);
  EXPECT_EQ(p->timestamp(), 0xFFFFFFFFu);
  EXPECT_EQ(p->ssrc(), 0xCAFEBABEu);
  EXPECT_TRUE(p->marker());
  ASSERT_EQ(p->payload().size(), 5u);
  EXPECT_EQ(p->payload()[4], 5);

  std::array<uint8_t, 16> small{};
  EXPECT_EQ(rtp_write(small, 111, 1, 2, 3, false, payload), 0u);
}

TEST(RtpPacket, RtcpDemuxHint) {
  const Bytes rr = {0x80, 0xC9, 0x00, 0x01, 0, 0, 0, 1};
  EXPECT_TRUE(looks_like_rtcp(rr));
  EXPECT_FALSE(looks_like_rtcp(kFullPacket));
}

}  // namespace
}  // namespace junction::media
