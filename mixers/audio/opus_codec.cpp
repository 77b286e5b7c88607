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

int opus_packet_samples(std::span<const uint8_t> packet) {
  if (packet.empty()) return 0;
  const int config = packet[0] >> 3;
  int frame;  // 48 kHz samples per frame
  static constexpr int kSilk[4] = {480, 960, 1920, 2880};
  if (config < 12) frame = kSilk[config & 3];                // SILK: 10, 20, 40, 60 ms
  else if (config < 16) frame = (config & 1) ? 960 : 480;   // hybrid: 10, 20 ms
  else frame = 120 << (config & 3);                          // CELT: 2.5, 5, 10, 20 ms
  int frames;
  switch (packet[0] & 3) {
    case 0: frames = 1; break;
    case 1:
    case 2: frames = 2; break;
    default:
      if (packet.size() < 2) return 0;
      frames = packet[1] & 0x3F;
  }
  const int total = frame * frames;
  return total > 5760 ? 0 : total;  // at most 120 ms
}

void AvCodecObjects::allocate(const AVCodec* codec) {
  ctx = avcodec_alloc_context3(codec);
  frame = av_frame_alloc();
  packet = av_packet_alloc();
  if (ctx == nullptr || frame == nullptr || packet == nullptr) {
    release();
    throw std::runtime_error("opus: out of memory");
  }
}

void AvCodecObjects::release() {
  av_packet_free(&packet);
  av_frame_free(&frame);
  avcodec_free_context(&ctx);
}

// --- encoder ---

OpusEncoder::OpusEncoder(const Settings& s) {
  if (!valid_opus_rate(s.sample_rate)) throw std::runtime_error("opus: unsupported sampling rate");
  const AVCodec* codec = avcodec_find_encoder_by_name("libopus");
  if (codec == nullptr) throw std::runtime_error("opus: libavcodec has no libopus encoder");
  av_.allocate(codec);
  av_.ctx->sample_rate = s.sample_rate;
  av_.ctx->sample_fmt = AV_SAMPLE_FMT_S16;
  av_channel_layout_default(&av_.ctx->ch_layout, 1);
  av_.ctx->bit_rate = s.bitrate > 0 ? s.bitrate : default_bitrate(s.sample_rate);
  av_.ctx->compression_level = std::clamp(s.complexity, 0, 10);
  av_.ctx->time_base = AVRational{1, s.sample_rate};
  AVDictionary* options = nullptr;
  av_dict_set(&options, "application", "voip", 0);
  av_dict_set(&options, "frame_duration", "20", 0);
  if (s.expected_loss > 0) {
    av_dict_set_int(&options, "packet_loss", std::clamp(s.expected_loss, 1, 100), 0);
    av_dict_set(&options, "fec", "1", 0);
  }
  int rc = avcodec_open2(av_.ctx, codec, &options);
  av_dict_free(&options);
  if (rc < 0) {
    release();
    throw std::runtime_error("opus: cannot open the encoder: " + av_error(rc));
  }
  frame_samples_ = av_.ctx->frame_size > 0 ? av_.ctx->frame_size : s.sample_rate / 50;
  av_.frame->format = AV_SAMPLE_FMT_S16;
  av_.frame->sample_rate = s.sample_rate;
  av_channel_layout_default(&av_.frame->ch_layout, 1);
  av_.frame->nb_samples = frame_samples_;
  if (av_frame_get_buffer(av_.frame, 0) < 0) {
    release();
    throw std::runtime_error("opus: out of memory");
  }
  out_.reserve(1500);
}

OpusEncoder::~OpusEncoder() { release(); }

void OpusEncoder::release() {
  // Drain what libopus still holds, so closing it is quiet ("frames left in the queue").
  if (av_.ctx != nullptr && av_.packet != nullptr && avcodec_is_open(av_.ctx) && avcodec_send_frame(av_.ctx, nullptr) == 0)
    while (avcodec_receive_packet(av_.ctx, av_.packet) == 0) av_packet_unref(av_.packet);
  av_.release();
}

std::span<const uint8_t> OpusEncoder::encode(std::span<const int16_t> pcm) {
  out_.clear();
  if (pcm.size() != static_cast<size_t>(frame_samples_) || av_frame_make_writable(av_.frame) < 0) return {};
  std::memcpy(av_.frame->data[0], pcm.data(), pcm.size() * sizeof(int16_t));
  av_.frame->pts = pts_;
  pts_ += frame_samples_;
  if (avcodec_send_frame(av_.ctx, av_.frame) < 0) return {};
  // libopus answers each frame with its packet right away (no reordering, no look-ahead queue).
  while (avcodec_receive_packet(av_.ctx, av_.packet) == 0) {
    out_.assign(av_.packet->data, av_.packet->data + av_.packet->size);
    av_packet_unref(av_.packet);
  }
  return out_;
}

// --- decoder ---

OpusDecoder::OpusDecoder(int output_rate) : output_rate_(output_rate) {
  if (!valid_opus_rate(output_rate)) throw std::runtime_error("opus: unsupported sampling rate");
  const AVCodec* codec = avcodec_find_decoder_by_name("libopus");
  if (codec == nullptr) codec = avcodec_find_decoder(AV_CODEC_ID_OPUS);
  if (codec == nullptr) throw std::runtime_error("opus: libavcodec has no Opus decoder");
  av_.allocate(codec);
  av_.ctx->request_sample_fmt = AV_SAMPLE_FMT_S16;
  av_.ctx->sample_rate = kOpusRtpClock;
  av_channel_layout_default(&av_.ctx->ch_layout, 1);  // stereo packets are downmixed by libopus
  int rc = avcodec_open2(av_.ctx, codec, nullptr);
  if (rc < 0) {
    release();
    throw std::runtime_error("opus: cannot open the decoder: " + av_error(rc));
  }
  resampled_.resize(6 * 960);
}

OpusDecoder::~OpusDecoder() { release(); }

void OpusDecoder::release() {
  swr_free(&swr_);
  av_.release();
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
  av_.packet->data = const_cast<uint8_t*>(packet.data());
  av_.packet->size = static_cast<int>(packet.size());
  int rc = avcodec_send_packet(av_.ctx, av_.packet);
  av_.packet->data = nullptr;
  av_.packet->size = 0;
  if (rc < 0) return -1;
  int total = 0;
  while (avcodec_receive_frame(av_.ctx, av_.frame) == 0) {
    const int channels = av_.frame->ch_layout.nb_channels;
    const int samples = av_.frame->nb_samples;
    const auto* in = reinterpret_cast<const int16_t*>(av_.frame->data[0]);
    if (av_.frame->format != AV_SAMPLE_FMT_S16 || channels != 1) {
      av_frame_unref(av_.frame);
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
          av_frame_unref(av_.frame);
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
    av_frame_unref(av_.frame);
  }
  return total;
}

}  // namespace junction::mixers
