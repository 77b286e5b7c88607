#pragma once
// H.264 over RTP (RFC 6184, packetization-mode 1, what browsers send): reassembling a sender's
// packets into access units, and cutting the compositor's access units into packets.
//
// Depacketizer (the interface and the loss handling are video_rtp.h's). A frame (access unit) is
// the packets of one RTP timestamp up to the one with the marker bit, the next packet after a
// marker starts the next frame. Payloads: a single NAL unit (types 1-23), STAP-A (24: NAL units
// with 16-bit sizes) and FU-A (28: one NAL unit in fragments); the interleaved-mode types
// (STAP-B, MTAP, FU-B) break the stream like a loss. The frame is written in Annex B (each NAL
// unit after a 00 00 00 01 start code), as libavcodec's h264 decoder takes it. A keyframe is an
// access unit with an IDR slice (NAL type 5) whose SPS and PPS (7, 8) came with it or earlier:
// after a loss the depacketizer resumes only on one, since P slices refer to lost pictures. Where
// a frame starts after a loss: after the next marker, or at a packet of a new timestamp that
// opens with an SPS or an access unit delimiter.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "mixers/video/video_rtp.h"

namespace junction::mixers {

class H264Depacketizer final : public Depacketizer {
 public:
  Result push(uint16_t seq, uint32_t timestamp, bool marker, std::span<const uint8_t> payload) override;
  VideoCodec codec() const override { return VideoCodec::kH264; }

 private:
  bool add_payload(std::span<const uint8_t> payload);  // false: malformed, or the frame too big
  bool add_nal(std::span<const uint8_t> nal);
  void note_type(uint8_t type);
  Result finish();  // the marker packet arrived: frame_ gets building_ if decodable
  Result broken();  // the frame being built is unusable: wait for a keyframe

  bool boundary_ = true;  // the next packet starts a frame (the first, or after a marker)
  bool in_frame_ = false; // collecting building_.timestamp's packets
  bool fu_open_ = false;  // inside a FU-A (its start seen, its end not yet)
  bool has_idr_ = false, has_sps_ = false, has_pps_ = false;  // in building_
  bool seen_sps_ = false, seen_pps_ = false;                  // ever
  uint32_t last_timestamp_ = 0;  // of the last packet taken
  EncodedFrame building_;
};

// Cuts one Annex B access unit into payloads of at most `max_payload` bytes: each NAL unit that
// fits as a single NAL unit packet, larger ones as FU-A fragments of equal size.
void packetize_h264(std::span<const uint8_t> frame, size_t max_payload, std::vector<uint8_t>& out,
                    std::vector<size_t>& sizes);

// The NAL units of an Annex B stream (start codes and trailing zero bytes stripped).
std::vector<std::span<const uint8_t>> split_annex_b(std::span<const uint8_t> stream);

}  // namespace junction::mixers
