#include "mixers/audio/opus_codec.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
}

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace junction::mixers {
namespace {

std::string av_error(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  return text;
}

int default_bitrate(int rate) {
  switch (rate) {
    case 8000: return 16000;
    case 12000: return 20000;
    case 16000: return 24000;
    case 24000: return 32000;
    default: return 48000;
  }
}

}  // namespace

bool valid_opus_rate(int sample_rate) {
  return sample_rate == 8000 || sample_rate == 12000 || sample_rate == 16000 || sample_rate == 24000 ||
         sample_rate == 48000;
}

// --- encoder ---

OpusEncoder::OpusEncoder(const Settings& s) {
  if (!valid_opus_rate(s.sample_rate)) throw std::runtime_error("opus: unsupported sampling rate");
  const AVCodec* codec = avcodec_find_encoder_by_name("libopus");
  if (codec == nullptr) throw std::runtime_error("opus: libavcodec has no libopus encoder");
  ctx_ = avcodec_alloc_context3(codec);
  frame_ = av_frame_alloc();
  packet_ = av_packet_alloc();
  if (ctx_ == nullptr || frame_ == nullptr || packet_ == nullptr) {
    release();
    throw std::runtime_error("opus: out of memory");
  }
  ctx_->sample_rate = s.sample_rate;
  ctx_->sample_fmt = AV_SAMPLE_FMT_S16;
  av_channel_layout_default(&ctx_->ch_layout, 1);
  ctx_->bit_rate = s.bitrate > 0 ? s.bitrate : default_bitrate(s.sample_rate);
  ctx_->compression_level = std::clamp(s.complexity, 0, 10);
  ctx_->time_base = AVRational{1, s.sample_rate};
  AVDictionary* options = nullptr;
  av_dict_set(&options, "application", "voip", 0);
  av_dict_set(&options, "frame_duration", "20", 0);
  if (s.expected_loss > 0) {
    av_dict_set_int(&options, "packet_loss", std::clamp(s.expected_loss, 1, 100), 0);
    av_dict_set(&options, "fec", "1", 0);
  }
  int rc = avcodec_open2(ctx_, codec, &options);
  av_dict_free(&options);
  if (rc < 0) {
    release();
    throw std::runtime_error("opus: cannot open the encoder: " + av_error(rc));
  }
  frame_samples_ = ctx_->frame_size > 0 ? ctx_->frame_size : s.sample_rate / 50;
  frame_->format = AV_SAMPLE_FMT_S16;
  frame_->sample_rate = s.sample_rate;
  av_channel_layout_default(&frame_->ch_layout, 1);
  frame_->nb_samples = frame_samples_;
  if (av_frame_get_buffer(frame_, 0) < 0) {
    release();
    throw std::runtime_error("opus: out of memory");
  }
  out_.reserve(1500);
}

OpusEncoder::~OpusEncoder() { release(); }

void OpusEncoder::release() {
  av_packet_free(&packet_);
  av_frame_free(&frame_);
  avcodec_free_context(&ctx_);
}

std::span<const uint8_t> OpusEncoder::encode(std::span<const int16_t> pcm) {
  out_.clear();
  if (pcm.size() != static_cast<size_t>(frame_samples_) || av_frame_make_writable(frame_) < 0) return {};
  std::memcpy(frame_->data[0], pcm.data(), pcm.size() * sizeof(int16_t));
  frame_->pts = pts_;
  pts_ += frame_samples_;
  if (avcodec_send_frame(ctx_, frame_) < 0) return {};
  // libopus answers each frame with its packet right away (no reordering, no look-ahead queue).
  while (avcodec_receive_packet(ctx_, packet_) == 0) {
    out_.assign(packet_->data, packet_->data + packet_->size);
    av_packet_unref(packet_);
  }
  return out_;
}

// --- decoder ---

OpusDecoder::OpusDecoder(int output_rate) : output_rate_(output_rate) {
  if (!valid_opus_rate(output_rate)) throw std::runtime_error("opus: unsupported sampling rate");
  const AVCodec* codec = avcodec_find_decoder_by_name("libopus");
  if (codec == nullptr) codec = avcodec_find_decoder(AV_CODEC_ID_OPUS);
  if (codec == nullptr) throw std::runtime_error("opus: libavcodec has no Opus decoder");
  ctx_ = avcodec_alloc_context3(codec);
  frame_ = av_frame_alloc();
  packet_ = av_packet_alloc();
  if (ctx_ == nullptr || frame_ == nullptr || packet_ == nullptr) {
    release();
    throw std::runtime_error("opus: out of memory");
  }
  ctx_->request_sample_fmt = AV_SAMPLE_FMT_S16;
  ctx_->sample_rate = kOpusRtpClock;
  av_channel_layout_default(&ctx_->ch_layout, 1);  // stereo packets are downmixed by libopus
  int rc = avcodec_open2(ctx_, codec, nullptr);
  if (rc < 0) {
    release();
    throw std::runtime_error("opus: cannot open the decoder: " + av_error(rc));
  }
  resampled_.resize(6 * 960);
}

OpusDecoder::~OpusDecoder() { release(); }

void OpusDecoder::release() {
  swr_free(&swr_);
  av_packet_free(&packet_);
  av_frame_free(&frame_);
  avcodec_free_context(&ctx_);
}

int OpusDecoder::decode(std::span<const uint8_t> packet, std::vector<int16_t>& out) {
  if (packet.empty()) return -1;
  int n = run(packet, out);
  if (n >= 0) last_toc_ = packet[0];
  return n;
}

int OpusDecoder::conceal(std::vector<int16_t>& out) {
  if (last_toc_ < 0) return 0;
  // Code 0 (one frame) with the last configuration: a TOC byte and an empty frame = PLC.
  const uint8_t toc = static_cast<uint8_t>(last_toc_ & 0xFC);
  return std::max(run({&toc, 1}, out), 0);
}

int OpusDecoder::run(std::span<const uint8_t> packet, std::vector<int16_t>& out) {
  packet_->data = const_cast<uint8_t*>(packet.data());
  packet_->size = static_cast<int>(packet.size());
  int rc = avcodec_send_packet(ctx_, packet_);
  packet_->data = nullptr;
  packet_->size = 0;
  if (rc < 0) return -1;
  int total = 0;
  while (avcodec_receive_frame(ctx_, frame_) == 0) {
    const int channels = frame_->ch_layout.nb_channels;
    const int samples = frame_->nb_samples;
    const auto* in = reinterpret_cast<const int16_t*>(frame_->data[0]);
    if (frame_->format != AV_SAMPLE_FMT_S16 || channels != 1) {
      av_frame_unref(frame_);
      return -1;  // not what was asked for: refuse rather than misread
    }
    if (output_rate_ == kOpusRtpClock) {
      out.insert(out.end(), in, in + samples);
      total += samples;
    } else {
      if (swr_ == nullptr) {
        AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
        if (swr_alloc_set_opts2(&swr_, &mono, AV_SAMPLE_FMT_S16, output_rate_, &mono, AV_SAMPLE_FMT_S16,
                                kOpusRtpClock, 0, nullptr) < 0 ||
            swr_init(swr_) < 0) {
          swr_free(&swr_);
          av_frame_unref(frame_);
          return -1;
        }
      }
      int capacity = static_cast<int>(swr_get_out_samples(swr_, samples));
      if (static_cast<int>(resampled_.size()) < capacity) resampled_.resize(static_cast<size_t>(capacity));
      auto* dst = reinterpret_cast<uint8_t*>(resampled_.data());
      const auto* src = reinterpret_cast<const uint8_t*>(in);
      int got = swr_convert(swr_, &dst, capacity, &src, samples);
      if (got > 0) {
        out.insert(out.end(), resampled_.begin(), resampled_.begin() + got);
        total += got;
      }
    }
    av_frame_unref(frame_);
  }
  return total;
}

}  // namespace junction::mixers
