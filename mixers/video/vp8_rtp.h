#pragma once
// VP8 over RTP (RFC 7741): reassembling a sender's packets into whole frames, and cutting the
// compositor's frames into packets.
//
// Depacketizer. Packets are expected in sequence order (the media worker gets them as the network
// delivers; on loopback and small loss that holds). A frame is the packets of one RTP timestamp,
// from the one whose descriptor has S=1 and partition 0 to the one with the marker bit. A gap in
// the sequence numbers, or a frame whose start was missed, breaks the chain of references: the
// depacketizer drops frames until the next keyframe and says that one is needed (the caller sends
// a PLI), so the decoder never sees a frame it cannot decode.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace junction::mixers {

struct EncodedFrame {
  std::vector<uint8_t> data;  // the VP8 frame as the decoder takes it (descriptors stripped)
  uint32_t timestamp = 0;     // RTP, 90 kHz
  bool keyframe = false;
};

// Parses the payload descriptor; nullopt for a payload too short to hold one.
struct Vp8Descriptor {
  bool start = false;       // S: first packet of a partition
  int partition = 0;        // PID
  size_t header_size = 0;   // bytes before the VP8 data
  bool keyframe = false;    // only meaningful when start && partition == 0
};
std::optional<Vp8Descriptor> parse_vp8_descriptor(std::span<const uint8_t> payload);

class Vp8Depacketizer {
 public:
  enum class Result { kNone, kFrame, kNeedKeyframe };
  static constexpr size_t kMaxFrame = 2 * 1024 * 1024;

  // One packet. kFrame: `frame()` holds a whole frame (valid until the next call). kNeedKeyframe:
  // the stream broke here (or started on a delta frame) and will not resume before a keyframe.
  Result push(uint16_t seq, uint32_t timestamp, bool marker, std::span<const uint8_t> payload);
  const EncodedFrame& frame() const { return frame_; }
  bool waiting_keyframe() const { return waiting_keyframe_; }

 private:
  bool have_seq_ = false;
  uint16_t last_seq_ = 0;
  bool in_frame_ = false;         // collecting the packets of frame_.timestamp
  bool waiting_keyframe_ = true;  // nothing decodable since the start or the last break
  EncodedFrame frame_;
};

// Cuts one encoded VP8 frame into RTP payloads of at most `max_payload` bytes each (descriptor
// included): X=1 with a 15-bit picture id, S=1 on the first, PID 0. `out` gets the payloads
// back to back; `sizes` the size of each.
void packetize_vp8(std::span<const uint8_t> frame, uint16_t picture_id, size_t max_payload, std::vector<uint8_t>& out,
                   std::vector<size_t>& sizes);

}  // namespace junction::mixers
