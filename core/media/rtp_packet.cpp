#include "core/media/rtp_packet.h"

#include <cstring>
#include <limits>

namespace junction::media {
namespace {

bool is_two_byte_profile(uint16_t profile) {
  return (profile & 0xFFF0) == kRtpTwoByteExtensionProfile;
}

// Walks the elements of an RFC 8285 extension block. `visit(id, data)` returns true to stop.
// Returns false if an element runs past the block (the block itself is already in bounds).
template <typename Visit>
bool walk_one_byte(std::span<const uint8_t> block, Visit&& visit) {
  size_t i = 0;
  while (i < block.size()) {
    uint8_t b = block[i];
    if (b == 0) {  // padding byte between or after elements (§4.2)
      ++i;
      continue;
    }
    uint8_t id = b >> 4;
    // §4.2: ID 15 is reserved; on meeting it, stop processing the block (its length is ignored).
    if (id == 15) return true;
    size_t len = size_t{(b & 0x0Fu)} + 1;
    if (i + 1 + len > block.size()) return false;
    if (visit(id, block.subspan(i + 1, len))) return true;
    i += 1 + len;
  }
  return true;
}

template <typename Visit>
bool walk_two_byte(std::span<const uint8_t> block, Visit&& visit) {
  size_t i = 0;
  while (i < block.size()) {
    uint8_t id = block[i];
    if (id == 0) {  // padding (§4.3)
      ++i;
      continue;
    }
    if (i + 2 > block.size()) return false;
    size_t len = block[i + 1];
    if (i + 2 + len > block.size()) return false;
    if (visit(id, block.subspan(i + 2, len))) return true;
    i += 2 + len;
  }
  return true;
}

}  // namespace

std::optional<RtpPacket> RtpPacket::parse(std::span<const uint8_t> bytes) {
  // 16-bit offsets are enough: nothing larger fits in a UDP datagram or an RFC 4571 frame.
  if (bytes.size() < kRtpFixedHeaderSize || bytes.size() > std::numeric_limits<uint16_t>::max())
    return std::nullopt;
  if ((bytes[0] >> 6) != 2) return std::nullopt;

  RtpPacket p;
  p.bytes_ = bytes;
  size_t offset = kRtpFixedHeaderSize + size_t{4} * (bytes[0] & 0x0F);
  if (offset > bytes.size()) return std::nullopt;

  if (bytes[0] & 0x10) {
    if (offset + 4 > bytes.size()) return std::nullopt;
    uint16_t profile = load_be16(&bytes[offset]);
    size_t length = size_t{4} * load_be16(&bytes[offset + 2]);
    size_t body = offset + 4;
    if (body + length > bytes.size()) return std::nullopt;
    auto block = bytes.subspan(body, length);
    auto ignore = [](uint8_t, std::span<const uint8_t>) { return false; };
    if (profile == kRtpOneByteExtensionProfile && !walk_one_byte(block, ignore))
      return std::nullopt;
    if (is_two_byte_profile(profile) && !walk_two_byte(block, ignore)) return std::nullopt;
    p.extension_offset_ = static_cast<uint16_t>(body);
    offset = body + length;
  }

  if (bytes[0] & 0x20) {
    // §5.1: the last octet counts the padding octets, itself included; so it is never 0 and
    // never reaches into the header.
    size_t padding = bytes.back();
    if (padding == 0 || padding > bytes.size() - offset) return std::nullopt;
    p.padding_size_ = static_cast<uint16_t>(padding);
  }
  p.header_size_ = static_cast<uint16_t>(offset);
  return p;
}

uint32_t RtpPacket::csrc(size_t i) const {
  if (i >= csrc_count()) return 0;
  return load_be32(&bytes_[kRtpFixedHeaderSize + 4 * i]);
}

uint16_t RtpPacket::extension_profile() const {
  if (!has_extension()) return 0;
  return load_be16(&bytes_[extension_offset_ - 4]);
}

std::span<const uint8_t> RtpPacket::extension_block() const {
  if (!has_extension()) return {};
  size_t length = size_t{4} * load_be16(&bytes_[extension_offset_ - 2]);
  return bytes_.subspan(extension_offset_, length);
}

std::span<const uint8_t> RtpPacket::extension(uint8_t id) const {
  if (!has_extension() || id == 0) return {};
  std::span<const uint8_t> found;
  auto match = [&](uint8_t element_id, std::span<const uint8_t> data) {
    if (element_id != id) return false;
    found = data;
    return true;
  };
  uint16_t profile = extension_profile();
  if (profile == kRtpOneByteExtensionProfile) {
    if (id < 15) walk_one_byte(extension_block(), match);
  } else if (is_two_byte_profile(profile)) {
    walk_two_byte(extension_block(), match);
  }
  return found;
}

void rtp_set_sequence(std::span<uint8_t> packet, uint16_t seq) {
  if (packet.size() >= kRtpFixedHeaderSize) store_be16(&packet[2], seq);
}

void rtp_set_timestamp(std::span<uint8_t> packet, uint32_t ts) {
  if (packet.size() >= kRtpFixedHeaderSize) store_be32(&packet[4], ts);
}

void rtp_set_ssrc(std::span<uint8_t> packet, uint32_t ssrc) {
  if (packet.size() >= kRtpFixedHeaderSize) store_be32(&packet[8], ssrc);
}

void rtp_set_payload_type(std::span<uint8_t> packet, uint8_t pt) {
  if (packet.size() >= kRtpFixedHeaderSize)
    packet[1] = static_cast<uint8_t>((packet[1] & 0x80) | (pt & 0x7F));
}

void rtp_set_marker(std::span<uint8_t> packet, bool marker) {
  if (packet.size() >= kRtpFixedHeaderSize)
    packet[1] = static_cast<uint8_t>((packet[1] & 0x7F) | (marker ? 0x80 : 0));
}

size_t rtp_write(std::span<uint8_t> out, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
                 bool marker, std::span<const uint8_t> payload) {
  size_t size = kRtpFixedHeaderSize + payload.size();
  if (out.size() < size) return 0;
  out[0] = 0x80;  // V=2, P=0, X=0, CC=0
  out[1] = static_cast<uint8_t>((marker ? 0x80 : 0) | (pt & 0x7F));
  store_be16(&out[2], seq);
  store_be32(&out[4], ts);
  store_be32(&out[8], ssrc);
  if (!payload.empty()) std::memcpy(&out[kRtpFixedHeaderSize], payload.data(), payload.size());
  return size;
}

}  // namespace junction::media
