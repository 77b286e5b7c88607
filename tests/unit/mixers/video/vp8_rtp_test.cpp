#include "mixers/video/vp8_rtp.h"

#include <gtest/gtest.h>

#include <numeric>

namespace junction::mixers {
namespace {

// A fake VP8 frame: the first byte's low bit is the inverse keyframe flag (RFC 6386 §9.1).
std::vector<uint8_t> fake_frame(size_t size, bool key, uint8_t seed) {
  std::vector<uint8_t> f(size);
  std::iota(f.begin(), f.end(), seed);
  f[0] = static_cast<uint8_t>((f[0] & ~1) | (key ? 0 : 1));
  return f;
}

struct Packets {
  std::vector<uint8_t> bytes;
  std::vector<size_t> sizes;
  // Views into `bytes`: keep the Packets alive while they are used.
  std::vector<std::span<const uint8_t>> list() const {
    std::vector<std::span<const uint8_t>> out;
    size_t at = 0;
    for (size_t n : sizes) {
      out.push_back({bytes.data() + at, n});
      at += n;
    }
    return out;
  }
};

Packets cut(const std::vector<uint8_t>& frame, size_t max = 1200) {
  Packets p;
  packetize_vp8(frame, 1234, max, p.bytes, p.sizes);
  return p;
}

TEST(Vp8Rtp, PacketizeRespectsTheSizeAndRoundTrips) {
  auto frame = fake_frame(5000, true, 7);
  Packets p = cut(frame);
  ASSERT_EQ(p.sizes.size(), 5u);  // 5000 bytes in payloads of at most 1196
  for (size_t n : p.sizes) EXPECT_LE(n, 1200u);
  Vp8Depacketizer d;
  uint16_t seq = 100;
  auto list = p.list();
  for (size_t i = 0; i < list.size(); ++i) {
    auto desc = parse_vp8_descriptor(list[i]);
    ASSERT_TRUE(desc);
    EXPECT_EQ(desc->start, i == 0);
    auto r = d.push(seq++, 9000, i + 1 == list.size(), list[i]);
    EXPECT_EQ(r, i + 1 == list.size() ? Vp8Depacketizer::Result::kFrame : Vp8Depacketizer::Result::kNone);
  }
  EXPECT_EQ(d.frame().data, frame);
  EXPECT_TRUE(d.frame().keyframe);
  EXPECT_EQ(d.frame().timestamp, 9000u);
}

TEST(Vp8Rtp, StartsOnlyOnAKeyframe) {
  Vp8Depacketizer d;
  Packets delta_packets = cut(fake_frame(100, false, 1)), key_packets = cut(fake_frame(100, true, 1));
  auto delta = delta_packets.list(), key = key_packets.list();
  EXPECT_EQ(d.push(1, 100, true, delta[0]), Vp8Depacketizer::Result::kNeedKeyframe);
  EXPECT_EQ(d.push(2, 200, true, key[0]), Vp8Depacketizer::Result::kFrame);
  EXPECT_EQ(d.push(3, 300, true, delta[0]), Vp8Depacketizer::Result::kFrame);
}

TEST(Vp8Rtp, ALossWaitsForTheNextKeyframe) {
  Vp8Depacketizer d;
  Packets key_packets = cut(fake_frame(3000, true, 3)), delta_packets = cut(fake_frame(3000, false, 5));
  auto key = key_packets.list(), delta = delta_packets.list();
  uint16_t seq = 65530;  // across the wrap
  for (size_t i = 0; i < key.size(); ++i) d.push(seq++, 1000, i + 1 == key.size(), key[i]);
  ASSERT_FALSE(d.waiting_keyframe());
  // The second packet of the next frame is lost.
  EXPECT_EQ(d.push(seq++, 2000, false, delta[0]), Vp8Depacketizer::Result::kNone);
  seq++;
  EXPECT_EQ(d.push(seq++, 2000, true, delta[2]), Vp8Depacketizer::Result::kNeedKeyframe);
  EXPECT_TRUE(d.waiting_keyframe());
  // Whole delta frames after the loss are not handed out either.
  for (size_t i = 0; i < delta.size(); ++i)
    EXPECT_NE(d.push(seq++, 3000, i + 1 == delta.size(), delta[i]), Vp8Depacketizer::Result::kFrame);
  Vp8Depacketizer::Result last{};
  for (size_t i = 0; i < key.size(); ++i) last = d.push(seq++, 4000, i + 1 == key.size(), key[i]);
  EXPECT_EQ(last, Vp8Depacketizer::Result::kFrame);
  EXPECT_TRUE(d.frame().keyframe);
}

TEST(Vp8Rtp, DuplicatesAndLatePacketsAreIgnored) {
  Vp8Depacketizer d;
  Packets packets = cut(fake_frame(2000, true, 9));
  auto key = packets.list();
  EXPECT_EQ(d.push(10, 1, false, key[0]), Vp8Depacketizer::Result::kNone);
  EXPECT_EQ(d.push(10, 1, false, key[0]), Vp8Depacketizer::Result::kNone);
  EXPECT_EQ(d.push(9, 1, false, key[0]), Vp8Depacketizer::Result::kNone);
  EXPECT_EQ(d.push(11, 1, true, key[1]), Vp8Depacketizer::Result::kFrame);
}

TEST(Vp8Rtp, DescriptorForms) {
  // X=1 with I (7-bit), L, T/K; then a keyframe payload header.
  const uint8_t full[] = {0x90, 0xE0, 0x05, 0x01, 0x20, 0x10};
  auto d = parse_vp8_descriptor(full);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->header_size, 5u);
  EXPECT_TRUE(d->start);
  EXPECT_TRUE(d->keyframe);
  const uint8_t minimal[] = {0x10, 0x01};
  d = parse_vp8_descriptor(minimal);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->header_size, 1u);
  EXPECT_FALSE(d->keyframe);
  const uint8_t truncated[] = {0x90, 0x80};
  EXPECT_FALSE(parse_vp8_descriptor(truncated));
  EXPECT_FALSE(parse_vp8_descriptor({}));
}

}  // namespace
}  // namespace junction::mixers
