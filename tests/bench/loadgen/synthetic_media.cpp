#include "tests/bench/loadgen/synthetic_media.h"

#include <time.h>

#include <cmath>
#include <cstring>

#include "core/media/rtp_packet.h"
#include "mixers/audio/opus_codec.h"

namespace junction::loadgen {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kFramePeriod = std::chrono::microseconds(33333);  // 30 frames per second
constexpr auto kAudioPeriod = std::chrono::milliseconds(20);
constexpr auto kNoCatchUp = std::chrono::milliseconds(200);  // behind more than this: skip ahead
constexpr size_t kVideoPayload = 1100;  // RTP payload bytes per video packet (1200-byte datagrams with SRTP)
constexpr int kKeyframePackets = 15;

// A fixed 12-byte RTP header, optionally with one one-byte-header extension element (RFC 8285)
// carrying the RFC 6464 audio level. Returns the header size.
size_t write_header(std::vector<uint8_t>& out, uint8_t pt, bool marker, uint16_t seq, uint32_t ts, uint32_t ssrc,
                    int level_ext_id, uint8_t level) {
  bool ext = level_ext_id > 0 && level_ext_id < 15;
  out.resize(12 + (ext ? 8 : 0));
  out[0] = static_cast<uint8_t>(0x80 | (ext ? 0x10 : 0));
  out[1] = static_cast<uint8_t>((marker ? 0x80 : 0) | (pt & 0x7F));
  media::store_be16(&out[2], seq);
  media::store_be32(&out[4], ts);
  media::store_be32(&out[8], ssrc);
  if (ext) {
    media::store_be16(&out[12], 0xBEDE);
    media::store_be16(&out[14], 1);  // one 32-bit word of elements
    out[16] = static_cast<uint8_t>(level_ext_id << 4);  // length - 1 = 0: one byte
    out[17] = static_cast<uint8_t>(level & 0x7F);       // V bit clear: the sender's VAD is not used
    out[18] = out[19] = 0;                               // padding
  }
  return out.size();
}

}  // namespace

uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void Trailer::write(uint8_t* out) const {
  media::store_be32(out, kMagic);
  media::store_be32(out + 4, source);
  media::store_be32(out + 8, sequence);
  media::store_be64(out + 12, sent_ns);
}

std::optional<Trailer> Trailer::read(std::span<const uint8_t> payload) {
  if (payload.size() < kSize) return std::nullopt;
  const uint8_t* p = payload.data() + payload.size() - kSize;
  if (media::load_be32(p) != kMagic) return std::nullopt;
  return Trailer{media::load_be32(p + 4), media::load_be32(p + 8), media::load_be64(p + 12)};
}

Vp8Source::Vp8Source(uint8_t payload_type, uint32_t ssrc, std::chrono::milliseconds keyframe_interval)
    : pt_(payload_type), ssrc_(ssrc), keyframe_interval_(keyframe_interval) {}

