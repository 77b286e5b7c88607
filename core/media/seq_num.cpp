#include "core/media/seq_num.h"

namespace junction::media {

int64_t SeqUnwrapper::unwrap(uint16_t seq) {
  if (!last_) {
    // Start one cycle up so that a late packet from before the first one stays positive.
    last_ = int64_t{1} << 16 | seq;
    return *last_;
  }
  int64_t value = *last_ + seq_delta(seq, static_cast<uint16_t>(*last_));
  if (value > *last_) last_ = value;
  return value;
}

}  // namespace junction::media
