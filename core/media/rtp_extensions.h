#pragma once
// Typed readers for RTP header extension data (the spans RtpPacket::extension() returns) and for
// the codec payload descriptors an SFU looks at: keyframes, picture ids, temporal/spatial layers.
// All readers are bounds-checked, allocation-free, and return nullopt/false on short input.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace junction::media {

// --- Header extensions -------------------------------------------------------------------------

// RFC 6464 client-to-mixer audio level: V flag and the level in -dBov (0 loudest .. 127 silence).
struct AudioLevel {
  bool voice;
  uint8_t level_dbov;
};
std::optional<AudioLevel> read_audio_level(std::span<const uint8_t> data);

// draft-holmer-rmcat-transport-wide-cc-extensions-01 §2: a 16-bit transport-wide sequence number
// (the "-02" variant appends two feedback-request bytes; they are ignored here).
std::optional<uint16_t> read_transport_seq(std::span<const uint8_t> data);

// abs-send-time: 24 bits, 6.18 fixed point seconds (the middle bits of an NTP timestamp).
std::optional<uint32_t> read_abs_send_time(std::span<const uint8_t> data);

// RFC 8843 mid and RFC 8852 rid / repaired-rid: the bytes as text, trailing NULs dropped (some
// senders pad). Empty when absent. The view points into the packet.
std::string_view read_sdes_string(std::span<const uint8_t> data);

// --- VP8 (RFC 7741 §4.2) -----------------------------------------------------------------------

struct Vp8Descriptor {
  bool non_reference = false;          // N
  bool start_of_partition = false;     // S
  uint8_t partition_id = 0;            // PID
  std::optional<uint16_t> picture_id;  // 7 or 15 bits
  bool picture_id_15bit = false;       // M
  std::optional<uint8_t> tl0_pic_idx;
  std::optional<uint8_t> temporal_id;  // TID, present when T
  bool layer_sync = false;             // Y
  std::optional<uint8_t> key_idx;      // KEYIDX, present when K
  size_t size = 0;                     // descriptor bytes; the VP8 payload starts after them
  // Offsets of the rewritable fields inside the payload (0 = absent), for the setters below.
  uint8_t picture_id_offset = 0;
  uint8_t tl0_pic_idx_offset = 0;
};
std::optional<Vp8Descriptor> parse_vp8_descriptor(std::span<const uint8_t> payload);
// Keyframe: first packet of partition 0 whose VP8 payload header has the P (inverse key frame)
// bit clear (RFC 7741 §4.3).
bool vp8_is_keyframe(std::span<const uint8_t> payload);
// In-place rewrites for an SFU switching simulcast layers; they keep the M bit (width) as sent and
// do nothing if the field is absent. `desc` comes from parse_vp8_descriptor on the same payload.
void vp8_set_picture_id(std::span<uint8_t> payload, const Vp8Descriptor& desc, uint16_t picture_id);
void vp8_set_tl0_pic_idx(std::span<uint8_t> payload, const Vp8Descriptor& desc, uint8_t tl0);

// --- H.264 (RFC 6184) --------------------------------------------------------------------------

// True when the payload starts an IDR picture or carries an SPS (the parameter sets a decoder
// needs to start): a single NAL unit of type 5 or 7, a STAP-A aggregating one, or the first
// fragment (S bit) of an FU-A of type 5.
bool h264_is_keyframe(std::span<const uint8_t> payload);

// --- VP9 (RFC 9628 §4.2) -----------------------------------------------------------------------

struct Vp9Descriptor {
  bool inter_picture = false;              // P
  bool flexible = false;                   // F
  bool begin_of_frame = false;             // B
  bool end_of_frame = false;               // E
  bool has_scalability_structure = false;  // V
  bool not_reference = false;              // Z
  std::optional<uint16_t> picture_id;
  bool picture_id_15bit = false;
  bool has_layer_indices = false;  // L
  uint8_t temporal_id = 0;
  bool switching_up = false;  // U
  uint8_t spatial_id = 0;
  bool inter_layer_dependency = false;  // D
  std::optional<uint8_t> tl0_pic_idx;   // non-flexible mode only
  size_t size = 0;                      // descriptor bytes, including P_DIFFs and the SS
};
std::optional<Vp9Descriptor> parse_vp9_descriptor(std::span<const uint8_t> payload);
// Keyframe: not inter-picture predicted (P clear), start of frame (B set), lowest spatial layer.
bool vp9_is_keyframe(std::span<const uint8_t> payload);

}  // namespace junction::media