void Vp8Source::due(Clock::time_point now, std::vector<OutPacket>& out) {
  if (next_frame_ == Clock::time_point{} || now - next_frame_ > kNoCatchUp) next_frame_ = now;
  while (next_frame_ <= now) {
    bool key = keyframe_requested_ || now - last_keyframe_ >= keyframe_interval_;
    if (key) {
      keyframe_requested_ = false;
      last_keyframe_ = now;
    }
    int packets = key ? kKeyframePackets : 3 + static_cast<int>(frame_count_ % 2);
    uint32_t ts = frame_count_ * 3000;  // 90 kHz / 30 fps
    picture_id_ = static_cast<uint16_t>((picture_id_ + 1) & 0x7FFF);
    for (int i = 0; i < packets; ++i) {
      OutPacket p;
      size_t h = write_header(p.bytes, pt_, i == packets - 1, seq_++, ts, ssrc_, 0, 0);
      p.bytes.resize(h + kVideoPayload, 0);
      uint8_t* d = p.bytes.data() + h;
      // RFC 7741 descriptor: X, S on the first packet of the frame, partition 0; I with a
      // 15-bit picture id.
      d[0] = static_cast<uint8_t>(0x80 | (i == 0 ? 0x10 : 0));
      d[1] = 0x80;
      media::store_be16(d + 2, static_cast<uint16_t>(0x8000 | picture_id_));
      if (i == 0) {
        // VP8 frame tag (RFC 6386 §9.1): keyframe bit (0 = key), version 0, show_frame, size of
        // the first partition (the rest of this packet).
        uint32_t first_partition = static_cast<uint32_t>(kVideoPayload - 4 - 3 - (key ? 7 : 0));
        uint32_t tag = (key ? 0u : 1u) | (1u << 4) | (first_partition << 5);
        d[4] = static_cast<uint8_t>(tag);
        d[5] = static_cast<uint8_t>(tag >> 8);
        d[6] = static_cast<uint8_t>(tag >> 16);
        if (key) {
          const uint8_t start[7] = {0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01};  // 640x360, no scaling
          std::memcpy(d + 7, start, sizeof start);
        }
      }
      for (size_t k = (i == 0 ? 14 : 4); k < kVideoPayload - Trailer::kSize; ++k) d[k] = static_cast<uint8_t>(k * 31 + i);
      p.trailer_offset = p.bytes.size() - Trailer::kSize;
      out.push_back(std::move(p));
    }
    ++frame_count_;
    next_frame_ += kFramePeriod;
  }
}

OpusSource::OpusSource(uint8_t payload_type, uint32_t ssrc,
                       std::shared_ptr<const std::vector<std::vector<uint8_t>>> frames, int level_ext_id,
                       uint8_t level)
    : pt_(payload_type), ssrc_(ssrc), frames_(std::move(frames)), level_ext_id_(level_ext_id), level_(level) {}

void OpusSource::due(Clock::time_point now, std::vector<OutPacket>& out) {
  if (next_ == Clock::time_point{} || now - next_ > kNoCatchUp) next_ = now;
  while (next_ <= now) {
    const auto& frame = (*frames_)[index_++ % frames_->size()];
    OutPacket p;
    size_t h = write_header(p.bytes, pt_, false, seq_++, timestamp_, ssrc_, level_ext_id_, level_);
    p.bytes.insert(p.bytes.end(), frame.begin(), frame.end());
    (void)h;
    p.trailer_offset = p.bytes.size() - Trailer::kSize;
    out.push_back(std::move(p));
    timestamp_ += 960;  // 20 ms at 48 kHz
    next_ += kAudioPeriod;
  }
}

std::vector<uint8_t> opus_with_padding(std::span<const uint8_t> frame, size_t padding) {
  if (frame.empty() || (frame[0] & 0x03) != 0 || padding > 254) return {};
  std::vector<uint8_t> out;
  out.reserve(frame.size() + 2 + padding);
  out.push_back(static_cast<uint8_t>(frame[0] | 0x03));  // code 3: frame count byte follows
  out.push_back(0x40 | 1);                               // CBR, padding present, one frame
  out.push_back(static_cast<uint8_t>(padding));          // padding length (< 255: one byte)
  out.insert(out.end(), frame.begin() + 1, frame.end());
  out.resize(out.size() + padding, 0);
  return out;
}

std::vector<std::vector<uint8_t>> encode_opus_loop(double hz, double amplitude) {
  constexpr int kRate = 48000;
  mixers::OpusEncoder encoder({kRate, 32000, 4, 0});
  std::vector<std::vector<uint8_t>> out;
  std::vector<int16_t> pcm(static_cast<size_t>(encoder.frame_samples()));
  uint32_t noise = 12345;
  long n = 0;
  for (int f = 0; f < 50; ++f) {
    for (auto& s : pcm) {
      noise = noise * 1664525u + 1013904223u;
      double hiss = (static_cast<int>(noise >> 16) % 7) - 3;  // about -80 dBov
      s = static_cast<int16_t>(amplitude * std::sin(2 * M_PI * hz * static_cast<double>(n++) / kRate) + hiss);
    }
    auto packet = encoder.encode(pcm);
    auto padded = opus_with_padding(packet, Trailer::kSize);
    if (!padded.empty()) out.push_back(std::move(padded));
  }
  return out;
}

}  // namespace junction::loadgen
