#include "mixers/video/video_codec.h"

#include <stdexcept>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/opt.h>
}

namespace junction::mixers {

void AvFrameFree::operator()(AVFrame* f) const { av_frame_free(&f); }

FramePtr make_frame() {
  FramePtr f(av_frame_alloc());
  if (!f) throw std::bad_alloc();
  return f;
}

VideoDecoder::VideoDecoder(VideoCodec codec) : codec_(codec) {
  const std::string name = codec_name(codec);
  const AVCodec* c = avcodec_find_decoder_by_name(name.c_str());
  if (c == nullptr) throw std::runtime_error("no " + name + " decoder in libavcodec");
  ctx_ = avcodec_alloc_context3(c);
  packet_ = av_packet_alloc();
  picture_ = make_frame();
  if (ctx_ == nullptr || packet_ == nullptr) throw std::bad_alloc();
  ctx_->thread_count = 1;
  // H.264: a picture out for every access unit in (senders of real-time video use no B-frames;
  // without this the decoder may hold pictures back to reorder them).
  ctx_->flags |= AV_CODEC_FLAG_LOW_DELAY;
  if (avcodec_open2(ctx_, c, nullptr) < 0) {
    avcodec_free_context(&ctx_);
    av_packet_free(&packet_);
    throw std::runtime_error("cannot open the " + name + " decoder");
  }
}

VideoDecoder::~VideoDecoder() {
  avcodec_free_context(&ctx_);
  av_packet_free(&packet_);
}

bool VideoDecoder::decode(std::span<const uint8_t> frame) {
  if (frame.empty()) return false;
  // The packet points at the caller's bytes: libavcodec copies what it keeps (no refcounted buf).
  packet_->data = const_cast<uint8_t*>(frame.data());
  packet_->size = static_cast<int>(frame.size());
  int rc = avcodec_send_packet(ctx_, packet_);
  packet_->data = nullptr;
  packet_->size = 0;
  if (rc < 0) return false;
  bool got = false;
  // One picture per packet at most (VP8; H.264 in low delay); drain anyway, keep the last.
  for (int i = 0; i < 4; ++i) {
    av_frame_unref(picture_.get());
    if (avcodec_receive_frame(ctx_, picture_.get()) < 0) break;
    got = true;
    if (picture_->format == AV_PIX_FMT_YUV420P || picture_->format == AV_PIX_FMT_YUVJ420P) break;
  }
  return got && picture_->width > 0 && picture_->height > 0;
}

VideoEncoder::VideoEncoder(const EncoderSettings& settings) : settings_(settings), bitrate_(settings.bitrate) {
  packet_ = av_packet_alloc();
  if (packet_ == nullptr) throw std::bad_alloc();
  open(bitrate_);
}

VideoEncoder::~VideoEncoder() {
  avcodec_free_context(&ctx_);
  av_packet_free(&packet_);
}

void VideoEncoder::open(int bitrate) {
  const bool h264 = settings_.codec == VideoCodec::kH264;
  const char* name = h264 ? "libx264" : "libvpx";
  const AVCodec* c = avcodec_find_encoder_by_name(name);
  if (c == nullptr) throw std::runtime_error(std::string("no ") + name + " encoder in libavcodec");
  AVCodecContext* ctx = avcodec_alloc_context3(c);
  if (ctx == nullptr) throw std::bad_alloc();
  ctx->width = settings_.width;
  ctx->height = settings_.height;
  ctx->pix_fmt = AV_PIX_FMT_YUV420P;
  ctx->time_base = AVRational{1, settings_.fps};
  ctx->framerate = AVRational{settings_.fps, 1};
  // CBR with a one-second buffer: what a WebRTC receiver's bandwidth estimate expects.
  ctx->bit_rate = bitrate;
  ctx->rc_min_rate = bitrate;
  ctx->rc_max_rate = bitrate;
  ctx->rc_buffer_size = bitrate;
  // Keyframes only when asked for (a join, a PLI): a periodic one would cost bitrate for nothing.
  ctx->gop_size = 1 << 30;
  ctx->keyint_min = 0;
  ctx->max_b_frames = 0;
  ctx->thread_count = 1;
  if (h264) {
    // Constrained baseline (x264's "baseline": no B-frames, no CABAC, constraint_set1) at level
    // 3.1, what the answer's profile-level-id 42e01f promises, up to 1280x720 (3600 macroblocks,
    // at most 30 fps); a larger canvas needs level 4.0, beyond what 42e01f says (browsers decode
    // it). zerolatency: no lookahead, every frame out as it goes in. superfast keeps the
    // deblocking filter that ultrafast drops.
    av_opt_set(ctx->priv_data, "preset", "superfast", 0);
    av_opt_set(ctx->priv_data, "tune", "zerolatency", 0);
    av_opt_set(ctx->priv_data, "profile", "baseline", 0);
    const int macroblocks = ((settings_.width + 15) / 16) * ((settings_.height + 15) / 16);
    ctx->level = macroblocks <= 3600 ? 31 : 40;
    av_opt_set_int(ctx->priv_data, "forced-idr", 1, 0);  // a requested keyframe is an IDR
    av_opt_set(ctx->priv_data, "x264-params", "scenecut=0:repeat-headers=1", 0);
  } else {
    ctx->qmin = 4;
    ctx->qmax = 56;
    av_opt_set(ctx->priv_data, "deadline", "realtime", 0);
    av_opt_set_int(ctx->priv_data, "cpu-used", settings_.speed, 0);
    av_opt_set_int(ctx->priv_data, "lag-in-frames", 0, 0);
    av_opt_set_int(ctx->priv_data, "error-resilient", 1, 0);
    av_opt_set_int(ctx->priv_data, "noise-sensitivity", 0, 0);
    av_opt_set_int(ctx->priv_data, "static-thresh", 100, 0);
    av_opt_set_int(ctx->priv_data, "max-intra-rate", 300, 0);  // a keyframe at most 3x a frame's budget
  }
  if (avcodec_open2(ctx, c, nullptr) < 0) {
    avcodec_free_context(&ctx);
    throw std::runtime_error(std::string("cannot open the ") + name + " encoder");
  }
  avcodec_free_context(&ctx_);
  ctx_ = ctx;
  bitrate_ = bitrate;
}

void VideoEncoder::set_bitrate(int bitrate) {
  if (bitrate == bitrate_) return;
  // libvpx's wrapper reads rate settings at open only (libx264's is treated alike); reopening
  // costs a keyframe, so callers change the bitrate rarely (on a large, lasting change).
  open(bitrate);
}

std::span<const uint8_t> VideoEncoder::encode(AVFrame* picture, bool force_keyframe, bool* keyframe) {
  picture->pts = pts_++;
  picture->pict_type = force_keyframe ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
  *keyframe = false;
  if (avcodec_send_frame(ctx_, picture) < 0) return {};
  av_packet_unref(packet_);
  if (avcodec_receive_packet(ctx_, packet_) < 0) return {};
  *keyframe = (packet_->flags & AV_PKT_FLAG_KEY) != 0;
  return {packet_->data, static_cast<size_t>(packet_->size)};
}

}  // namespace junction::mixers
