#include "core/media/rtp_extensions.h"

#include <gtest/gtest.h>

#include <vector>

namespace junction::media {
namespace {

using Bytes = std::vector<uint8_t>;

TEST(RtpExtensions, AudioLevel) {
  auto a = read_audio_level(Bytes{0x85});
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->voice);
  EXPECT_EQ(a->level_dbov, 5);
  a = read_audio_level(Bytes{0x7F});
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->voice);
  EXPECT_EQ(a->level_dbov, 127);
  EXPECT_FALSE(read_audio_level(Bytes{}));
}

TEST(RtpExtensions, TransportSequenceAndAbsSendTime) {
  EXPECT_EQ(read_transport_seq(Bytes{0x12, 0x34}), 0x1234);
  EXPECT_EQ(read_transport_seq(Bytes{0xFF, 0xFE, 0x80, 0x01}), 0xFFFE);  // -02 with request
  EXPECT_FALSE(read_transport_seq(Bytes{0x12}));
  EXPECT_EQ(read_abs_send_time(Bytes{0x40, 0x00, 0x01}), 0x400001u);
  EXPECT_FALSE(read_abs_send_time(Bytes{0x40, 0x00}));
  EXPECT_FALSE(read_abs_send_time(Bytes{0x40, 0x00, 0x01, 0x02}));
}

TEST(RtpExtensions, SdesStrings) {
  EXPECT_EQ(read_sdes_string(Bytes{'0'}), "0");
  EXPECT_EQ(read_sdes_string(Bytes{'h', 'i', 0, 0}), "hi");
  EXPECT_EQ(read_sdes_string(Bytes{}), "");
}

// --- VP8 ---

TEST(RtpVp8, KeyframeWithFifteenBitPictureId) {
  // X=1 S=1 PID=0 | I=1 | M=1 picture id 0x0123 | VP8 header with P=0.
  const Bytes key = {0x90, 0x80, 0x81, 0x23, 0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A};
  auto d = parse_vp8_descriptor(key);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->start_of_partition);
  EXPECT_EQ(d->partition_id, 0);
  EXPECT_EQ(d->picture_id, 0x0123);
  EXPECT_TRUE(d->picture_id_15bit);
  EXPECT_FALSE(d->tl0_pic_idx);
  EXPECT_EQ(d->size, 4u);
  EXPECT_TRUE(vp8_is_keyframe(key));

  Bytes delta = key;
  delta[4] = 0x11;  // P=1: interframe
  EXPECT_FALSE(vp8_is_keyframe(delta));

  Bytes middle = key;
  middle[0] = 0x80;  // S=0: not the start of a partition
  EXPECT_FALSE(vp8_is_keyframe(middle));

  Bytes other_partition = key;
  other_partition[0] = 0x91;  // PID=1
  EXPECT_FALSE(vp8_is_keyframe(other_partition));

  EXPECT_FALSE(vp8_is_keyframe(Bytes{0x90, 0x80, 0x81, 0x23}));  // no VP8 header byte
}

TEST(RtpVp8, AllOptionalFields) {
  // X=1 N=1 S=1 | I L T K | 7-bit picture id 5 | TL0PICIDX 0x11 | TID=2 Y=1 KEYIDX=3 | payload.
  const Bytes p = {0xB0, 0xF0, 0x05, 0x11, 0xA3, 0x10};
  auto d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->non_reference);
  EXPECT_EQ(d->picture_id, 5);
  EXPECT_FALSE(d->picture_id_15bit);
  EXPECT_EQ(d->tl0_pic_idx, 0x11);
  EXPECT_EQ(d->temporal_id, 2);
  EXPECT_TRUE(d->layer_sync);
  EXPECT_EQ(d->key_idx, 3);
  EXPECT_EQ(d->size, 5u);
  EXPECT_TRUE(vp8_is_keyframe(p));

  // Without X the descriptor is one byte.
  auto plain = parse_vp8_descriptor(Bytes{0x10, 0x00});
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->size, 1u);
  EXPECT_FALSE(plain->picture_id);
}

TEST(RtpVp8, TruncatedDescriptorsAreRejected) {
  EXPECT_FALSE(parse_vp8_descriptor(Bytes{}));
  EXPECT_FALSE(parse_vp8_descriptor(Bytes{0x90}));              // X without its byte
  EXPECT_FALSE(parse_vp8_descriptor(Bytes{0x90, 0x80}));        // I without picture id
  EXPECT_FALSE(parse_vp8_descriptor(Bytes{0x90, 0x80, 0x81}));  // 15-bit id cut short
  EXPECT_FALSE(parse_vp8_descriptor(Bytes{0x90, 0x40}));        // L without TL0PICIDX
  EXPECT_FALSE(parse_vp8_descriptor(Bytes{0x90, 0x20}));        // T without TID byte
}

TEST(RtpVp8, RewritesPictureIdAndTl0) {
  Bytes p = {0x90, 0xC0, 0x81, 0x23, 0x11, 0x10};
  auto d = parse_vp8_descriptor(p);
  ASSERT_TRUE(d);
  vp8_set_picture_id(p, *d, 0x7FFE);
  vp8_set_tl0_pic_idx(p, *d, 0x42);
  EXPECT_EQ(p, (Bytes{0x90, 0xC0, 0xFF, 0xFE, 0x42, 0x10}));
  auto again = parse_vp8_descriptor(p);
  EXPECT_EQ(again->picture_id, 0x7FFE);
  EXPECT_EQ(again->tl0_pic_idx, 0x42);

  Bytes short_id = {0x90, 0x80, 0x05, 0x10};
  auto ds = parse_vp8_descriptor(short_id);
  vp8_set_picture_id(short_id, *ds, 0x1FF);  // keeps the 7-bit width
  EXPECT_EQ(short_id, (Bytes{0x90, 0x80, 0x7F, 0x10}));
}

