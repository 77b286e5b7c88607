#include "plugins/videoroom/forwarder.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/media/rtp_extensions.h"

namespace junction::videoroom {
namespace {

using namespace std::chrono_literals;
using Clock = Forwarder::Clock;

// One VP8 packet: descriptor with a 15-bit picture id, TL0PICIDX and TID, then a payload
// header whose P bit says key or delta frame.
struct Vp8 {
  uint32_t ssrc = 1;
  uint16_t seq = 0;
  uint32_t ts = 0;
  uint16_t picture_id = 0;
  uint8_t tl0 = 0;
  bool keyframe = false;
  uint8_t pt = 96;
};

std::vector<uint8_t> vp8_packet(const Vp8& v) {
  std::vector<uint8_t> payload = {0x90, 0xE0, static_cast<uint8_t>(0x80 | (v.picture_id >> 8)),
                                  static_cast<uint8_t>(v.picture_id), v.tl0, 0x00,
                                  static_cast<uint8_t>(v.keyframe ? 0x00 : 0x01), 0x11, 0x22};
  std::vector<uint8_t> out(64);
  out.resize(media::rtp_write(out, v.pt, v.seq, v.ts, v.ssrc, false, payload));
  return out;
}

struct Sent {
  uint16_t seq;
  uint32_t ts;
  uint8_t pt;
  uint16_t picture_id;
  uint8_t tl0;
};

// Runs one packet through the forwarder; returns what the subscriber would get, if anything.
std::optional<Sent> forward(Forwarder& f, std::vector<uint8_t> bytes, Clock::time_point now) {
  auto rtp = media::RtpPacket::parse(bytes);
  EXPECT_TRUE(rtp);
  std::vector<uint8_t> copy = bytes;
  if (!f.rewrite(copy, *rtp, now)) return std::nullopt;
  auto out = media::RtpPacket::parse(copy);
  auto desc = media::parse_vp8_descriptor(out->payload());
  return Sent{out->sequence(), out->timestamp(), out->payload_type(), desc->picture_id.value_or(0),
              desc->tl0_pic_idx.value_or(0)};
}

TEST(Forwarder, HoldsVideoUntilAKeyframe) {
  Forwarder f(VideoCodec::kVp8, 100);
  auto t = Clock::now();
  EXPECT_FALSE(forward(f, vp8_packet({.seq = 10, .ts = 900}), t));
  auto first = forward(f, vp8_packet({.seq = 11, .ts = 1800, .keyframe = true}), t);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->seq, 11);  // the first run keeps the publisher's numbering
  EXPECT_EQ(first->pt, 100);  // the subscriber's payload type
  EXPECT_TRUE(forward(f, vp8_packet({.seq = 12, .ts = 2700}), t));
}

TEST(Forwarder, ContinuesNumberingAcrossASourceChange) {
  Forwarder f(VideoCodec::kVp8, 96);
  auto t = Clock::now();
  for (uint16_t i = 0; i < 5; ++i)
    ASSERT_TRUE(forward(f, vp8_packet({.ssrc = 1, .seq = static_cast<uint16_t>(100 + i), .ts = 9000u * i,
                                       .picture_id = static_cast<uint16_t>(300 + i), .tl0 = 7, .keyframe = i == 0}),
                        t));
  // Another layer: its own SSRC, numbering, timestamps and picture ids. A delta frame waits.
  t += 40ms;
  EXPECT_FALSE(forward(f, vp8_packet({.ssrc = 2, .seq = 60000, .ts = 5, .picture_id = 20000, .tl0 = 200}), t));
  auto sent = forward(f, vp8_packet({.ssrc = 2, .seq = 60001, .ts = 3605, .picture_id = 20001, .tl0 = 201, .keyframe = true}), t);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->seq, 105);
  EXPECT_EQ(sent->ts, 9000u * 4 + 40 * 90);  // 40 ms of wall clock after the last one sent
  EXPECT_EQ(sent->picture_id, 305);
  EXPECT_EQ(sent->tl0, 8);
  auto next = forward(f, vp8_packet({.ssrc = 2, .seq = 60002, .ts = 3605 + 3000, .picture_id = 20002, .tl0 = 201}), t);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->seq, 106);
  EXPECT_EQ(next->ts, sent->ts + 3000);
  EXPECT_EQ(next->picture_id, 306);
  EXPECT_EQ(next->tl0, 8);
}

