#pragma once
// Video over RTP, the part common to the codecs: the codecs the MCU speaks, the whole frames a
// depacketizer gives, the depacketizer interface, and cutting an encoded frame into payloads.
// One small file per codec holds its payload format: vp8_rtp (RFC 7741), h264_rtp (RFC 6184).
//
// A depacketizer is fed one sender's packets in sequence order (the media worker gets them as
// the network delivers; on loopback and small loss that holds) and gives whole frames. A gap in
// the sequence numbers breaks the chain of references: it drops frames until the next keyframe
// and says one is needed (the caller sends a PLI, rate-limited), so the decoder never sees a
// frame it cannot decode.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace junction::mixers {

enum class VideoCodec { kVp8, kH264 };
// "vp8" / "h264": the SDP names (lower case) and libavcodec's decoder names.
const char* codec_name(VideoCodec codec);
std::optional<VideoCodec> codec_from_name(const std::string& name);  // case-insensitive

struct EncodedFrame {
  std::vector<uint8_t> data;  // as the decoder takes it (VP8 frame; H.264 Annex B access unit)
  uint32_t timestamp = 0;     // RTP, 90 kHz
  bool keyframe = false;
  VideoCodec codec = VideoCodec::kVp8;
};

class Depacketizer {
 public:
  enum class Result { kNone, kFrame, kNeedKeyframe };
  static constexpr size_t kMaxFrame = 2 * 1024 * 1024;
  virtual ~Depacketizer() = default;

  // One packet. kFrame: `frame()` holds a whole frame (valid until the next call). kNeedKeyframe:
  // the stream broke here (or started on a delta frame) and will not resume before a keyframe.
  virtual Result push(uint16_t seq, uint32_t timestamp, bool marker, std::span<const uint8_t> payload) = 0;
  virtual VideoCodec codec() const = 0;
  const EncodedFrame& frame() const { return frame_; }
  bool waiting_keyframe() const { return waiting_keyframe_; }

 protected:
  enum class Order { kNext, kGap, kStale };
  // Where `seq` stands: the next one (or the first ever), after a gap, or a duplicate / late one.
  Order order(uint16_t seq);

  EncodedFrame frame_;
  bool waiting_keyframe_ = true;  // nothing decodable since the start or the last break

 private:
  bool have_seq_ = false;
  uint16_t last_seq_ = 0;
};

std::unique_ptr<Depacketizer> make_depacketizer(VideoCodec codec);

// Cuts one encoded frame into RTP payloads of at most `max_payload` bytes each. `out` gets the
// payloads back to back, `sizes` the size of each; the last one carries the marker bit.
// `picture_id` (15 bits) is VP8's; H.264 has none.
void packetize(VideoCodec codec, std::span<const uint8_t> frame, uint16_t picture_id, size_t max_payload,
               std::vector<uint8_t>& out, std::vector<size_t>& sizes);

}  // namespace junction::mixers
