#pragma once
// The Data Channel Establishment Protocol (RFC 8832): the two messages that open a WebRTC data
// channel on an SCTP stream, and the payload protocol identifiers of RFC 8831 §8. Pure parsing
// and building, bounds-checked: a network message that does not fit is refused, never read past.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace junction::transports::dcep {

// SCTP payload protocol identifiers (RFC 8831 §8, RFC 8832 §8.1).
enum Ppid : uint32_t {
  kPpidDcep = 50,
  kPpidString = 51,
  kPpidBinaryPartial = 52,  // deprecated; read as binary
  kPpidBinary = 53,
  kPpidStringPartial = 54,  // deprecated; read as text
  kPpidStringEmpty = 56,    // an empty text message, sent as one zero byte
  kPpidBinaryEmpty = 57,    // an empty binary message, sent as one zero byte
};

enum MessageType : uint8_t { kDataChannelAck = 0x02, kDataChannelOpen = 0x03 };

// Channel types (RFC 8832 §5.1): bit 0x80 = unordered, the low bits the reliability policy.
enum class Reliability : uint8_t { kReliable = 0x00, kMaxRetransmits = 0x01, kMaxLifetime = 0x02 };

struct Open {
  bool unordered = false;
  Reliability reliability = Reliability::kReliable;
  uint16_t priority = 256;
  uint32_t reliability_parameter = 0;  // retransmissions, or lifetime in ms
  std::string label;
  std::string protocol;
};

// A DATA_CHANNEL_OPEN message, or nullopt when it is not one or its lengths do not add up
// (RFC 8832 §5.1: 12-byte header, then label and protocol of the lengths given).
std::optional<Open> parse_open(std::span<const uint8_t> message);
std::vector<uint8_t> build_open(const Open& open);
// DATA_CHANNEL_ACK is the one byte 0x02.
bool is_ack(std::span<const uint8_t> message);

}  // namespace junction::transports::dcep
