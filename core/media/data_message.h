#pragma once
// What crosses between a PeerConnection and a plugin for one data channel message: the
// channel's label and sub-protocol (as the peer opened it), whether it is binary (else UTF-8
// text), and the bytes, valid for the duration of the call.
#include <cstdint>
#include <span>
#include <string_view>

namespace junction::media {

struct DataMessage {
  std::string_view label;
  std::string_view protocol;
  bool binary = false;
  std::span<const uint8_t> bytes;
};

}  // namespace junction::media
