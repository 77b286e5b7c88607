#pragma once
// VP8 over RTP (RFC 7741): reassembling a sender's packets into whole frames, and cutting the
// compositor's frames into packets.
//
// Depacketizer (the interface and the loss handling are video_rtp.h's). A frame is the packets of
// one RTP timestamp, from the one whose descriptor has S=1 and partition 0 to the one with the
// marker bit; a frame whose start was missed breaks the chain like a gap.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "mixers/video/video_rtp.h"

namespace junction::mixers {

// Parses the payload descriptor; nullopt for a payload too short to hold one.
struct Vp8Descriptor {
  bool start = false;       // S: first packet of a partition
  int partition = 0;        // PID
  size_t header_size = 0;   // bytes before the VP8 data
  bool keyframe = false;    // only meaningful when start && partition == 0
};
std::optional<Vp8Descriptor> parse_vp8_descriptor(std::span<const uint8_t> payload);

class Vp8Depacketizer final : public Depacketizer {
 public:
  // The frames are the VP8 data with the descriptors stripped.
  Result push(uint16_t seq, uint32_t timestamp, bool marker, std::span<const uint8_t> payload) override;
  VideoCodec codec() const override { return VideoCodec::kVp8; }

 private:
  bool in_frame_ = false;  // collecting the packets of frame_.timestamp
};

// Cuts one encoded VP8 frame into RTP payloads of at most `max_payload` bytes each (descriptor
// included): X=1 with a 15-bit picture id, S=1 on the first, PID 0. `out` gets the payloads
// back to back; `sizes` the size of each.
void packetize_vp8(std::span<const uint8_t> frame, uint16_t picture_id, size_t max_payload, std::vector<uint8_t>& out,
                   std::vector<size_t>& sizes);

}  // namespace junction::mixers
