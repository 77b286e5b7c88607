#include "mixers/video/vp8_rtp.h"

#include <algorithm>

namespace junction::mixers {

std::optional<Vp8Descriptor> parse_vp8_descriptor(std::span<const uint8_t> p) {
  if (p.empty()) return std::nullopt;
  Vp8Descriptor d;
  size_t i = 1;
  const uint8_t b0 = p[0];
  d.start = (b0 & 0x10) != 0;
  d.partition = b0 & 0x07;
  if (b0 & 0x80) {  // X: an extension byte follows
    if (p.size() < 2) return std::nullopt;
    const uint8_t x = p[1];
    i = 2;
    if (x & 0x80) {  // I: picture id, 7 or 15 bits
      if (p.size() <= i) return std::nullopt;
      i += (p[i] & 0x80) ? 2 : 1;
    }
    if (x & 0x40) ++i;           // L: TL0PICIDX
    if (x & 0x30) ++i;           // T or K: TID / KEYIDX
  }
  if (p.size() <= i) return std::nullopt;  // a descriptor with no VP8 data after it
  d.header_size = i;
  // The VP8 payload header's P bit (RFC 7741 §4.3): 0 on a keyframe. Only in the first packet of
  // partition 0.
  if (d.start && d.partition == 0) d.keyframe = (p[i] & 0x01) == 0;
  return d;
}

Vp8Depacketizer::Result Vp8Depacketizer::push(uint16_t seq, uint32_t timestamp, bool marker,
                                              std::span<const uint8_t> payload) {
  const Order o = order(seq);
  if (o == Order::kStale) return Result::kNone;  // a duplicate or a late packet
  const bool gap = o == Order::kGap;
  auto d = parse_vp8_descriptor(payload);
  bool broke = false;
  if (gap) {
    // Whatever was being collected misses packets, and the frames after it may refer to it.
    in_frame_ = false;
    broke = !waiting_keyframe_;
    waiting_keyframe_ = true;
  }
  if (!d) return broke ? Result::kNeedKeyframe : Result::kNone;
  auto data = payload.subspan(d->header_size);
  if (d->start && d->partition == 0) {
    if (in_frame_ && !waiting_keyframe_) {
      // A new frame began before the last one ended (its marker packet was lost).
      broke = true;
      waiting_keyframe_ = true;
    }
    in_frame_ = false;
    if (waiting_keyframe_ && !d->keyframe) return Result::kNeedKeyframe;  // the caller rate-limits its PLIs
    frame_.data.assign(data.begin(), data.end());
    frame_.timestamp = timestamp;
    frame_.keyframe = d->keyframe;
    in_frame_ = true;
  } else if (in_frame_ && timestamp == frame_.timestamp) {
    if (frame_.data.size() + data.size() > kMaxFrame) {
      in_frame_ = false;
      waiting_keyframe_ = true;
      return Result::kNeedKeyframe;
    }
    frame_.data.insert(frame_.data.end(), data.begin(), data.end());
  } else {
    // The middle of a frame whose start we did not get.
    if (in_frame_) broke = true;
    in_frame_ = false;
    if (!waiting_keyframe_) broke = true;
    waiting_keyframe_ = true;
    return broke ? Result::kNeedKeyframe : Result::kNone;
  }
  if (!marker) return broke ? Result::kNeedKeyframe : Result::kNone;
  in_frame_ = false;
  waiting_keyframe_ = false;
  return Result::kFrame;
}

void packetize_vp8(std::span<const uint8_t> frame, uint16_t picture_id, size_t max_payload, std::vector<uint8_t>& out,
                   std::vector<size_t>& sizes) {
  constexpr size_t kDescriptor = 4;  // X|S|PID, I, 15-bit picture id
  const size_t room = std::max<size_t>(max_payload, kDescriptor + 1) - kDescriptor;
  // Equal-sized packets (the last one not much smaller than the others): better for pacing.
  const size_t count = std::max<size_t>(1, (frame.size() + room - 1) / room);
  const size_t base = frame.size() / count, extra = frame.size() % count;
  size_t offset = 0;
  for (size_t k = 0; k < count; ++k) {
    size_t n = base + (k < extra ? 1 : 0);
    out.push_back(static_cast<uint8_t>(0x80 | (k == 0 ? 0x10 : 0x00)));  // X, S on the first, PID 0
    out.push_back(0x80);                                                    // I
    out.push_back(static_cast<uint8_t>(0x80 | ((picture_id >> 8) & 0x7F)));  // M: 15 bits
    out.push_back(static_cast<uint8_t>(picture_id));
    out.insert(out.end(), frame.begin() + static_cast<ptrdiff_t>(offset), frame.begin() + static_cast<ptrdiff_t>(offset + n));
    sizes.push_back(kDescriptor + n);
    offset += n;
  }
}

}  // namespace junction::mixers
