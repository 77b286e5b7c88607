#pragma once
// Per-subscriber-stream RTP rewriting (media worker only, no allocation). The gateway's
// send_rtp already puts the subscriber line's SSRC on the packet; the forwarder keeps what the
// subscriber sees continuous when the source changes or pauses (a new publisher SSRC, a simulcast
// layer switch, a pause/resume, starting mid-stream): sequence numbers, timestamps and, for VP8,
// the picture id and TL0PICIDX of the payload descriptor. It maps the payload type to the one
// negotiated with the subscriber, holds video back until a keyframe so a decoder never starts on
// a delta frame, and closes the gaps of packets the caller filtered out (temporal layers).
#include <chrono>
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
  using Clock = std::chrono::steady_clock;

  Forwarder(VideoCodec codec, uint8_t out_payload_type, uint32_t clock_rate = 90000)
      : codec_(codec), out_pt_(out_payload_type), clock_rate_(clock_rate), waiting_keyframe_(codec != VideoCodec::kNone) {}

  // The next forwarded packet starts a new run: rebased on the last sequence number and
  // timestamp sent, and (video) waits for a keyframe.
  void restart() { rebase_ = true; waiting_keyframe_ = codec_ != VideoCodec::kNone; }

  // Rewrites `packet` (a copy owned by the caller, parsed as `rtp`, arrived at `now`) in place.
  // Returns false when the packet must not be sent: waiting for a keyframe, or older than the
  // start of the current run (a late or re-sent packet of the new source from before the switch,
  // e.g. a sender's RTX padding: its number would land on ones the subscriber already had).
  bool rewrite(std::span<uint8_t> packet, const media::RtpPacket& rtp, Clock::time_point now);
  // A packet of the current source that the caller chose not to send: later packets are
  // numbered as if it never existed, so the subscriber does not ask for it.
  void skip(const media::RtpPacket& rtp);

  bool waiting_keyframe() const { return waiting_keyframe_; }
  uint64_t forwarded() const { return forwarded_; }

 private:
  void rebase(const media::RtpPacket& rtp, Clock::time_point now);

  VideoCodec codec_;
  uint8_t out_pt_;
  uint32_t clock_rate_;
  bool rebase_ = true;
  bool waiting_keyframe_;
  bool sent_any_ = false;
  uint32_t source_ssrc_ = 0;
  uint16_t seq_delta_ = 0;
  uint32_t ts_delta_ = 0;
  uint16_t last_seq_ = 0;        // the newest sequence number sent (subscriber's numbering)
  uint16_t last_source_seq_ = 0; // the newest source sequence number seen of the current source
  uint16_t run_start_seq_ = 0;   // the source sequence number the current run started at
  uint32_t last_ts_ = 0;
  Clock::time_point last_sent_at_{};
  // VP8 (RFC 7741): the subscriber's picture ids and TL0PICIDX continue across sources.
  uint16_t pid_delta_ = 0, last_pid_ = 0;
  uint8_t tl0_delta_ = 0, last_tl0_ = 0;
  bool vp8_fields_seen_ = false;
  uint64_t forwarded_ = 0;
};

}  // namespace junction::videoroom
