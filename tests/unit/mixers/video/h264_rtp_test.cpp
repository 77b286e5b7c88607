#include "mixers/video/h264_rtp.h"

#include <gtest/gtest.h>

#include <numeric>

namespace junction::mixers {
namespace {

using Result = Depacketizer::Result;
using Bytes = std::vector<uint8_t>;

// A fake NAL unit: its header (F=0, NRI=3, `type`), then `size` - 1 counting bytes that never
// hold a start code (1..250) and do not end in 0.
Bytes nal(uint8_t type, size_t size, uint8_t seed = 1) {
  Bytes n(size);
  n[0] = static_cast<uint8_t>(0x60 | type);
  for (size_t i = 1; i < size; ++i) n[i] = static_cast<uint8_t>(1 + (seed + i) % 250);
  return n;
}

Bytes annex_b(std::initializer_list<Bytes> nals) {
  Bytes out;
  for (const Bytes& n : nals) {
    out.insert(out.end(), {0, 0, 0, 1});
    out.insert(out.end(), n.begin(), n.end());
  }
  return out;
}

Bytes stap_a(std::initializer_list<Bytes> nals) {
  Bytes out{0x78};  // NRI 3, type 24
  for (const Bytes& n : nals) {
    out.push_back(static_cast<uint8_t>(n.size() >> 8));
    out.push_back(static_cast<uint8_t>(n.size()));
    out.insert(out.end(), n.begin(), n.end());
  }
  return out;
}

// `n` FU-A fragments of `unit`, as a sender would cut it.
std::vector<Bytes> fu_a(const Bytes& unit, size_t n) {
  std::vector<Bytes> out;
  const size_t body = unit.size() - 1, piece = (body + n - 1) / n;
  for (size_t k = 0, at = 1; k < n; ++k, at += piece) {
    Bytes p{static_cast<uint8_t>((unit[0] & 0xE0) | 28),
            static_cast<uint8_t>((k == 0 ? 0x80 : 0) | (k + 1 == n ? 0x40 : 0) | (unit[0] & 0x1F))};
    p.insert(p.end(), unit.begin() + static_cast<ptrdiff_t>(at),
             unit.begin() + static_cast<ptrdiff_t>(std::min(unit.size(), at + piece)));
    out.push_back(p);
  }
  return out;
}

const Bytes kSps = nal(7, 12, 3), kPps = nal(8, 5, 9);

// Pushes packets (consecutive sequence numbers, one timestamp, the marker on the last); the
// result of each.
std::vector<Result> push_frame(H264Depacketizer& d, uint16_t& seq, uint32_t ts, const std::vector<Bytes>& packets) {
  std::vector<Result> out;
  for (size_t i = 0; i < packets.size(); ++i) out.push_back(d.push(seq++, ts, i + 1 == packets.size(), packets[i]));
  return out;
}

TEST(H264Rtp, PacketizeCutsLargeUnitsIntoFuAAndRoundTrips) {
  const Bytes idr = nal(5, 5000);
  const Bytes frame = annex_b({kSps, kPps, idr});
  Bytes bytes;
  std::vector<size_t> sizes;
  packetize_h264(frame, 1200, bytes, sizes);
  ASSERT_EQ(sizes.size(), 2u + 5u);  // SPS, PPS alone; 4999 bytes of IDR body in pieces of <= 1198
  for (size_t n : sizes) EXPECT_LE(n, 1200u);
  H264Depacketizer d;
  size_t at = 0;
  for (size_t k = 0; k < sizes.size(); ++k) {
    const bool last = k + 1 == sizes.size();
    EXPECT_EQ(d.push(static_cast<uint16_t>(65530 + k), 3000, last, {bytes.data() + at, sizes[k]}),
              last ? Result::kFrame : Result::kNone);  // the sequence numbers wrap on the way
    at += sizes[k];
  }
  EXPECT_EQ(d.frame().data, frame);
  EXPECT_TRUE(d.frame().keyframe);
  EXPECT_EQ(d.frame().timestamp, 3000u);
  EXPECT_EQ(d.frame().codec, VideoCodec::kH264);
}

TEST(H264Rtp, StapAAndASingleNalUnitMakeAKeyframe) {
  H264Depacketizer d;
  const Bytes idr = nal(5, 300);
  uint16_t seq = 7;
  auto r = push_frame(d, seq, 100, {stap_a({kSps, kPps}), idr});
  EXPECT_EQ(r, (std::vector<Result>{Result::kNone, Result::kFrame}));
  EXPECT_EQ(d.frame().data, annex_b({kSps, kPps, idr}));
  EXPECT_TRUE(d.frame().keyframe);
  // A delta frame (non-IDR slice, type 1) follows.
  const Bytes p = nal(1, 80);
  EXPECT_EQ(push_frame(d, seq, 200, {p}).back(), Result::kFrame);
  EXPECT_EQ(d.frame().data, annex_b({p}));
  EXPECT_FALSE(d.frame().keyframe);
}

TEST(H264Rtp, FuARebuildsTheNalHeader) {
  H264Depacketizer d;
  Bytes idr = nal(5, 2500);
  idr[0] = 0x25;  // NRI 1: the rebuilt header takes F and NRI from the FU indicator
  auto frags = fu_a(idr, 3);
  std::vector<Bytes> packets{stap_a({kSps, kPps})};
  packets.insert(packets.end(), frags.begin(), frags.end());
  uint16_t seq = 1;
  EXPECT_EQ(push_frame(d, seq, 100, packets).back(), Result::kFrame);
  EXPECT_EQ(d.frame().data, annex_b({kSps, kPps, idr}));
  EXPECT_TRUE(d.frame().keyframe);
}

TEST(H264Rtp, StartsOnlyOnAnIdrWithItsParameterSets) {
  H264Depacketizer d;
  uint16_t seq = 1;
  EXPECT_EQ(push_frame(d, seq, 100, {nal(1, 50)}).back(), Result::kNeedKeyframe);  // a delta first
  EXPECT_EQ(push_frame(d, seq, 200, {nal(5, 50)}).back(), Result::kNeedKeyframe);  // IDR, no SPS/PPS yet
  EXPECT_TRUE(d.waiting_keyframe());
  EXPECT_EQ(push_frame(d, seq, 300, {stap_a({kSps, kPps}), nal(5, 50)}).back(), Result::kFrame);
  EXPECT_FALSE(d.waiting_keyframe());
  EXPECT_EQ(push_frame(d, seq, 400, {nal(1, 50)}).back(), Result::kFrame);
}

TEST(H264Rtp, ALossWaitsForTheNextIdr) {
  H264Depacketizer d;
  uint16_t seq = 1;
  ASSERT_EQ(push_frame(d, seq, 100, {stap_a({kSps, kPps}), nal(5, 500)}).back(), Result::kFrame);
  ASSERT_EQ(push_frame(d, seq, 200, {nal(1, 50)}).back(), Result::kFrame);
  // A delta frame in three fragments loses its middle one.
  auto frags = fu_a(nal(1, 3000), 3);
  EXPECT_EQ(d.push(seq++, 300, false, frags[0]), Result::kNone);
  ++seq;  // frags[1] lost
  EXPECT_EQ(d.push(seq++, 300, true, frags[2]), Result::kNeedKeyframe);
  EXPECT_TRUE(d.waiting_keyframe());
  // Whole delta frames after it refer to the broken one: dropped, a keyframe asked for again.
  for (uint32_t ts = 400; ts < 700; ts += 100) EXPECT_EQ(push_frame(d, seq, ts, {nal(1, 60)}).back(), Result::kNeedKeyframe);
  // Another loss, at the start of a frame: its remaining packets are skipped up to the marker.
  auto more = fu_a(nal(1, 3000), 3);
  ++seq;
  EXPECT_NE(d.push(seq++, 700, false, more[1]), Result::kFrame);
  EXPECT_NE(d.push(seq++, 700, true, more[2]), Result::kFrame);
  // The IDR (the parameter sets came before) resumes the stream, then deltas decode again.
  const Bytes idr = nal(5, 400);
  EXPECT_EQ(push_frame(d, seq, 800, {idr}).back(), Result::kFrame);
  EXPECT_TRUE(d.frame().keyframe);
  EXPECT_EQ(d.frame().data, annex_b({idr}));
  EXPECT_EQ(push_frame(d, seq, 900, {nal(1, 60)}).back(), Result::kFrame);
}

// The last packet of a delta frame is lost and the keyframe comes right after it: the keyframe's
// STAP-A with the SPS shows where it starts, no second PLI needed.
TEST(H264Rtp, AKeyframeRightAfterALostMarkerIsTaken) {
  H264Depacketizer d;
  uint16_t seq = 1;
  ASSERT_EQ(push_frame(d, seq, 100, {stap_a({kSps, kPps}), nal(5, 500)}).back(), Result::kFrame);
  auto frags = fu_a(nal(1, 3000), 3);
  EXPECT_EQ(d.push(seq++, 200, false, frags[0]), Result::kNone);
  EXPECT_EQ(d.push(seq++, 200, false, frags[1]), Result::kNone);
  ++seq;  // frags[2], with the marker, lost
  const Bytes idr = nal(5, 700);
  EXPECT_EQ(d.push(seq++, 300, false, stap_a({kSps, kPps})), Result::kNeedKeyframe);  // the break
  EXPECT_EQ(d.push(seq++, 300, true, idr), Result::kFrame);
  EXPECT_EQ(d.frame().data, annex_b({kSps, kPps, idr}));
  // A delta frame's middle after a loss is not a start, even with a new timestamp.
  auto more = fu_a(nal(1, 3000), 3);
  ++seq;
  EXPECT_EQ(d.push(seq++, 400, false, more[1]), Result::kNeedKeyframe);
  EXPECT_EQ(d.push(seq++, 400, true, more[2]), Result::kNone);
  EXPECT_EQ(push_frame(d, seq, 500, {nal(1, 60)}).back(), Result::kNeedKeyframe);
}

TEST(H264Rtp, ALostKeyframeFragmentIsNotAKeyframe) {
  H264Depacketizer d;
  uint16_t seq = 1;
  auto frags = fu_a(nal(5, 3000), 3);
  EXPECT_EQ(d.push(seq++, 100, false, stap_a({kSps, kPps})), Result::kNone);
  EXPECT_EQ(d.push(seq++, 100, false, frags[0]), Result::kNone);
  ++seq;
  EXPECT_NE(d.push(seq++, 100, true, frags[2]), Result::kFrame);
  EXPECT_TRUE(d.waiting_keyframe());
}

TEST(H264Rtp, MalformedPayloadsBreakTheStreamAndDuplicatesAreIgnored) {
  H264Depacketizer d;
  uint16_t seq = 1;
  ASSERT_EQ(push_frame(d, seq, 100, {stap_a({kSps, kPps}), nal(5, 100)}).back(), Result::kFrame);
  // Duplicates and late packets change nothing.
  EXPECT_EQ(d.push(static_cast<uint16_t>(seq - 1), 100, true, nal(5, 100)), Result::kNone);
  EXPECT_EQ(d.push(static_cast<uint16_t>(seq - 2), 100, false, stap_a({kSps, kPps})), Result::kNone);
  EXPECT_FALSE(d.waiting_keyframe());
  // A STAP-A whose size runs past its end.
  Bytes bad = stap_a({kSps});
  bad[2] = 200;
  EXPECT_EQ(d.push(seq++, 200, true, bad), Result::kNeedKeyframe);
  ASSERT_EQ(push_frame(d, seq, 300, {stap_a({kSps, kPps}), nal(5, 100)}).back(), Result::kFrame);
  // A FU-A fragment without its start, an FU-B (29), the forbidden bit, a marked empty payload.
  auto frags = fu_a(nal(1, 500), 2);
  EXPECT_EQ(d.push(seq++, 400, true, frags[1]), Result::kNeedKeyframe);
  for (Bytes p : {Bytes{0x7D, 0x81, 1, 2}, Bytes{0xE1, 1, 2}, Bytes{}}) {
    ASSERT_EQ(push_frame(d, seq, 500, {stap_a({kSps, kPps}), nal(5, 100)}).back(), Result::kFrame);
    EXPECT_EQ(d.push(seq++, 600, true, p), Result::kNeedKeyframe);
  }
  // A FU-A that never ends before the marker.
  ASSERT_EQ(push_frame(d, seq, 700, {stap_a({kSps, kPps}), nal(5, 100)}).back(), Result::kFrame);
  EXPECT_EQ(d.push(seq++, 800, true, frags[0]), Result::kNeedKeyframe);
}

// Padding-only packets (an empty payload, no marker) count in the sequence and change nothing,
// even in the middle of a frame.
TEST(H264Rtp, PaddingPacketsAreSkipped) {
  H264Depacketizer d;
  uint16_t seq = 1;
  EXPECT_EQ(d.push(seq++, 50, false, {}), Result::kNone);
  const Bytes idr = nal(5, 2000);
  auto frags = fu_a(idr, 2);
  EXPECT_EQ(d.push(seq++, 100, false, stap_a({kSps, kPps})), Result::kNone);
  EXPECT_EQ(d.push(seq++, 100, false, frags[0]), Result::kNone);
  EXPECT_EQ(d.push(seq++, 100, false, {}), Result::kNone);
  EXPECT_EQ(d.push(seq++, 100, true, frags[1]), Result::kFrame);
  EXPECT_EQ(d.frame().data, annex_b({kSps, kPps, idr}));
  EXPECT_EQ(d.push(seq++, 150, false, {}), Result::kNone);
  EXPECT_EQ(push_frame(d, seq, 200, {nal(1, 60)}).back(), Result::kFrame);
}

TEST(H264Rtp, SplitAnnexBTakesThreeAndFourByteStartCodes) {
  Bytes stream{0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 0, 1, 0x65, 4, 5};
  auto nals = split_annex_b(stream);
  ASSERT_EQ(nals.size(), 3u);
  EXPECT_EQ(Bytes(nals[0].begin(), nals[0].end()), (Bytes{0x67, 1, 2}));
  EXPECT_EQ(Bytes(nals[1].begin(), nals[1].end()), (Bytes{0x68, 3}));
  EXPECT_EQ(Bytes(nals[2].begin(), nals[2].end()), (Bytes{0x65, 4, 5}));
}

}  // namespace
}  // namespace junction::mixers
