#pragma once
// What the load generator's publishers send: RTP payloads that a real receiver would accept
// (VP8 with a valid RFC 7741 descriptor and frame header, keyframes with the 0x9d012a start
// code; Opus frames encoded by libopus), each carrying a 20-byte trailer with the sender's clock,
// so a subscriber can measure latency and loss without trusting anything the server rewrote.
//
// The trailer sits where a decoder ignores it: inside an Opus packet's padding (the frame is
// rewritten as a code-3 packet with one frame and RFC 6716 §3.2.5 padding, so it still
// decodes), and at the end of a VP8 partition (the synthetic frame body is filler anyway).
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace junction::loadgen {

// Monotonic nanoseconds: sender and receiver run in one process, so one clock serves both.
uint64_t now_ns();

struct Trailer {
  uint32_t source = 0;   // publisher index * 2 + (0 audio, 1 video)
  uint32_t sequence = 0; // per source, from 0, without gaps
  uint64_t sent_ns = 0;  // now_ns() just before the packet was handed to SRTP
  static constexpr size_t kSize = 20;
  static constexpr uint32_t kMagic = 0x4A4C4731;  // "JLG1"
  void write(uint8_t* out) const;
  // The trailer at the end of `payload`, if it carries one.
  static std::optional<Trailer> read(std::span<const uint8_t> payload);
};

// One RTP packet to send: payload type, marker and the RTP timestamp are set by the source.
struct OutPacket {
  std::vector<uint8_t> bytes;  // full RTP packet (header + payload + trailer)
  size_t trailer_offset = 0;   // where to stamp the trailer just before sending
};

// Video: 30 frames per second, a keyframe every `keyframe_interval`, delta frames of 3 or 4
// packets of ~1150 bytes (about 110 packets and 1 Mbit/s per second with the keyframes).
class Vp8Source {
 public:
  Vp8Source(uint8_t payload_type, uint32_t ssrc, std::chrono::milliseconds keyframe_interval);
  // Packets of every frame due by `now`; at most one frame per call after a long stall (no
  // catch-up burst).
  void due(std::chrono::steady_clock::time_point now, std::vector<OutPacket>& out);
  void request_keyframe() { keyframe_requested_ = true; }

 private:
  uint8_t pt_;
  uint32_t ssrc_;
  std::chrono::milliseconds keyframe_interval_;
  std::chrono::steady_clock::time_point next_frame_{}, last_keyframe_{};
  uint16_t seq_ = 0;
  uint16_t picture_id_ = 0;
  uint32_t frame_count_ = 0;
  bool keyframe_requested_ = true;
};

// Audio: one Opus frame (20 ms, 48 kHz) every 20 ms, looping over pre-encoded frames of a tone
// (talker) or near-silence (listener), optionally with the RFC 6464 audio level extension.
class OpusSource {
 public:
  // frames: libopus packets (code 0); level_ext_id: 0 = no extension; level: dBov (0..127).
  OpusSource(uint8_t payload_type, uint32_t ssrc, std::shared_ptr<const std::vector<std::vector<uint8_t>>> frames,
             int level_ext_id, uint8_t level);
  void due(std::chrono::steady_clock::time_point now, std::vector<OutPacket>& out);

 private:
  uint8_t pt_;
  uint32_t ssrc_;
  std::shared_ptr<const std::vector<std::vector<uint8_t>>> frames_;
  int level_ext_id_;
  uint8_t level_;
  std::chrono::steady_clock::time_point next_{};
  uint16_t seq_ = 0;
  uint32_t timestamp_ = 0;
  size_t index_ = 0;
};

// A second of 48 kHz Opus (50 frames) from libopus: a sine of `hz` at `amplitude` (0 = hiss at
// about -80 dBov, what a quiet open microphone sends).
std::vector<std::vector<uint8_t>> encode_opus_loop(double hz, double amplitude);

// Rewrites a code-0 Opus packet as a code-3 packet with one frame and `padding` bytes of padding
// at the end (RFC 6716 §3.2.5), where the trailer goes. Empty if the packet is not code 0.
std::vector<uint8_t> opus_with_padding(std::span<const uint8_t> frame, size_t padding);

}  // namespace junction::loadgen
