// libFuzzer target for the RTP packet view and its readers (core/media/rtp_packet.h,
// core/media/rtp_extensions.h): every media datagram from a peer goes through them.
//
// Checks, on every input:
// - RtpPacket::parse never crashes; when it accepts, every accessor reads inside the input
//   (ASan would see the rest), header + payload + padding add up to the size, and every header
//   extension element (ids 0..15 and 255) lies inside the extension block.
// - The extension readers (audio level, transport seq, abs-send-time, the mid/rid strings) on
//   every element, and the VP8 / VP9 / H.264 descriptor and keyframe readers on the payload, stay
//   in bounds; a descriptor never claims more bytes than the payload has.
// - The in-place rewrites an SFU makes (sequence, timestamp, SSRC, PT, marker, VP8 picture id and
//   TL0PICIDX) leave a packet that still parses, with the same layout.
// The codec readers also run on the raw input, so that they are fuzzed even when the bytes are
// not a valid RTP packet.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "core/media/rtp_extensions.h"
#include "core/media/rtp_packet.h"

namespace {

using namespace junction::media;

#define FUZZ_CHECK(cond)                                                          \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "rtp_fuzzer: check failed: %s (line %d)\n", #cond, __LINE__); \
      std::abort();                                                               \
    }                                                                             \
  } while (0)

bool inside(std::span<const uint8_t> part, std::span<const uint8_t> whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

volatile size_t g_sink;  // keeps the reads from being optimised away

void read_extension(std::span<const uint8_t> ext) {
  size_t n = 0;
  if (auto level = read_audio_level(ext)) n += level->voice + level->level_dbov;
  if (auto seq = read_transport_seq(ext)) n += *seq;
  if (auto ast = read_abs_send_time(ext)) n += *ast;
  n += read_sdes_string(ext).size();
  g_sink = n;
}

void read_payload(std::span<const uint8_t> payload) {
  size_t n = 0;
  if (auto vp8 = parse_vp8_descriptor(payload)) {
    FUZZ_CHECK(vp8->size <= payload.size());
    n += vp8->picture_id.value_or(0) + vp8->tl0_pic_idx.value_or(0) +
         vp8->temporal_id.value_or(0) + vp8->key_idx.value_or(0) + vp8->partition_id;
    FUZZ_CHECK(vp8->picture_id_offset < vp8->size || vp8->picture_id_offset == 0);
    FUZZ_CHECK(vp8->tl0_pic_idx_offset < vp8->size || vp8->tl0_pic_idx_offset == 0);
    // The rewrites work on a copy (the input is read-only) and must keep the descriptor's shape.
    std::vector<uint8_t> copy(payload.begin(), payload.end());
    vp8_set_picture_id(copy, *vp8, 0x7ABC);
    vp8_set_tl0_pic_idx(copy, *vp8, 0x5A);
    auto after = parse_vp8_descriptor(copy);
    FUZZ_CHECK(after && after->size == vp8->size);
    FUZZ_CHECK(after->picture_id.has_value() == vp8->picture_id.has_value());
    if (vp8->tl0_pic_idx) FUZZ_CHECK(after->tl0_pic_idx == uint8_t{0x5A});
  }
  n += vp8_is_keyframe(payload);
  if (auto vp9 = parse_vp9_descriptor(payload)) {
    FUZZ_CHECK(vp9->size <= payload.size());
    n += vp9->picture_id.value_or(0) + vp9->tl0_pic_idx.value_or(0) + vp9->spatial_id +
         vp9->temporal_id;
  }
  n += vp9_is_keyframe(payload);
  n += h264_is_keyframe(payload);
  g_sink = n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  g_sink = looks_like_rtcp(bytes);
  read_payload(bytes);
  read_extension(bytes);

  auto packet = RtpPacket::parse(bytes);
  if (!packet) return 0;

  size_t n = packet->marker() + packet->payload_type() + packet->sequence() +
             packet->timestamp() + packet->ssrc();
  for (size_t i = 0; i <= packet->csrc_count(); ++i) n += packet->csrc(i);  // one past: reads 0
  FUZZ_CHECK(packet->csrc(packet->csrc_count()) == 0);
  FUZZ_CHECK(packet->bytes().data() == data && packet->bytes().size() == size);
  FUZZ_CHECK(packet->header_size() >= kRtpFixedHeaderSize + 4u * packet->csrc_count());
  FUZZ_CHECK(packet->header_size() + packet->payload().size() + packet->padding_size() == size);
  FUZZ_CHECK(inside(packet->payload(), bytes));

  n += packet->has_extension() + packet->extension_profile();
  const auto block = packet->extension_block();
  FUZZ_CHECK(inside(block, bytes));
  if (!packet->has_extension()) FUZZ_CHECK(block.empty() && packet->extension_profile() == 0);
  for (unsigned id = 0; id <= 15; ++id) {
    auto ext = packet->extension(static_cast<uint8_t>(id));
    FUZZ_CHECK(inside(ext, block));
    if (id == 0) FUZZ_CHECK(ext.empty());
    read_extension(ext);
  }
  auto ext255 = packet->extension(255);
  FUZZ_CHECK(inside(ext255, block));
  read_extension(ext255);
  read_payload(packet->payload());
  g_sink = n;

  // The forwarding rewrites touch only their field: the rewritten copy parses with the same layout.
  std::vector<uint8_t> copy(bytes.begin(), bytes.end());
  rtp_set_sequence(copy, 0xFFFF);
  rtp_set_timestamp(copy, 0x01020304);
  rtp_set_ssrc(copy, 0xCAFEBABE);
  rtp_set_payload_type(copy, 0xFF);  // the marker bit must survive a PT with its top bit set
  rtp_set_marker(copy, !packet->marker());
  auto rewritten = RtpPacket::parse(copy);
  FUZZ_CHECK(rewritten);
  FUZZ_CHECK(rewritten->header_size() == packet->header_size());
  FUZZ_CHECK(rewritten->padding_size() == packet->padding_size());
  FUZZ_CHECK(rewritten->sequence() == 0xFFFF && rewritten->timestamp() == 0x01020304);
  FUZZ_CHECK(rewritten->ssrc() == 0xCAFEBABE && rewritten->payload_type() == 0x7F);
  FUZZ_CHECK(rewritten->marker() != packet->marker());

  // rtp_write of the same fields and payload gives a plain packet that reads back the same.
  std::vector<uint8_t> out(kRtpFixedHeaderSize + packet->payload().size());
  const size_t written = rtp_write(out, packet->payload_type(), packet->sequence(),
                                   packet->timestamp(), packet->ssrc(), packet->marker(),
                                   packet->payload());
  FUZZ_CHECK(written == out.size());
  FUZZ_CHECK(rtp_write(std::span(out).first(out.size() - 1), 0, 0, 0, 0, false,
                       packet->payload()) == 0);
  auto plain = RtpPacket::parse(out);
  FUZZ_CHECK(plain && plain->payload_type() == packet->payload_type());
  FUZZ_CHECK(plain->sequence() == packet->sequence() && plain->ssrc() == packet->ssrc());
  FUZZ_CHECK(plain->payload().size() == packet->payload().size());
  return 0;
}
