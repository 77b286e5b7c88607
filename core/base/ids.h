#pragma once
#include <cstdint>

namespace junction {

// A random, non-zero session or handle id. Ids are unguessable capabilities: a client can only
// use the ids it was given. They carry 53 random bits, not 64, because janus.js reads them with
// JSON.parse into IEEE doubles; an id above 2^53 would arrive rounded and never match again.
uint64_t random_id();

inline constexpr uint64_t kMaxJsSafeId = (uint64_t{1} << 53) - 1;

}  // namespace junction