TEST(Forwarder, PacketsFromBeforeASwitchAreNotSent) {
  Forwarder f(VideoCodec::kVp8, 96);
  auto t = Clock::now();
  for (uint16_t seq = 10; seq < 20; ++seq)
    ASSERT_TRUE(forward(f, vp8_packet({.ssrc = 1, .seq = seq, .keyframe = seq == 10}), t));
  ASSERT_TRUE(forward(f, vp8_packet({.ssrc = 2, .seq = 500, .keyframe = true}), t));
  // A packet of the new source sent before its keyframe (say, re-sent as RTX padding) would be
  // numbered 15, which the subscriber already has from the old source.
  EXPECT_FALSE(forward(f, vp8_packet({.ssrc = 2, .seq = 495}), t));
  auto next = forward(f, vp8_packet({.ssrc = 2, .seq = 501}), t);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->seq, 21);
  // Within the run, a late packet is still sent (the subscriber may be waiting for it).
  EXPECT_TRUE(forward(f, vp8_packet({.ssrc = 2, .seq = 500}), t));
}

TEST(Forwarder, ALatePacketDoesNotSetWhereTheNextRunContinues) {
  Forwarder f(VideoCodec::kVp8, 96);
  auto t = Clock::now();
  ASSERT_TRUE(forward(f, vp8_packet({.ssrc = 1, .seq = 10, .ts = 100, .picture_id = 40, .tl0 = 4, .keyframe = true}), t));
  ASSERT_TRUE(forward(f, vp8_packet({.ssrc = 1, .seq = 11, .ts = 200, .picture_id = 41, .tl0 = 5}), t));
  // The keyframe packet again (a sender re-sends old packets as RTX padding to probe bandwidth).
  ASSERT_TRUE(forward(f, vp8_packet({.ssrc = 1, .seq = 10, .ts = 100, .picture_id = 40, .tl0 = 4, .keyframe = true}), t));
  auto next = forward(f, vp8_packet({.ssrc = 2, .seq = 900, .ts = 7, .picture_id = 3000, .tl0 = 90, .keyframe = true}), t);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->seq, 12);
  EXPECT_EQ(next->picture_id, 42);  // after 41, not after the re-sent 40
  EXPECT_EQ(next->tl0, 6);
}

TEST(Forwarder, SkippedPacketsLeaveNoGap) {
  Forwarder f(VideoCodec::kVp8, 96);
  auto t = Clock::now();
  ASSERT_TRUE(forward(f, vp8_packet({.seq = 1, .keyframe = true}), t));
  ASSERT_TRUE(forward(f, vp8_packet({.seq = 2}), t));
  for (uint16_t seq : {3, 4}) {
    auto p = vp8_packet({.seq = seq});
    f.skip(*media::RtpPacket::parse(p));
  }
  auto p5 = forward(f, vp8_packet({.seq = 5}), t);
  ASSERT_TRUE(p5);
  EXPECT_EQ(p5->seq, 3);
  // A late packet from before the skip keeps its own place.
  auto p2 = vp8_packet({.seq = 2});
  f.skip(*media::RtpPacket::parse(p2));
  auto p6 = forward(f, vp8_packet({.seq = 6}), t);
  EXPECT_EQ(p6->seq, 4);
}

TEST(Forwarder, RestartWaitsForAKeyframeAndContinues) {
  Forwarder f(VideoCodec::kVp8, 96);
  auto t = Clock::now();
  ASSERT_TRUE(forward(f, vp8_packet({.seq = 500, .ts = 1000, .keyframe = true}), t));
  f.restart();  // a pause and resume of the same source
  EXPECT_FALSE(forward(f, vp8_packet({.seq = 900, .ts = 50000}), t + 2s));
  auto sent = forward(f, vp8_packet({.seq = 901, .ts = 53000, .keyframe = true}), t + 2s);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->seq, 501);
  EXPECT_EQ(sent->ts, 1000u + 2 * 90000);
}

}  // namespace
}  // namespace junction::videoroom
