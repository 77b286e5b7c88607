#include "mixers/video/h264_rtp.h"

#include <algorithm>
#include <cstdint>

namespace junction::mixers {
namespace {

constexpr uint8_t kStapA = 24, kFuA = 28;
constexpr uint8_t kIdr = 5, kSps = 7, kPps = 8, kAud = 9;
constexpr uint8_t kStartCode[] = {0, 0, 0, 1};

// Whether the payload's first NAL unit can only open an access unit: an access unit delimiter,
// or an SPS (which comes before the first slice; browsers and x264 put it first in a keyframe).
bool opens_access_unit(std::span<const uint8_t> p) {
  if (p.empty()) return false;
  uint8_t type = p[0] & 0x1F;
  if (type == kStapA && p.size() > 3) type = p[3] & 0x1F;  // the first aggregated unit's header
  return type == kSps || type == kAud;
}

}  // namespace

Depacketizer::Result H264Depacketizer::broken() {
  in_frame_ = false;
  fu_open_ = false;
  waiting_keyframe_ = true;
  return Result::kNeedKeyframe;
}

void H264Depacketizer::note_type(uint8_t type) {
  if (type == kIdr) has_idr_ = true;
  if (type == kSps) has_sps_ = seen_sps_ = true;
  if (type == kPps) has_pps_ = seen_pps_ = true;
}

bool H264Depacketizer::add_nal(std::span<const uint8_t> nal) {
  if (nal.empty()) return false;
  if (building_.data.size() + sizeof kStartCode + nal.size() > kMaxFrame) return false;
  building_.data.insert(building_.data.end(), std::begin(kStartCode), std::end(kStartCode));
  building_.data.insert(building_.data.end(), nal.begin(), nal.end());
  note_type(nal[0] & 0x1F);
  return true;
}

bool H264Depacketizer::add_payload(std::span<const uint8_t> p) {
  if (p.empty() || (p[0] & 0x80) != 0) return false;  // the forbidden_zero_bit
  const uint8_t type = p[0] & 0x1F;
  if (type >= 1 && type <= 23) return !fu_open_ && add_nal(p);
  if (type == kStapA) {
    if (fu_open_ || p.size() < 3) return false;
    for (size_t i = 1; i < p.size();) {
      if (i + 2 > p.size()) return false;
      const size_t n = (static_cast<size_t>(p[i]) << 8) | p[i + 1];
      i += 2;
      if (n == 0 || i + n > p.size() || !add_nal(p.subspan(i, n))) return false;
      i += n;
    }
    return true;
  }
  if (type == kFuA) {
    if (p.size() < 3) return false;
    const uint8_t fu = p[1];
    const bool start = (fu & 0x80) != 0, end = (fu & 0x40) != 0;
    auto data = p.subspan(2);
    if (start) {
      if (fu_open_) return false;  // the previous NAL unit's end is missing
      // The NAL unit's own header: F and NRI from the indicator, the type from the FU header.
      const uint8_t header = static_cast<uint8_t>((p[0] & 0xE0) | (fu & 0x1F));
      if (!add_nal({&header, 1})) return false;
      fu_open_ = true;
    } else if (!fu_open_) {
      return false;  // a fragment of a NAL unit whose start we did not get
    }
    if (building_.data.size() + data.size() > kMaxFrame) return false;
    building_.data.insert(building_.data.end(), data.begin(), data.end());
    if (end) fu_open_ = false;
    return true;
  }
  return type == 0 || type >= 30;  // undefined types are ignored (RFC 6184 §5.4); 25-27, 29 break
}

Depacketizer::Result H264Depacketizer::finish() {
  in_frame_ = false;
  boundary_ = true;
  if (fu_open_) return broken();  // the marker came inside a fragmented NAL unit
  const bool key = has_idr_ && (has_sps_ || seen_sps_) && (has_pps_ || seen_pps_);
  if (building_.data.empty()) return Result::kNone;
  if (waiting_keyframe_ && !key) return Result::kNeedKeyframe;  // the caller rate-limits its PLIs
  waiting_keyframe_ = false;
  std::swap(frame_, building_);
  frame_.keyframe = key;
  return Result::kFrame;
}

Depacketizer::Result H264Depacketizer::push(uint16_t seq, uint32_t timestamp, bool marker,
                                            std::span<const uint8_t> payload) {
  const Order o = order(seq);
  if (o == Order::kStale) return Result::kNone;  // a duplicate or a late packet
  bool broke = false;
  const bool new_timestamp = timestamp != last_timestamp_;
  last_timestamp_ = timestamp;
  if (o == Order::kGap) {
    // Whatever was being collected misses packets, and the frames after it may refer to it; where
    // the next frame starts is known again only after a marker.
    broke = !waiting_keyframe_;
    broken();
    boundary_ = false;
  }
  // A padding-only packet (a sender probing bandwidth on the media SSRC) holds no NAL unit; its
  // sequence number counted above.
  if (payload.empty() && !marker) return broke ? Result::kNeedKeyframe : Result::kNone;
  if (in_frame_ && timestamp != building_.timestamp) {
    // A new frame began before the last one's marker, though no packet was lost: a sender that
    // does not mark its frames. Both are suspect.
    broken();
    broke = true;
    boundary_ = true;
  }
  // After a loss, a frame's start is also recognisable when it opens with an SPS (a keyframe sent
  // right after the loss, e.g. the answer to the PLI, needs no second PLI).
  if (!in_frame_ && !boundary_ && new_timestamp && opens_access_unit(payload)) boundary_ = true;
  if (!in_frame_) {
    if (!boundary_) {
      // The middle of a frame after a loss: skip to its end.
      if (marker) boundary_ = true;
      return broke ? Result::kNeedKeyframe : Result::kNone;
    }
    boundary_ = false;
    in_frame_ = true;
    fu_open_ = false;
    has_idr_ = has_sps_ = has_pps_ = false;
    building_.data.clear();
    building_.timestamp = timestamp;
    building_.codec = VideoCodec::kH264;
  }
  if (!add_payload(payload)) {
    broken();
    boundary_ = marker;
    return Result::kNeedKeyframe;
  }
  if (!marker) return broke ? Result::kNeedKeyframe : Result::kNone;
  return finish();
}

std::vector<std::span<const uint8_t>> split_annex_b(std::span<const uint8_t> s) {
  constexpr size_t kNoStart = SIZE_MAX;
  std::vector<std::span<const uint8_t>> nals;
  size_t i = 0, begin = kNoStart;
  auto close = [&](size_t end) {
    if (begin == kNoStart) return;
    while (end > begin && s[end - 1] == 0) --end;  // a NAL unit never ends in 0 (rbsp trailing bits)
    if (end > begin) nals.push_back(s.subspan(begin, end - begin));
  };
  while (i + 3 <= s.size()) {
    if (s[i] == 0 && s[i + 1] == 0 && s[i + 2] == 1) {
      close(i);
      i += 3;
      begin = i;
    } else {
      ++i;
    }
  }
  close(s.size());
  return nals;
}

void packetize_h264(std::span<const uint8_t> frame, size_t max_payload, std::vector<uint8_t>& out,
                    std::vector<size_t>& sizes) {
  max_payload = std::max<size_t>(max_payload, 3);
  for (std::span<const uint8_t> nal : split_annex_b(frame)) {
    if (nal.size() <= max_payload) {
      out.insert(out.end(), nal.begin(), nal.end());
      sizes.push_back(nal.size());
      continue;
    }
    // FU-A: the NAL header's F|NRI with type 28, then S|E|R|type, then a piece of the body.
    const uint8_t indicator = static_cast<uint8_t>((nal[0] & 0xE0) | kFuA), type = nal[0] & 0x1F;
    auto body = nal.subspan(1);
    const size_t room = max_payload - 2;
    const size_t count = (body.size() + room - 1) / room;
    const size_t base = body.size() / count, extra = body.size() % count;  // equal sizes: better pacing
    size_t offset = 0;
    for (size_t k = 0; k < count; ++k) {
      const size_t n = base + (k < extra ? 1 : 0);
      out.push_back(indicator);
      out.push_back(static_cast<uint8_t>((k == 0 ? 0x80 : 0) | (k + 1 == count ? 0x40 : 0) | type));
      out.insert(out.end(), body.begin() + static_cast<ptrdiff_t>(offset), body.begin() + static_cast<ptrdiff_t>(offset + n));
      sizes.push_back(2 + n);
      offset += n;
    }
  }
}

}  // namespace junction::mixers
