#pragma once
// Per-subscriber-stream RTP rewriting (media worker only, no allocation). The gateway's
// send_rtp already puts the subscriber line's SSRC on the packet; the forwarder keeps the
// sequence numbers and timestamps the subscriber sees continuous when the source changes or
// pauses (a new publisher SSRC, a pause/resume, starting mid-stream), maps the payload type to
// the one negotiated with the subscriber, and holds video back until a keyframe so a decoder
// never starts on a delta frame.
#include <cstdint>
#include <span>

#include "core/media/rtp_packet.h"

namespace junction::videoroom {

enum class VideoCodec : uint8_t { kNone, kVp8, kVp9, kH264, kOther };
VideoCodec video_codec_from_name(const char* lower_case_name);
// Whether `payload` (an RTP payload) starts a keyframe of `codec`; kOther/kNone: always true.
bool starts_keyframe(VideoCodec codec, std::span<const uint8_t> payload);

class Forwarder {
 public:
  Forwarder(VideoCodec codec, uint8_t out_payload_type)
      : codec_(codec), out_pt_(out_payload_type), waiting_keyframe_(codec != VideoCodec::kNone) {}

  // The next forwarded packet starts a new run: rebased on the last sequence number and
  // timestamp sent, and (video) waits for a keyframe.
  void restart() { rebase_ = true; waiting_keyframe_ = codec_ != VideoCodec::kNone; }

  // Rewrites `packet` (a copy owned by the caller, parsed as `rtp`) in place. Returns false when
  // the packet must not be sent (waiting for a keyframe).
  bool rewrite(std::span<uint8_t> packet, const media::RtpPacket& rtp);

  bool waiting_keyframe() const { return waiting_keyframe_; }
  uint64_t forwarded() const { return forwarded_; }

 private:
  VideoCodec codec_;
  uint8_t out_pt_;
  bool rebase_ = true;
  bool waiting_keyframe_;
  bool sent_any_ = false;
  uint32_t source_ssrc_ = 0;
  uint16_t seq_delta_ = 0;
  uint32_t ts_delta_ = 0;
  uint16_t last_seq_ = 0;
  uint32_t last_ts_ = 0;
  uint64_t forwarded_ = 0;
};

}  // namespace junction::videoroom
