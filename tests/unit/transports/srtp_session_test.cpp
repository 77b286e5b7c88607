#include "transports/srtp_session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

namespace junction::transports {
namespace {

using Direction = SrtpSession::Direction;

// Room for any packet we build plus libsrtp's documented trailer allowance.
constexpr size_t kBufferSize = 1500;

struct Buffer {
  alignas(4) std::array<uint8_t, kBufferSize> bytes{};
  size_t length = 0;
  std::vector<uint8_t> view() const { return {bytes.begin(), bytes.begin() + length}; }
};

// A minimal RTP packet (RFC 3550 §5.1): V=2, PT 111 (Opus), no CSRC/extension, then payload.
Buffer rtp_packet(uint16_t seq, uint32_t ssrc = 0x11223344, size_t payload = 160) {
  Buffer b;
  const uint32_t ts = 960u * seq;
  const uint8_t header[12] = {0x80,
                              111,
                              static_cast<uint8_t>(seq >> 8),
                              static_cast<uint8_t>(seq),
                              static_cast<uint8_t>(ts >> 24),
                              static_cast<uint8_t>(ts >> 16),
                              static_cast<uint8_t>(ts >> 8),
                              static_cast<uint8_t>(ts),
                              static_cast<uint8_t>(ssrc >> 24),
                              static_cast<uint8_t>(ssrc >> 16),
                              static_cast<uint8_t>(ssrc >> 8),
                              static_cast<uint8_t>(ssrc)};
  std::memcpy(b.bytes.data(), header, sizeof(header));
  for (size_t i = 0; i < payload; ++i) b.bytes[12 + i] = static_cast<uint8_t>(i * 7 + seq);
  b.length = 12 + payload;
  return b;
}

// An RTCP sender report (RFC 3550 §6.4.1) without report blocks: 28 bytes, length field 6.
Buffer rtcp_sender_report(uint32_t ssrc = 0x11223344) {
  Buffer b;
  const uint8_t sr[28] = {0x80,
                          200,
                          0x00,
                          0x06,
                          static_cast<uint8_t>(ssrc >> 24),
                          static_cast<uint8_t>(ssrc >> 16),
                          static_cast<uint8_t>(ssrc >> 8),
                          static_cast<uint8_t>(ssrc),
                          0xE8,
                          0x00,
                          0x00,
                          0x01,
                          0x20,
                          0x00,
                          0x00,
                          0x00,  // NTP timestamp
                          0x00,
                          0x01,
                          0x00,
                          0x00,  // RTP timestamp
                          0x00,
                          0x00,
                          0x00,
                          0x10,  // packet count
                          0x00,
                          0x00,
                          0x0A,
                          0x00};  // octet count
  std::memcpy(b.bytes.data(), sr, sizeof(sr));
  b.length = sizeof(sr);
  return b;
}

std::vector<uint8_t> test_key_salt(SrtpProfile profile, uint8_t seed) {
  std::vector<uint8_t> k(srtp_key_salt_length(profile));
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(seed + i * 13);
  return k;
}

class SrtpSessionTest : public ::testing::TestWithParam<SrtpProfile> {
 protected:
  void SetUp() override {
    key_ = test_key_salt(GetParam(), 0x42);
    out_ = SrtpSession::create(GetParam(), key_, Direction::kOutbound);
    in_ = SrtpSession::create(GetParam(), key_, Direction::kInbound);
    ASSERT_NE(out_, nullptr);
    ASSERT_NE(in_, nullptr);
  }
  size_t rtp_tag() const { return GetParam() == SrtpProfile::kAeadAes128Gcm ? 16 : 10; }

  // Protects `b` in place with the outbound session; returns the protected copy.
  Buffer protect_rtp(Buffer b) {
    b.length = out_->protect_rtp(b.bytes.data(), b.length, b.bytes.size());
    return b;
  }

