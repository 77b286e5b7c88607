#include "core/base/ids.h"

#include <openssl/rand.h>

#include <stdexcept>

namespace junction {

uint64_t random_id() {
  for (;;) {
    uint64_t value = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&value), sizeof value) != 1)
      throw std::runtime_error("RAND_bytes failed");
    value &= kMaxJsSafeId;
    if (value != 0) return value;
  }
}

}  // namespace junction
