#include "mixers/video/video_rtp.h"

#include <algorithm>
#include <cctype>

#include "mixers/video/h264_rtp.h"
#include "mixers/video/vp8_rtp.h"

namespace junction::mixers {

const char* codec_name(VideoCodec codec) { return codec == VideoCodec::kH264 ? "h264" : "vp8"; }

std::optional<VideoCodec> codec_from_name(const std::string& name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "vp8") return VideoCodec::kVp8;
  if (lower == "h264") return VideoCodec::kH264;
  return std::nullopt;
}

Depacketizer::Order Depacketizer::order(uint16_t seq) {
  if (!have_seq_) {
    have_seq_ = true;
    last_seq_ = seq;
    return Order::kNext;
  }
  const uint16_t delta = static_cast<uint16_t>(seq - last_seq_);
  if (delta == 0 || delta >= 0x8000) return Order::kStale;
  last_seq_ = seq;
  return delta == 1 ? Order::kNext : Order::kGap;
}

std::unique_ptr<Depacketizer> make_depacketizer(VideoCodec codec) {
  if (codec == VideoCodec::kH264) return std::make_unique<H264Depacketizer>();
  return std::make_unique<Vp8Depacketizer>();
}

void packetize(VideoCodec codec, std::span<const uint8_t> frame, uint16_t picture_id, size_t max_payload,
               std::vector<uint8_t>& out, std::vector<size_t>& sizes) {
  if (codec == VideoCodec::kH264) return packetize_h264(frame, max_payload, out, sizes);
  packetize_vp8(frame, picture_id, max_payload, out, sizes);
}

}  // namespace junction::mixers
