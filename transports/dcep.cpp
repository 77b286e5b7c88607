#include "transports/dcep.h"

namespace junction::transports::dcep {
namespace {

constexpr size_t kOpenHeader = 12;

uint16_t read16(std::span<const uint8_t> b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }
uint32_t read32(std::span<const uint8_t> b, size_t at) {
  return uint32_t{b[at]} << 24 | uint32_t{b[at + 1]} << 16 | uint32_t{b[at + 2]} << 8 | b[at + 3];
}
void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

}  // namespace

std::optional<Open> parse_open(std::span<const uint8_t> message) {
  if (message.size() < kOpenHeader || message[0] != kDataChannelOpen) return std::nullopt;
  uint8_t type = message[1];
  uint8_t policy = type & 0x7F;
  if (policy > 0x02) return std::nullopt;
  size_t label_length = read16(message, 8), protocol_length = read16(message, 10);
  // Exactly the header plus both strings: trailing bytes mean a sender we do not understand.
  if (kOpenHeader + label_length + protocol_length != message.size()) return std::nullopt;
  Open open;
  open.unordered = (type & 0x80) != 0;
  open.reliability = static_cast<Reliability>(policy);
  open.priority = read16(message, 2);
  open.reliability_parameter = read32(message, 4);
  auto text = [&](size_t at, size_t length) {
    return std::string(reinterpret_cast<const char*>(message.data() + at), length);
  };
  open.label = text(kOpenHeader, label_length);
  open.protocol = text(kOpenHeader + label_length, protocol_length);
  return open;
}

std::vector<uint8_t> build_open(const Open& open) {
  std::vector<uint8_t> out;
  size_t label = std::min<size_t>(open.label.size(), 0xFFFF), protocol = std::min<size_t>(open.protocol.size(), 0xFFFF);
  out.reserve(kOpenHeader + label + protocol);
  out.push_back(kDataChannelOpen);
  out.push_back(static_cast<uint8_t>((open.unordered ? 0x80 : 0x00) | static_cast<uint8_t>(open.reliability)));
  put16(out, open.priority);
  uint32_t p = open.reliability == Reliability::kReliable ? 0 : open.reliability_parameter;
  put16(out, static_cast<uint16_t>(p >> 16));
  put16(out, static_cast<uint16_t>(p));
  put16(out, static_cast<uint16_t>(label));
  put16(out, static_cast<uint16_t>(protocol));
  out.insert(out.end(), open.label.begin(), open.label.begin() + static_cast<std::ptrdiff_t>(label));
  out.insert(out.end(), open.protocol.begin(), open.protocol.begin() + static_cast<std::ptrdiff_t>(protocol));
  return out;
}

bool is_ack(std::span<const uint8_t> message) { return message.size() == 1 && message[0] == kDataChannelAck; }

}  // namespace junction::transports::dcep
