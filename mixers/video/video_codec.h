#pragma once
// Video decoding and encoding through libavcodec (Debian's FFmpeg): the native VP8 and H.264
// decoders for the participants' streams; for the composite libvpx's VP8 encoder in realtime mode
// or libx264 (Debian's libavcodec59 has libx264, not libopenh264) tuned for low latency
// (constrained baseline, no B-frames, level 3.1 up to 720p: what browsers decode).
// Single-threaded on purpose: each runs on its room's mixer thread, and a room's cost stays on
// one core however busy the machine is.
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "mixers/video/video_rtp.h"

struct AVCodecContext;
struct AVFrame;
struct AVPacket;

namespace junction::mixers {

struct AvFrameFree {
  void operator()(AVFrame* f) const;
};
using FramePtr = std::unique_ptr<AVFrame, AvFrameFree>;
FramePtr make_frame();

class VideoDecoder {
 public:
  explicit VideoDecoder(VideoCodec codec = VideoCodec::kVp8);  // throws std::runtime_error
  VideoCodec codec() const { return codec_; }
  ~VideoDecoder();
  VideoDecoder(const VideoDecoder&) = delete;
  VideoDecoder& operator=(const VideoDecoder&) = delete;

  // Decodes one whole frame. True when a picture came out: `picture()` holds it (YUV 4:2:0)
  // until the next call. False on a decode error or no output.
  bool decode(std::span<const uint8_t> frame);
  const AVFrame* picture() const { return picture_.get(); }

 private:
  VideoCodec codec_;
  AVCodecContext* ctx_ = nullptr;
  AVPacket* packet_ = nullptr;
  FramePtr picture_;
};

struct EncoderSettings {
  int width = 1280, height = 720;
  int fps = 25;
  int bitrate = 1000000;  // bits per second, CBR
  int speed = 8;          // libvpx cpu-used (0..16 for VP8; higher is faster, lower quality)
  VideoCodec codec = VideoCodec::kVp8;
};

class VideoEncoder {
 public:
  explicit VideoEncoder(const EncoderSettings& settings);  // throws std::runtime_error
  ~VideoEncoder();
  VideoEncoder(const VideoEncoder&) = delete;
  VideoEncoder& operator=(const VideoEncoder&) = delete;

  // Encodes one YUV 4:2:0 picture of the configured size. Returns the encoded frame (valid until
  // the next call; empty if the encoder gave nothing): a VP8 frame, or an H.264 access unit in
  // Annex B (SPS and PPS before every IDR); `keyframe` says what it is.
  std::span<const uint8_t> encode(AVFrame* picture, bool force_keyframe, bool* keyframe);
  void set_bitrate(int bitrate);  // takes effect on the next frame
  int bitrate() const { return bitrate_; }
  VideoCodec codec() const { return settings_.codec; }

 private:
  void open(int bitrate);
  EncoderSettings settings_;
  int bitrate_;
  AVCodecContext* ctx_ = nullptr;
  AVPacket* packet_ = nullptr;
  int64_t pts_ = 0;
};

}  // namespace junction::mixers
