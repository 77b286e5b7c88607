// Our OpenSSL SRTP (transports/srtp_session on srtp_crypto) against libsrtp2, the reference:
// for every profile, RTP and RTCP, both implementations must produce the same bytes when they
// protect, each must unprotect what the other protected, and both must accept and refuse the same
// packets for the same reason (replays, tampering, truncation, sequence rollover, reordering).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <random>
#include <vector>

#include "tests/support/libsrtp_session.h"
#include "transports/srtp_session.h"

namespace junction::transports {
namespace {

using Direction = SrtpSession::Direction;
using testing::LibsrtpSession;
using Bytes = std::vector<uint8_t>;
using Result = LibsrtpSession::Result;

constexpr size_t kRoom = SrtpSession::kRtcpTrailerRoom;

Bytes key_salt(SrtpProfile profile) {
  Bytes k(srtp_key_salt_length(profile));
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(0x5A ^ (i * 29));
  return k;
}

// An RTP packet: `csrcs` CSRCs, an RFC 8285 one-byte extension block of `ext_words` words when
// ext_words > 0, `payload` bytes of payload derived from seq.
Bytes rtp(uint16_t seq, uint32_t ssrc, size_t payload, int csrcs = 0, int ext_words = 0) {
  Bytes p;
  p.push_back(static_cast<uint8_t>(0x80 | (ext_words > 0 ? 0x10 : 0) | csrcs));
  p.push_back(96);
  p.push_back(static_cast<uint8_t>(seq >> 8));
  p.push_back(static_cast<uint8_t>(seq));
  for (int i = 0; i < 4; ++i) p.push_back(static_cast<uint8_t>(seq * 3 + i));
  for (int i = 3; i >= 0; --i) p.push_back(static_cast<uint8_t>(ssrc >> (8 * i)));
  for (int c = 0; c < csrcs; ++c)
    for (int i = 0; i < 4; ++i) p.push_back(static_cast<uint8_t>(0xC0 + c * 4 + i));
  if (ext_words > 0) {
    p.insert(p.end(), {0xBE, 0xDE, 0x00, static_cast<uint8_t>(ext_words)});
    for (int i = 0; i < ext_words * 4; ++i) p.push_back(static_cast<uint8_t>(i == 0 ? 0x10 : i));
  }
  for (size_t i = 0; i < payload; ++i) p.push_back(static_cast<uint8_t>(i * 31 + seq));
  return p;
}

// An RTCP receiver report header plus `body` bytes (sender SSRC `ssrc`).
Bytes rtcp(uint32_t ssrc, size_t body) {
  Bytes p = {0x81, 201, 0, 0};
  for (int i = 3; i >= 0; --i) p.push_back(static_cast<uint8_t>(ssrc >> (8 * i)));
  for (size_t i = 0; i < body; ++i) p.push_back(static_cast<uint8_t>(i * 17 + 3));
  size_t words = p.size() / 4 - 1;
  p[2] = static_cast<uint8_t>(words >> 8);
  p[3] = static_cast<uint8_t>(words);
  return p;
}

// The outcome of one call: the resulting bytes (empty when refused) and why.
struct Outcome {
  Bytes bytes;
  Result result;
  bool operator==(const Outcome& o) const { return bytes == o.bytes && result == o.result; }
};

void PrintTo(const Outcome& o, std::ostream* os) {
  *os << "{" << o.bytes.size() << " bytes, result " << static_cast<int>(o.result) << "}";
}

Result classify(const SrtpSession::Stats& before, const SrtpSession::Stats& after) {
  if (after.ok > before.ok) return Result::kOk;
  if (after.auth_failures > before.auth_failures) return Result::kAuthFailure;
  if (after.replays > before.replays) return Result::kReplay;
  return Result::kOtherError;
}

enum class Op { kProtectRtp, kProtectRtcp, kUnprotectRtp, kUnprotectRtcp };

Result result_of(SrtpSession&, const SrtpSession::Stats& before, const SrtpSession::Stats& after) {
  return classify(before, after);
}
Result result_of(LibsrtpSession& s, const SrtpSession::Stats&, const SrtpSession::Stats&) {
  return s.last_result();
}
SrtpSession::Stats stats_of(SrtpSession& s) { return s.stats(); }
SrtpSession::Stats stats_of(LibsrtpSession&) { return {}; }

// One call on either implementation, on a copy of `in` with room for the trailer.
template <typename Session>
Outcome run(Session& s, Op op, const Bytes& in) {
  Bytes buf(in.size() + kRoom);
  std::copy(in.begin(), in.end(), buf.begin());
  auto before = stats_of(s);
  size_t n = 0;
  switch (op) {
    case Op::kProtectRtp: n = s.protect_rtp(buf.data(), in.size(), buf.size()); break;
    case Op::kProtectRtcp: n = s.protect_rtcp(buf.data(), in.size(), buf.size()); break;
    case Op::kUnprotectRtp: n = s.unprotect_rtp(buf.data(), in.size()); break;
    case Op::kUnprotectRtcp: n = s.unprotect_rtcp(buf.data(), in.size()); break;
  }
  buf.resize(n);
  return {buf, result_of(s, before, stats_of(s))};
}

class SrtpDifferentialTest : public ::testing::TestWithParam<SrtpProfile> {
 protected:
  void SetUp() override {
    auto k = key_salt(GetParam());
    our_out_ = SrtpSession::create(GetParam(), k, Direction::kOutbound);
    our_in_ = SrtpSession::create(GetParam(), k, Direction::kInbound);
    ref_out_ = LibsrtpSession::create(GetParam(), k, Direction::kOutbound);
    ref_in_ = LibsrtpSession::create(GetParam(), k, Direction::kInbound);
    ASSERT_TRUE(our_out_ && our_in_ && ref_out_ && ref_in_);
  }