// --- H.264 ---

TEST(RtpH264, KeyframeDetection) {
  EXPECT_TRUE(h264_is_keyframe(Bytes{0x65, 0x88}));   // IDR slice
  EXPECT_TRUE(h264_is_keyframe(Bytes{0x67, 0x42}));   // SPS
  EXPECT_FALSE(h264_is_keyframe(Bytes{0x41, 0x9A}));  // non-IDR slice
  EXPECT_FALSE(h264_is_keyframe(Bytes{0x68, 0xCE}));  // PPS alone
  EXPECT_FALSE(h264_is_keyframe(Bytes{}));

  // STAP-A: SPS and PPS; and one carrying only a non-IDR slice.
  EXPECT_TRUE(h264_is_keyframe(Bytes{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x01, 0x68}));
  EXPECT_TRUE(h264_is_keyframe(Bytes{0x78, 0x00, 0x01, 0x68, 0x00, 0x02, 0x65, 0x88}));
  EXPECT_FALSE(h264_is_keyframe(Bytes{0x78, 0x00, 0x02, 0x41, 0x9A}));
  EXPECT_FALSE(h264_is_keyframe(Bytes{0x78, 0x00, 0x09, 0x65, 0x88}));  // size past the end
  EXPECT_FALSE(h264_is_keyframe(Bytes{0x78, 0x00}));

  // FU-A: only the first fragment (S) of an IDR counts.
  EXPECT_TRUE(h264_is_keyframe(Bytes{0x7C, 0x85, 0x88}));
  EXPECT_FALSE(h264_is_keyframe(Bytes{0x7C, 0x05, 0x88}));  // middle fragment
  EXPECT_FALSE(h264_is_keyframe(Bytes{0x7C, 0x45, 0x88}));  // end fragment
  EXPECT_FALSE(h264_is_keyframe(Bytes{0x7C, 0x81, 0x9A}));  // start of a non-IDR slice
  EXPECT_FALSE(h264_is_keyframe(Bytes{0x7C}));
}

// --- VP9 ---

TEST(RtpVp9, KeyframeDetection) {
  // I=1 B=1, picture id 5: not inter-predicted, start of frame.
  EXPECT_TRUE(vp9_is_keyframe(Bytes{0x88, 0x05, 0x00}));
  // With layer indices (non-flexible): TID 0, SID 0, TL0PICIDX 7.
  EXPECT_TRUE(vp9_is_keyframe(Bytes{0xA8, 0x05, 0x00, 0x07, 0x00}));
  // Same but spatial layer 1: not the first layer.
  EXPECT_FALSE(vp9_is_keyframe(Bytes{0xA8, 0x05, 0x02, 0x07, 0x00}));
  // P=1: inter-picture predicted.
  EXPECT_FALSE(vp9_is_keyframe(Bytes{0xC8, 0x05, 0x00}));
  // B=0: not the first packet of the frame.
  EXPECT_FALSE(vp9_is_keyframe(Bytes{0x80, 0x05, 0x00}));
  EXPECT_FALSE(vp9_is_keyframe(Bytes{}));
}

TEST(RtpVp9, DescriptorFields) {
  // I P L F B: 15-bit picture id, layer byte (TID 2, U, SID 1, D), two P_DIFFs.
  const Bytes flex = {0xF8, 0x80, 0x10, 0x53, 0x07, 0x06, 0xAA};
  auto d = parse_vp9_descriptor(flex);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->inter_picture);
  EXPECT_TRUE(d->flexible);
  EXPECT_EQ(d->picture_id, 0x0010);
  EXPECT_TRUE(d->picture_id_15bit);
  EXPECT_EQ(d->temporal_id, 2);
  EXPECT_TRUE(d->switching_up);
  EXPECT_EQ(d->spatial_id, 1);
  EXPECT_TRUE(d->inter_layer_dependency);
  EXPECT_FALSE(d->tl0_pic_idx);
  EXPECT_EQ(d->size, 6u);

  // Scalability structure: one spatial layer with its resolution, one picture group with one
  // reference.
  const Bytes ss = {0x8A, 0x01, 0x18, 0x02, 0x80, 0x01, 0xE0, 0x01, 0x04, 0x01, 0xAA};
  d = parse_vp9_descriptor(ss);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->has_scalability_structure);
  EXPECT_EQ(d->size, 10u);
  EXPECT_TRUE(vp9_is_keyframe(ss));

  EXPECT_FALSE(parse_vp9_descriptor(Bytes{0x8A, 0x01, 0x18, 0x02}));              // SS cut short
  EXPECT_FALSE(parse_vp9_descriptor(Bytes{0xD8, 0x05, 0x03, 0x03, 0x03, 0x02}));  // 4 P_DIFFs
  EXPECT_FALSE(parse_vp9_descriptor(Bytes{0xA8, 0x05, 0x00}));  // TL0PICIDX missing
}

}  // namespace
}  // namespace junction::media
