#pragma once
// Random identifiers the room plugins hand out (header-only; link OpenSSL::Crypto).
#include <openssl/rand.h>

#include <cstdint>

namespace junction::plugins {

// Rooms, participants, feeds: 1 .. 2^53-1, because janus.js reads ids as doubles.
inline uint64_t random_id() {
  uint64_t value = 0;
  while (value == 0) {
    RAND_bytes(reinterpret_cast<unsigned char*>(&value), sizeof value);
    value &= (uint64_t{1} << 53) - 1;
  }
  return value;
}

// RTP SSRCs: any value but 0.
inline uint32_t random_ssrc() {
  uint32_t value = 0;
  while (value == 0) RAND_bytes(reinterpret_cast<unsigned char*>(&value), sizeof value);
  return value;
}

}  // namespace junction::plugins