  // Protects with both; the bytes must be identical. Returns them.
  Bytes protect(Op op, const Bytes& plain) {
    Outcome ours = run(*our_out_, op, plain);
    Outcome ref = run(*ref_out_, op, plain);
    EXPECT_EQ(ours, ref) << "protect of a " << plain.size() << "-byte packet";
    EXPECT_EQ(ours.result, Result::kOk);
    return ours.bytes;
  }

  // Both inbound sessions see the same packet; they must agree. Returns the outcome.
  Outcome unprotect_both(Op op, const Bytes& wire) {
    Outcome ours = run(*our_in_, op, wire);
    Outcome ref = run(*ref_in_, op, wire);
    EXPECT_EQ(ours, ref) << "unprotect of a " << wire.size() << "-byte packet";
    return ours;
  }

  std::unique_ptr<SrtpSession> our_out_, our_in_;
  std::unique_ptr<LibsrtpSession> ref_out_, ref_in_;
};

TEST_P(SrtpDifferentialTest, RtpSameBytesAndEachUnprotectsTheOther) {
  // Sizes from the smallest packet to a full datagram, with CSRCs and header extensions, on two
  // SSRCs interleaved.
  const struct { size_t payload; int csrcs; int ext; } shapes[] = {
      {0, 0, 0}, {1, 0, 0}, {160, 0, 0}, {1188, 0, 0}, {100, 2, 0}, {100, 0, 1}, {100, 15, 3}, {0, 1, 2}, {1000, 3, 4}};
  // Two fresh inbound sessions per implementation: one fed the other's output (cross), one its own.
  auto k = key_salt(GetParam());
  auto our_cross = SrtpSession::create(GetParam(), k, Direction::kInbound);
  auto ref_cross = LibsrtpSession::create(GetParam(), k, Direction::kInbound);
  uint16_t seq = 100;
  for (const auto& shape : shapes) {
    for (uint32_t ssrc : {0x11111111u, 0xDEADBEEFu}) {
      Bytes plain = rtp(seq++, ssrc, shape.payload, shape.csrcs, shape.ext);
      Bytes wire = protect(Op::kProtectRtp, plain);
      ASSERT_FALSE(wire.empty());
      // libsrtp's packet through ours, ours through libsrtp (the bytes are the same, but each
      // inbound session is its own state).
      Outcome ours = run(*our_cross, Op::kUnprotectRtp, wire);
      Outcome ref = run(*ref_cross, Op::kUnprotectRtp, wire);
      EXPECT_EQ(ours.bytes, plain);
      EXPECT_EQ(ref.bytes, plain);
      EXPECT_EQ(unprotect_both(Op::kUnprotectRtp, wire).bytes, plain);
    }
  }
}

TEST_P(SrtpDifferentialTest, RtcpSameBytesAndEachUnprotectsTheOther) {
  for (size_t body : {0u, 4u, 20u, 24u, 100u, 1000u}) {
    for (uint32_t ssrc : {0x01020304u, 0xA0B0C0D0u}) {
      Bytes plain = rtcp(ssrc, body);
      Bytes wire = protect(Op::kProtectRtcp, plain);
      ASSERT_FALSE(wire.empty());
      EXPECT_EQ(unprotect_both(Op::kUnprotectRtcp, wire).bytes, plain);
    }
  }
}

TEST_P(SrtpDifferentialTest, SequenceRolloverIncrementsTheRoc) {
  // Across two rollovers, with steps of up to half the sequence space (the estimate's limit).
  uint16_t seq = 65000;
  std::vector<int> steps;
  for (int i = 0; i < 700; ++i) steps.push_back(1);
  for (int i = 0; i < 6; ++i) steps.push_back(30000);
  for (int i = 0; i < 50; ++i) steps.push_back(7);
  const uint32_t ssrc = 0x0BADCAFE;
  for (int step : steps) {
    seq = static_cast<uint16_t>(seq + step);
    Bytes plain = rtp(seq, ssrc, 200);
    Bytes wire = protect(Op::kProtectRtp, plain);
    ASSERT_EQ(unprotect_both(Op::kUnprotectRtp, wire).bytes, plain) << "seq " << seq;
  }
}

TEST_P(SrtpDifferentialTest, ReorderedLostAndReplayedPacketsGetTheSameVerdict) {
  // Protect a run across a rollover, then deliver it shuffled within a window, with duplicates
  // and packets far too old: every verdict must match, and most must be accepted.
  const uint32_t ssrc = 0x5EED5EED;
  std::vector<Bytes> wire;
  std::vector<Bytes> plain;
  uint16_t seq = 65400;
  for (int i = 0; i < 600; ++i) {
    plain.push_back(rtp(seq, ssrc, 50 + i % 300));
    wire.push_back(protect(Op::kProtectRtp, plain.back()));
    ++seq;
  }
  std::mt19937 rng(7);
  std::vector<size_t> order;
  for (size_t i = 0; i < wire.size(); ++i) order.push_back(i);
  for (size_t i = 0; i + 40 < order.size(); i += 40) std::shuffle(order.begin() + i, order.begin() + i + 80, rng);
  std::vector<size_t> deliveries;
  for (size_t i = 0; i < order.size(); ++i) {
    deliveries.push_back(order[i]);
    if (i % 17 == 0) deliveries.push_back(order[i]);                   // a duplicate
    if (i % 53 == 0 && i > 300) deliveries.push_back(order[i - 250]);  // far older than the window
  }
  int accepted = 0, replays = 0;
  for (size_t d : deliveries) {
    Outcome o = unprotect_both(Op::kUnprotectRtp, wire[d]);
    if (o.result == Result::kOk) {
      ++accepted;
      EXPECT_EQ(o.bytes, plain[d]);
    } else if (o.result == Result::kReplay) {
      ++replays;
    }
  }
  EXPECT_GT(accepted, 500);
  EXPECT_GT(replays, 30);
}

TEST_P(SrtpDifferentialTest, RtcpReplaysAndOldIndexesAreRefusedByBoth) {
  std::vector<Bytes> wire;
  for (int i = 0; i < 300; ++i) wire.push_back(protect(Op::kProtectRtcp, rtcp(0x77777777, 24)));
  EXPECT_EQ(unprotect_both(Op::kUnprotectRtcp, wire[5]).result, Result::kOk);
  EXPECT_EQ(unprotect_both(Op::kUnprotectRtcp, wire[5]).result, Result::kReplay);
  EXPECT_EQ(unprotect_both(Op::kUnprotectRtcp, wire[299]).result, Result::kOk);
  EXPECT_EQ(unprotect_both(Op::kUnprotectRtcp, wire[10]).result, Result::kReplay);  // before the window
  EXPECT_EQ(unprotect_both(Op::kUnprotectRtcp, wire[250]).result, Result::kOk);     // late, inside it
  EXPECT_EQ(unprotect_both(Op::kUnprotectRtcp, wire[250]).result, Result::kReplay);
}

TEST_P(SrtpDifferentialTest, TamperedAndTruncatedPacketsAreRefusedByBoth) {
  Bytes rtp_wire = protect(Op::kProtectRtp, rtp(4000, 0x12345678, 120, 1, 1));
  Bytes rtcp_wire = protect(Op::kProtectRtcp, rtcp(0x12345678, 40));
  for (auto [op, wire] : {std::pair{Op::kUnprotectRtp, rtp_wire}, std::pair{Op::kUnprotectRtcp, rtcp_wire}}) {
    for (size_t i = 0; i < wire.size(); ++i) {
      for (uint8_t flip : {0x01, 0x80}) {
        Bytes bad = wire;
        bad[i] ^= flip;
        Outcome o = unprotect_both(op, bad);
        EXPECT_NE(o.result, Result::kOk) << "byte " << i << " flipped";
      }
    }
    for (size_t cut = 0; cut < wire.size(); ++cut) {
      Outcome o = unprotect_both(op, Bytes(wire.begin(), wire.begin() + static_cast<long>(cut)));
      EXPECT_NE(o.result, Result::kOk) << "cut to " << cut;
    }
    // The untouched packet still goes through afterwards: nothing above poisoned the state.
    EXPECT_EQ(unprotect_both(op, wire).result, Result::kOk);
  }
}

TEST_P(SrtpDifferentialTest, OutboundResendAndTooOldSequenceMatch) {
  const uint32_t ssrc = 0x00C0FFEE;
  Bytes first = protect(Op::kProtectRtp, rtp(500, ssrc, 300));
  for (uint16_t s = 501; s < 800; ++s) protect(Op::kProtectRtp, rtp(s, ssrc, 10));
  // A NACKed packet re-sent inside the window: protected again, identical bytes.
  Bytes again = protect(Op::kProtectRtp, rtp(700, ssrc, 10));
  EXPECT_FALSE(again.empty());
  // Older than the window: both refuse.
  Outcome ours = run(*our_out_, Op::kProtectRtp, rtp(500, ssrc, 300));
  Outcome ref = run(*ref_out_, Op::kProtectRtp, rtp(500, ssrc, 300));
  EXPECT_EQ(ours, ref);
  EXPECT_EQ(ours.result, Result::kReplay);
}

TEST_P(SrtpDifferentialTest, GarbageIsRefusedByBoth) {
  std::mt19937 rng(11);
  for (int i = 0; i < 300; ++i) {
    Bytes junk(static_cast<size_t>(rng() % 200));
    for (auto& b : junk) b = static_cast<uint8_t>(rng());
    if (!junk.empty()) junk[0] = static_cast<uint8_t>(0x80 | (junk[0] & 0x3F));
    EXPECT_EQ(unprotect_both(Op::kUnprotectRtp, junk).result == Result::kOk, false);
    EXPECT_EQ(unprotect_both(Op::kUnprotectRtcp, junk).result == Result::kOk, false);
  }
}

INSTANTIATE_TEST_SUITE_P(Profiles, SrtpDifferentialTest,
                         ::testing::Values(SrtpProfile::kAes128CmSha1_80, SrtpProfile::kAes128CmSha1_32,
                                           SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAeadAes256Gcm),
                         [](const auto& info) {
                           switch (info.param) {
                             case SrtpProfile::kAes128CmSha1_80: return "AesCm128HmacSha1_80";
                             case SrtpProfile::kAes128CmSha1_32: return "AesCm128HmacSha1_32";
                             case SrtpProfile::kAeadAes128Gcm: return "AeadAes128Gcm";
                             case SrtpProfile::kAeadAes256Gcm: return "AeadAes256Gcm";
                           }
                           return "unknown";
                         });

}  // namespace
}  // namespace junction::transports
