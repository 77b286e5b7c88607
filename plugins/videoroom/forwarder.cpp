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

void Forwarder::rebase(const media::RtpPacket& rtp, Clock::time_point now) {
  rebase_ = false;
  if (!sent_any_) {
    seq_delta_ = 0;
    ts_delta_ = 0;
    return;
  }
  // Continue right after what the subscriber last saw. The new source's timestamps have their
  // own origin: place its first packet as far after the last one sent as the wall clock says
  // (at least one tick), so playout timing stays right across a switch.
  seq_delta_ = static_cast<uint16_t>(last_seq_ + 1 - rtp.sequence());
  auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(now - last_sent_at_).count();
  uint64_t ticks = elapsed > 0 ? static_cast<uint64_t>(elapsed) * clock_rate_ / 1000000 : 0;
  ts_delta_ = last_ts_ + static_cast<uint32_t>(ticks > 0 ? ticks : 1) - rtp.timestamp();
}

bool Forwarder::rewrite(std::span<uint8_t> packet, const media::RtpPacket& rtp, Clock::time_point now) {
  if (rtp.ssrc() != source_ssrc_) {
    // A new source (first packet, the publisher's SSRC changed, another simulcast layer).
    if (sent_any_) restart();
    source_ssrc_ = rtp.ssrc();
    rebase_ = true;
  }
  if (waiting_keyframe_) {
    if (codec_ != VideoCodec::kNone && !starts_keyframe(codec_, rtp.payload())) return false;
    waiting_keyframe_ = false;
  }
  bool new_run = rebase_;
  if (rebase_) {
    rebase(rtp, now);
    run_start_seq_ = rtp.sequence();
  } else if (static_cast<int16_t>(rtp.sequence() - run_start_seq_) < 0) {
    return false;
  }
  uint16_t seq = static_cast<uint16_t>(rtp.sequence() + seq_delta_);
  uint32_t ts = rtp.timestamp() + ts_delta_;
  if (seq_delta_ != 0) media::rtp_set_sequence(packet, seq);
  if (ts_delta_ != 0) media::rtp_set_timestamp(packet, ts);
  if (rtp.payload_type() != out_pt_) media::rtp_set_payload_type(packet, out_pt_);
  // Reordered or re-sent packets from before the newest keep their place; only newer ones move
  // the marks the next run continues from.
  const bool newest = !sent_any_ || static_cast<int16_t>(seq - last_seq_) > 0;
  if (codec_ == VideoCodec::kVp8) {
    size_t offset = rtp.header_size();
    std::span<uint8_t> payload = packet.subspan(offset, packet.size() - offset - rtp.padding_size());
    if (auto desc = media::parse_vp8_descriptor(payload)) {
      if (new_run && vp8_fields_seen_) {
        if (desc->picture_id) pid_delta_ = static_cast<uint16_t>(last_pid_ + 1 - *desc->picture_id);
        if (desc->tl0_pic_idx) tl0_delta_ = static_cast<uint8_t>(last_tl0_ + 1 - *desc->tl0_pic_idx);
      }
      if (desc->picture_id) {
        uint16_t mask = desc->picture_id_15bit ? 0x7FFF : 0x7F;
        uint16_t pid = static_cast<uint16_t>((*desc->picture_id + pid_delta_) & mask);
        if (pid_delta_ != 0) media::vp8_set_picture_id(payload, *desc, pid);
        if (newest) last_pid_ = pid;
        vp8_fields_seen_ = true;
      }
      if (desc->tl0_pic_idx) {
        uint8_t tl0 = static_cast<uint8_t>(*desc->tl0_pic_idx + tl0_delta_);
        if (tl0_delta_ != 0) media::vp8_set_tl0_pic_idx(payload, *desc, tl0);
        if (newest) last_tl0_ = tl0;
        vp8_fields_seen_ = true;
      }
    }
  }
  if (newest) {
    last_seq_ = seq;
    last_ts_ = ts;
    last_source_seq_ = rtp.sequence();
  }
  last_sent_at_ = now;
  sent_any_ = true;
  ++forwarded_;
  return true;
}

void Forwarder::skip(const media::RtpPacket& rtp) {
  // Only a packet newer than everything sent so far shifts what follows; an old one (reordered)
  // had its place already.
  if (!sent_any_ || rtp.ssrc() != source_ssrc_ || static_cast<int16_t>(rtp.sequence() - last_source_seq_) <= 0) return;
  last_source_seq_ = rtp.sequence();
  --seq_delta_;
}

}  // namespace junction::videoroom
