// What the load generator sends is what a real receiver accepts: Opus that still decodes with
// the trailer in its padding, VP8 whose keyframes an SFU recognises, the rates the benchmarks
// claim, and a trailer that reads back exactly.
#include "tests/bench/loadgen/synthetic_media.h"

#include <gtest/gtest.h>

#include "core/media/rtp_extensions.h"
#include "core/media/rtp_packet.h"
#include "mixers/audio/opus_codec.h"

namespace junction::loadgen {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

TEST(SyntheticMedia, TrailerReadsBackAndIsRecognisedOnlyWithItsMagic) {
  std::vector<uint8_t> payload(60, 0xAB);
  Trailer t{7, 123456, 0x0102030405060708ull};
  t.write(payload.data() + payload.size() - Trailer::kSize);
  auto back = Trailer::read(payload);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->source, 7u);
  EXPECT_EQ(back->sequence, 123456u);
  EXPECT_EQ(back->sent_ns, 0x0102030405060708ull);
  payload[payload.size() - Trailer::kSize] ^= 1;
  EXPECT_FALSE(Trailer::read(payload));
  EXPECT_FALSE(Trailer::read(std::span<const uint8_t>(payload.data(), Trailer::kSize - 1)));
}

TEST(SyntheticMedia, PaddedOpusDecodesLikeTheOriginal) {
  mixers::OpusEncoder encoder({48000, 32000, 4, 0});
  std::vector<int16_t> pcm(static_cast<size_t>(encoder.frame_samples()));
  for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = static_cast<int16_t>(8000 * ((i / 40) % 2 ? 1 : -1));
  auto frame = encoder.encode(pcm);
  std::vector<uint8_t> original(frame.begin(), frame.end());
  ASSERT_EQ(original[0] & 3, 0) << "libopus gives code-0 packets for one 20 ms frame";
  auto padded = opus_with_padding(original, Trailer::kSize);
  ASSERT_EQ(padded.size(), original.size() + 2 + Trailer::kSize);
  EXPECT_EQ(padded[0] & 3, 3);
  Trailer{1, 2, 3}.write(padded.data() + padded.size() - Trailer::kSize);  // inside the padding

  mixers::OpusDecoder a(48000), b(48000);
  std::vector<int16_t> from_original, from_padded;
  ASSERT_EQ(a.decode(original, from_original), 960);
  ASSERT_EQ(b.decode(padded, from_padded), 960);
  EXPECT_EQ(from_original, from_padded);
  EXPECT_TRUE(opus_with_padding(padded, 4).empty()) << "only code-0 packets are rewritten";
}

TEST(SyntheticMedia, OpusLoopCarriesTrailerRoomAndTheAudioLevel) {
  auto frames = std::make_shared<const std::vector<std::vector<uint8_t>>>(encode_opus_loop(440, 6000));
  ASSERT_EQ(frames->size(), 50u);
  OpusSource source(111, 0x1234, frames, 1, 20);
  std::vector<OutPacket> out;
  auto t0 = Clock::now();
  for (int ms = 0; ms <= 1000; ms += 5) source.due(t0 + std::chrono::milliseconds(ms), out);
  EXPECT_EQ(out.size(), 51u) << "50 packets per second (plus the one at t=0)";
  auto rtp = media::RtpPacket::parse(out[3].bytes);
  ASSERT_TRUE(rtp);
  EXPECT_EQ(rtp->payload_type(), 111);
  EXPECT_EQ(rtp->timestamp(), 3u * 960);
  auto level = media::read_audio_level(rtp->extension(1));
  ASSERT_TRUE(level);
  EXPECT_EQ(level->level_dbov, 20);
  EXPECT_EQ(out[3].trailer_offset, out[3].bytes.size() - Trailer::kSize);
}

TEST(SyntheticMedia, Vp8HasKeyframesAtTheIntervalAndAboutTheClaimedRate) {
  Vp8Source source(96, 0x5678, 3s);
  std::vector<OutPacket> out;
  auto t0 = Clock::now();
  for (int ms = 0; ms < 6000; ms += 5) source.due(t0 + std::chrono::milliseconds(ms), out);
  int keyframes = 0, frames = 0;
  for (const auto& p : out) {
    auto rtp = media::RtpPacket::parse(p.bytes);
    ASSERT_TRUE(rtp);
    ASSERT_TRUE(media::parse_vp8_descriptor(rtp->payload()));
    keyframes += media::vp8_is_keyframe(rtp->payload());
    frames += rtp->marker();
    EXPECT_LE(p.bytes.size() + 16, 1200u) << "fits a 1200-byte datagram with the SRTP tag";
  }
  EXPECT_EQ(keyframes, 2) << "the first frame and one 3 s later";
  EXPECT_NEAR(frames, 180, 2) << "30 frames per second";
  EXPECT_NEAR(static_cast<double>(out.size()) / 6.0, 110, 10) << "packets per second";
  source.request_keyframe();
  std::vector<OutPacket> more;
  source.due(t0 + 6034ms, more);
  ASSERT_FALSE(more.empty());
  auto first = media::RtpPacket::parse(more.front().bytes);
  EXPECT_TRUE(media::vp8_is_keyframe(first->payload())) << "a requested keyframe comes next";
}

}  // namespace
}  // namespace junction::loadgen
