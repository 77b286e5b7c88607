#pragma once
// RTP packet view (RFC 3550 §5.1) with RFC 8285 header extensions, and the in-place rewrites an
// SFU needs when it forwards a packet to a subscriber.
//
// A RtpPacket never owns bytes: it is a span over a (pooled) buffer plus the offsets that parse()
// worked out once. Everything a later stage reads has been bounds-checked by parse(), so the
// accessors do no further validation. Nothing here allocates or throws.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace junction::media {

// Big-endian field access, byte by byte (never a cast of a struct onto network bytes). Callers
// guarantee the bytes are there; these are shared by the RTP and RTCP code.
constexpr uint16_t load_be16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
constexpr uint32_t load_be24(const uint8_t* p) {
  return uint32_t{p[0]} << 16 | uint32_t{p[1]} << 8 | p[2];
}
constexpr uint32_t load_be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
constexpr uint64_t load_be64(const uint8_t* p) {
  return uint64_t{load_be32(p)} << 32 | load_be32(p + 4);
}
constexpr void store_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
constexpr void store_be24(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 16);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v);
}
constexpr void store_be32(uint8_t* p, uint32_t v) {
  store_be16(p, static_cast<uint16_t>(v >> 16));
  store_be16(p + 2, static_cast<uint16_t>(v));
}
constexpr void store_be64(uint8_t* p, uint64_t v) {
  store_be32(p, static_cast<uint32_t>(v >> 32));
  store_be32(p + 4, static_cast<uint32_t>(v));
}

inline constexpr size_t kRtpFixedHeaderSize = 12;
// RFC 8285 §4.2 / §4.3: the "defined by profile" values of the two extension forms.
inline constexpr uint16_t kRtpOneByteExtensionProfile = 0xBEDE;
inline constexpr uint16_t kRtpTwoByteExtensionProfile = 0x1000;  // low 4 bits: appbits

// True for the first byte pattern of RTCP packet types 192..223 carried on the same port as RTP
// (RFC 5761 §4): callers demultiplexing a bundled port check this before RtpPacket::parse.
constexpr bool looks_like_rtcp(std::span<const uint8_t> bytes) {
  return bytes.size() >= 2 && bytes[1] >= 192 && bytes[1] <= 223;
}

class RtpPacket {
 public:
  // Validates version 2, the CSRC list, the extension header (and, for the RFC 8285 forms, every
  // element in it) and the padding against the length. Returns nullopt for anything malformed.
  static std::optional<RtpPacket> parse(std::span<const uint8_t> bytes);

  bool marker() const { return (bytes_[1] & 0x80) != 0; }
  uint8_t payload_type() const { return bytes_[1] & 0x7F; }
  uint16_t sequence() const { return load_be16(&bytes_[2]); }
  uint32_t timestamp() const { return load_be32(&bytes_[4]); }
  uint32_t ssrc() const { return load_be32(&bytes_[8]); }
  uint8_t csrc_count() const { return bytes_[0] & 0x0F; }
  // i < csrc_count(); out of range reads 0 rather than past the list.
  uint32_t csrc(size_t i) const;

  bool has_extension() const { return (bytes_[0] & 0x10) != 0; }
  uint16_t extension_profile() const;
  // The whole extension body (after the 4-byte extension header), whatever its profile.
  std::span<const uint8_t> extension_block() const;
  // The data of element `id` for the one-byte (ids 1..14) and two-byte (ids 1..255) forms of
  // RFC 8285; empty if absent, zero-length, or the packet uses another profile.
  std::span<const uint8_t> extension(uint8_t id) const;

  std::span<const uint8_t> payload() const {
    return bytes_.subspan(header_size_, bytes_.size() - header_size_ - padding_size_);
  }
  size_t header_size() const { return header_size_; }
  size_t padding_size() const { return padding_size_; }
  std::span<const uint8_t> bytes() const { return bytes_; }

 private:
  RtpPacket() = default;

  std::span<const uint8_t> bytes_;
  uint16_t header_size_ = 0;       // fixed header + CSRCs + extension header and body
  uint16_t extension_offset_ = 0;  // offset of the extension body; 0 when there is none
  uint16_t padding_size_ = 0;
};

// In-place rewrites of a packet already validated by RtpPacket::parse (SFU forwarding). They
// touch only the named field; on a span shorter than the fixed header they do nothing.
void rtp_set_sequence(std::span<uint8_t> packet, uint16_t seq);
void rtp_set_timestamp(std::span<uint8_t> packet, uint32_t ts);
void rtp_set_ssrc(std::span<uint8_t> packet, uint32_t ssrc);
void rtp_set_payload_type(std::span<uint8_t> packet, uint8_t pt);
void rtp_set_marker(std::span<uint8_t> packet, bool marker);

// Writes a fixed 12-byte header (version 2, no CSRC, no extension, no padding) and the payload
// into `out`. Returns the size written, or 0 if it does not fit.
size_t rtp_write(std::span<uint8_t> out, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
                 bool marker, std::span<const uint8_t> payload);

}  // namespace junction::media
