#pragma once
// RTCP serializers. Each writes one RTCP packet at the start of `out` and returns the bytes it
// wrote, or 0 when `out` is too small (or the input cannot be encoded); nothing is written past
// out.size(), nothing allocates. A compound packet is built by calling them one after another on
// the remaining tail of a buffer (RFC 3550 §6.1: SR or RR first, then SDES with a CNAME, for
// non-reduced-size RTCP).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/media/rtcp_packet.h"

namespace junction::media {

size_t build_sr(std::span<uint8_t> out, const SenderReport& sr);
size_t build_rr(std::span<uint8_t> out, const ReceiverReport& rr);
// One chunk with a single CNAME item; 0 if the cname is longer than 255 bytes.
size_t build_sdes_cname(std::span<uint8_t> out, uint32_t ssrc, std::string_view cname);
size_t build_bye(std::span<uint8_t> out, uint32_t ssrc);
// Packs `lost` into PID + BLP items (RFC 4585 §6.2.1). The list should be in sequence order (as
// NackGenerator::due gives it, wraps allowed); a seq within 16 after the current PID joins its
// BLP, anything else starts a new item. 0 for an empty list.
size_t build_nack(std::span<uint8_t> out, uint32_t sender_ssrc, uint32_t media_ssrc,
                  std::span<const uint16_t> lost);
size_t build_pli(std::span<uint8_t> out, uint32_t sender_ssrc, uint32_t media_ssrc);
// RFC 5104 §4.3.1: the target goes into the FCI entry; the header's media SSRC is 0. The caller
// keeps seq_nr per target and increments it for each new request (not for repetitions).
size_t build_fir(std::span<uint8_t> out, uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t seq_nr);
// Bitrate as an 18-bit mantissa and 6-bit exponent (rounded down); at most 255 SSRCs.
size_t build_remb(std::span<uint8_t> out, uint32_t sender_ssrc, uint64_t bitrate_bps,
                  std::span<const uint32_t> ssrcs);

}  // namespace junction::media