  std::vector<uint8_t> key_;
  std::unique_ptr<SrtpSession> out_, in_;
};

TEST(SrtpProfileTest, NamesAndLengths) {
  EXPECT_EQ(srtp_key_salt_length(SrtpProfile::kAes128CmSha1_80), 30u);
  EXPECT_EQ(srtp_key_salt_length(SrtpProfile::kAeadAes128Gcm), 28u);
  EXPECT_EQ(to_string(SrtpProfile::kAes128CmSha1_80), "SRTP_AES128_CM_SHA1_80");
  EXPECT_EQ(to_string(SrtpProfile::kAeadAes128Gcm), "SRTP_AEAD_AES_128_GCM");
}

TEST(SrtpSessionCreate, RejectsWrongKeyLength) {
  std::vector<uint8_t> short_key(29, 1);
  EXPECT_EQ(SrtpSession::create(SrtpProfile::kAes128CmSha1_80, short_key, Direction::kInbound),
            nullptr);
  std::vector<uint8_t> cm_key(30, 1);  // right for AES-CM, wrong for GCM
  EXPECT_EQ(SrtpSession::create(SrtpProfile::kAeadAes128Gcm, cm_key, Direction::kOutbound),
            nullptr);
}

TEST_P(SrtpSessionTest, RtpRoundTripIsByteIdentical) {
  for (uint16_t seq = 1000; seq < 1010; ++seq) {
    const Buffer plain = rtp_packet(seq);
    Buffer wire = protect_rtp(plain);
    ASSERT_EQ(wire.length, plain.length + rtp_tag()) << "seq " << seq;
    // The payload is encrypted, the header is not.
    EXPECT_TRUE(std::equal(plain.bytes.begin(), plain.bytes.begin() + 12, wire.bytes.begin()));
    EXPECT_FALSE(std::equal(plain.bytes.begin() + 12, plain.bytes.begin() + plain.length,
                            wire.bytes.begin() + 12));
    const size_t n = in_->unprotect_rtp(wire.bytes.data(), wire.length);
    ASSERT_EQ(n, plain.length);
    wire.length = n;
    EXPECT_EQ(wire.view(), plain.view());
  }
  EXPECT_EQ(out_->stats().ok, 10u);
  EXPECT_EQ(in_->stats().ok, 10u);
  EXPECT_EQ(in_->stats().auth_failures + in_->stats().replays + in_->stats().other_errors, 0u);
}

TEST_P(SrtpSessionTest, RtcpRoundTripIsByteIdentical) {
  for (int i = 0; i < 3; ++i) {
    const Buffer plain = rtcp_sender_report();
    Buffer wire = plain;
    wire.length = out_->protect_rtcp(wire.bytes.data(), wire.length, wire.bytes.size());
    // SRTCP adds the E flag + 31-bit index (4 bytes) and the tag (RFC 3711 §3.4).
    ASSERT_EQ(wire.length, plain.length + 4 + rtp_tag());
    const size_t n = in_->unprotect_rtcp(wire.bytes.data(), wire.length);
    ASSERT_EQ(n, plain.length);
    wire.length = n;
    EXPECT_EQ(wire.view(), plain.view());
  }
}

TEST_P(SrtpSessionTest, AnyInboundSsrcIsAccepted) {
  // One session covers every SSRC of its direction (audio, video, RTX, simulcast layers).
  for (uint32_t ssrc : {0x1u, 0xCAFEBABEu, 0x7FFFFFFFu}) {
    Buffer wire = protect_rtp(rtp_packet(7, ssrc));
    ASSERT_GT(wire.length, 0u);
    EXPECT_EQ(in_->unprotect_rtp(wire.bytes.data(), wire.length), rtp_packet(7, ssrc).length);
  }
}

TEST_P(SrtpSessionTest, FlippedTagByteIsAnAuthFailure) {
  Buffer wire = protect_rtp(rtp_packet(42));
  wire.bytes[wire.length - 1] ^= 0x01;
  EXPECT_EQ(in_->unprotect_rtp(wire.bytes.data(), wire.length), 0u);
  EXPECT_EQ(in_->stats().auth_failures, 1u);
  EXPECT_EQ(in_->stats().ok, 0u);

  // The stream is not poisoned: the next genuine packet is fine.
  Buffer next = protect_rtp(rtp_packet(43));
  EXPECT_EQ(in_->unprotect_rtp(next.bytes.data(), next.length), rtp_packet(43).length);

  Buffer rtcp = rtcp_sender_report();
  rtcp.length = out_->protect_rtcp(rtcp.bytes.data(), rtcp.length, rtcp.bytes.size());
  rtcp.bytes[rtcp.length - 3] ^= 0x80;
  EXPECT_EQ(in_->unprotect_rtcp(rtcp.bytes.data(), rtcp.length), 0u);
  EXPECT_EQ(in_->stats().auth_failures, 2u);
}

TEST_P(SrtpSessionTest, SamePacketTwiceIsAReplay) {
  const Buffer wire = protect_rtp(rtp_packet(500));
  Buffer first = wire, second = wire;  // unprotect works in place
  EXPECT_GT(in_->unprotect_rtp(first.bytes.data(), first.length), 0u);
  EXPECT_EQ(in_->unprotect_rtp(second.bytes.data(), second.length), 0u);
  EXPECT_EQ(in_->stats().replays, 1u);
  EXPECT_EQ(in_->stats().auth_failures, 0u);

  Buffer rtcp = rtcp_sender_report();
  rtcp.length = out_->protect_rtcp(rtcp.bytes.data(), rtcp.length, rtcp.bytes.size());
  Buffer rtcp_again = rtcp;
  EXPECT_GT(in_->unprotect_rtcp(rtcp.bytes.data(), rtcp.length), 0u);
  EXPECT_EQ(in_->unprotect_rtcp(rtcp_again.bytes.data(), rtcp_again.length), 0u);
  EXPECT_EQ(in_->stats().replays, 2u);
}

TEST_P(SrtpSessionTest, ResendWithSameSequenceNumberIsAllowedOnOutbound) {
  // A NACKed packet re-sent without RTX: libsrtp must not refuse to protect it again. The
  // first copy was lost on the way, so the receiver sees it once.
  Buffer lost = protect_rtp(rtp_packet(9));
  Buffer resent = protect_rtp(rtp_packet(9));
  ASSERT_GT(resent.length, 0u);
  EXPECT_EQ(lost.view(), resent.view());
  EXPECT_EQ(in_->unprotect_rtp(resent.bytes.data(), resent.length), rtp_packet(9).length);
}

TEST_P(SrtpSessionTest, SequenceRolloverKeepsWorking) {
  // 65530 .. 65535, 0 .. 9: the rollover counter (RFC 3711 §3.3.1) moves to 1 on both sides.
  uint16_t seq = 65530;
  for (int i = 0; i < 16; ++i, ++seq) {
    const Buffer plain = rtp_packet(seq);
    Buffer wire = protect_rtp(plain);
    ASSERT_GT(wire.length, 0u) << "seq " << seq;
    const size_t n = in_->unprotect_rtp(wire.bytes.data(), wire.length);
    ASSERT_EQ(n, plain.length) << "seq " << seq;
    wire.length = n;
    EXPECT_EQ(wire.view(), plain.view()) << "seq " << seq;
  }
  EXPECT_EQ(in_->stats().ok, 16u);
}

TEST_P(SrtpSessionTest, ReorderedPacketsWithinTheWindowAreAccepted) {
  Buffer a = protect_rtp(rtp_packet(100));
  Buffer b = protect_rtp(rtp_packet(101));
  Buffer c = protect_rtp(rtp_packet(102));
  EXPECT_GT(in_->unprotect_rtp(c.bytes.data(), c.length), 0u);
  EXPECT_GT(in_->unprotect_rtp(a.bytes.data(), a.length), 0u);
  EXPECT_GT(in_->unprotect_rtp(b.bytes.data(), b.length), 0u);
  EXPECT_EQ(in_->stats().ok, 3u);
}

TEST_P(SrtpSessionTest, WrongKeyFailsAuthentication) {
  auto other =
      SrtpSession::create(GetParam(), test_key_salt(GetParam(), 0x99), Direction::kInbound);
  ASSERT_NE(other, nullptr);
  Buffer wire = protect_rtp(rtp_packet(1));
  EXPECT_EQ(other->unprotect_rtp(wire.bytes.data(), wire.length), 0u);
  EXPECT_EQ(other->stats().auth_failures, 1u);
}

TEST_P(SrtpSessionTest, MalformedInputIsCountedNotFatal) {
  // Too short for an RTP header.
  uint8_t tiny[8] = {0x80, 0, 0, 1, 0, 0, 0, 0};
  EXPECT_EQ(in_->unprotect_rtp(tiny, sizeof(tiny)), 0u);
  EXPECT_EQ(in_->unprotect_rtcp(tiny, 4), 0u);
  // Wrong RTP version.
  Buffer v1 = protect_rtp(rtp_packet(3));
  v1.bytes[0] = 0x40;
  EXPECT_EQ(in_->unprotect_rtp(v1.bytes.data(), v1.length), 0u);
  // A header that claims more CSRCs than the packet holds.
  Buffer csrc = rtp_packet(4, 1, 0);
  csrc.bytes[0] = 0x8F;
  EXPECT_EQ(in_->unprotect_rtp(csrc.bytes.data(), csrc.length), 0u);
  // Random bytes with a plausible first byte.
  Buffer junk;
  for (size_t i = 0; i < 100; ++i) junk.bytes[i] = static_cast<uint8_t>(i * 31 + 5);
  junk.bytes[0] = 0x80;
  junk.length = 100;
  EXPECT_EQ(in_->unprotect_rtp(junk.bytes.data(), junk.length), 0u);
  EXPECT_EQ(in_->stats().ok, 0u);
  EXPECT_EQ(in_->stats().other_errors + in_->stats().auth_failures, 5u);

  // Wrong direction and a buffer without trailer room are refused, not overrun.
  Buffer plain = rtp_packet(5);
  EXPECT_EQ(in_->protect_rtp(plain.bytes.data(), plain.length, plain.bytes.size()), 0u);
  EXPECT_EQ(out_->unprotect_rtp(plain.bytes.data(), plain.length), 0u);
  EXPECT_EQ(out_->protect_rtp(plain.bytes.data(), plain.length, plain.length + 10), 0u);
  EXPECT_EQ(out_->protect_rtcp(plain.bytes.data(), 28, 28 + SrtpSession::kRtpTrailerRoom), 0u);
  EXPECT_EQ(in_->stats().other_errors + in_->stats().auth_failures, 6u);
  EXPECT_EQ(out_->stats().ok, 1u);  // the v1 packet above
  EXPECT_EQ(out_->stats().other_errors, 3u);
  // And the session still works afterwards.
  EXPECT_GT(protect_rtp(rtp_packet(6)).length, 0u);
}

INSTANTIATE_TEST_SUITE_P(SrtpProfiles, SrtpSessionTest,
                         ::testing::Values(SrtpProfile::kAes128CmSha1_80,
                                           SrtpProfile::kAeadAes128Gcm),
                         [](const ::testing::TestParamInfo<SrtpProfile>& info) {
                           return info.param == SrtpProfile::kAeadAes128Gcm ? std::string("Gcm")
                                                                            : std::string("AesCm");
                         });

}  // namespace
}  // namespace junction::transports
