#include "plugins/videoroom/forwarder.h"

#include <cstring>

#include "core/media/rtp_extensions.h"

namespace junction::videoroom {

VideoCodec video_codec_from_name(const char* name) {
  if (std::strcmp(name, "vp8") == 0) return VideoCodec::kVp8;
  if (std::strcmp(name, "vp9") == 0) return VideoCodec::kVp9;
  if (std::strcmp(name, "h264") == 0) return VideoCodec::kH264;
  return VideoCodec::kOther;
}

bool starts_keyframe(VideoCodec codec, std::span<const uint8_t> payload) {
  switch (codec) {
    case VideoCodec::kVp8: return media::vp8_is_keyframe(payload);
    case VideoCodec::kVp9: return media::vp9_is_keyframe(payload);
    case VideoCodec::kH264: return media::h264_is_keyframe(payload);
    default: return true;
  }
}

bool Forwarder::rewrite(std::span<uint8_t> packet, const media::RtpPacket& rtp) {
  if (rtp.ssrc() != source_ssrc_) {
    // A new source (first packet, or the publisher's SSRC changed): start a new run.
    if (sent_any_) restart();
    source_ssrc_ = rtp.ssrc();
    rebase_ = true;
  }
  if (waiting_keyframe_) {
    if (codec_ != VideoCodec::kNone && !starts_keyframe(codec_, rtp.payload())) return false;
    waiting_keyframe_ = false;
  }
  if (rebase_) {
    rebase_ = false;
    if (sent_any_) {
      // Continue right after what the subscriber last saw; the timestamp moves on by a little
      // so that it never repeats (the exact gap is unknown to a forwarder).
      seq_delta_ = static_cast<uint16_t>(last_seq_ + 1 - rtp.sequence());
      ts_delta_ = last_ts_ + 1 - rtp.timestamp();
    } else {
      seq_delta_ = 0;
      ts_delta_ = 0;
    }
  }
  uint16_t seq = static_cast<uint16_t>(rtp.sequence() + seq_delta_);
  uint32_t ts = rtp.timestamp() + ts_delta_;
  if (seq_delta_ != 0) media::rtp_set_sequence(packet, seq);
  if (ts_delta_ != 0) media::rtp_set_timestamp(packet, ts);
  if (rtp.payload_type() != out_pt_) media::rtp_set_payload_type(packet, out_pt_);
  // Reordered packets from before the newest keep their place; only newer ones move the marks.
  if (!sent_any_ || static_cast<int16_t>(seq - last_seq_) > 0) {
    last_seq_ = seq;
    last_ts_ = ts;
  }
  sent_any_ = true;
  ++forwarded_;
  return true;
}

}  // namespace junction::videoroom
