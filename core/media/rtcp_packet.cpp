#include "core/media/rtcp_packet.h"

#include <limits>

namespace junction::media {
namespace {

constexpr size_t kReportBlockSize = 24;
constexpr size_t kSenderInfoSize = 20;     // NTP (8), RTP timestamp, packet count, octet count
constexpr size_t kFeedbackHeaderSize = 8;  // sender SSRC, media SSRC

// The header fields of the packet starting at `offset`, which parse() has validated.
RtcpHeader decode(std::span<const uint8_t> bytes, size_t offset) {
  const uint8_t* p = &bytes[offset];
  size_t length = (size_t{load_be16(p + 2)} + 1) * 4;
  size_t padding = (p[0] & 0x20) ? bytes[offset + length - 1] : 0;
  return RtcpHeader{static_cast<uint8_t>(p[0] & 0x1F), p[1], length,
                    bytes.subspan(offset, length - padding)};
}

ReportBlock read_report_block(const uint8_t* p) {
  ReportBlock b;
  b.ssrc = load_be32(p);
  b.fraction_lost = p[4];
  // 24-bit two's complement: shift into the top of an int32 and back to sign-extend.
  b.cumulative_lost = static_cast<int32_t>(load_be24(p + 5) << 8) >> 8;
  b.highest_seq = load_be32(p + 8);
  b.jitter = load_be32(p + 12);
  b.lsr = load_be32(p + 16);
  b.dlsr = load_be32(p + 20);
  return b;
}

template <typename Report>
bool read_report_blocks(const RtcpHeader& h, size_t offset, Report& report) {
  auto body = h.body();
  size_t count = h.count_or_format;
  // Anything after the blocks is a profile-specific extension (§6.4.1); allowed and ignored.
  if (offset + count * kReportBlockSize > body.size()) return false;
  for (size_t i = 0; i < count; ++i)
    report.add(read_report_block(&body[offset + i * kReportBlockSize]));
  return true;
}

bool is_feedback(const RtcpHeader& h, uint8_t type, uint8_t fmt, size_t min_fci) {
  return h.packet_type == type && h.count_or_format == fmt &&
         h.body().size() >= kFeedbackHeaderSize + min_fci;
}

std::string_view text(std::span<const uint8_t> bytes) {
  // A char and an unsigned char may alias each other; this is not a struct overlay.
  return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace

std::optional<RtcpCompound> RtcpCompound::parse(std::span<const uint8_t> bytes) {
  size_t offset = 0;
  size_t count = 0;
  while (offset < bytes.size()) {
    size_t remaining = bytes.size() - offset;
    if (remaining < kRtcpHeaderSize) return std::nullopt;
    const uint8_t* p = &bytes[offset];
    if ((p[0] >> 6) != 2) return std::nullopt;
    size_t length = (size_t{load_be16(p + 2)} + 1) * 4;
    if (length > remaining) return std::nullopt;
    if (p[0] & 0x20) {
      // §6.4.1: the last octet counts the padding, itself included.
      size_t padding = p[length - 1];
      if (padding == 0 || padding > length - kRtcpHeaderSize) return std::nullopt;
    }
    offset += length;
    ++count;
  }
  if (count == 0) return std::nullopt;
  return RtcpCompound(bytes, count);
}

RtcpHeader RtcpCompound::Iterator::operator*() const {
  return decode(bytes_, offset_);
}

RtcpCompound::Iterator& RtcpCompound::Iterator::operator++() {
  offset_ += (size_t{load_be16(&bytes_[offset_ + 2])} + 1) * 4;
  return *this;
}

std::optional<SenderReport> parse_sr(const RtcpHeader& h) {
  auto body = h.body();
  if (h.packet_type != kRtcpSr || body.size() < 4 + kSenderInfoSize) return std::nullopt;
  SenderReport sr;
  sr.ssrc = load_be32(&body[0]);
  sr.ntp = load_be64(&body[4]);
  sr.rtp_timestamp = load_be32(&body[12]);
  sr.packet_count = load_be32(&body[16]);
  sr.octet_count = load_be32(&body[20]);
  if (!read_report_blocks(h, 4 + kSenderInfoSize, sr)) return std::nullopt;
  return sr;
}

std::optional<ReceiverReport> parse_rr(const RtcpHeader& h) {
  auto body = h.body();
  if (h.packet_type != kRtcpRr || body.size() < 4) return std::nullopt;
  ReceiverReport rr;
  rr.ssrc = load_be32(&body[0]);
  if (!read_report_blocks(h, 4, rr)) return std::nullopt;
  return rr;
}

std::optional<Sdes> parse_sdes(const RtcpHeader& h) {
  if (h.packet_type != kRtcpSdes) return std::nullopt;
  auto body = h.body();
  Sdes sdes;
  size_t i = 0;
  for (size_t c = 0; c < h.count_or_format; ++c) {
    // §6.5: SSRC, then items |type|length|text|, ended by a null octet and padded to 32 bits.
    if (i + 4 > body.size()) return std::nullopt;
    SdesChunk chunk;
    chunk.ssrc = load_be32(&body[i]);
    i += 4;
    for (;;) {
      if (i >= body.size()) return std::nullopt;
      uint8_t type = body[i];
      if (type == 0) {
        i = (i + 1 + 3) & ~size_t{3};  // the terminator, then up to the next 32-bit boundary
        if (i > body.size()) return std::nullopt;
        break;
      }
      if (i + 2 > body.size()) return std::nullopt;
      size_t length = body[i + 1];
      if (i + 2 + length > body.size()) return std::nullopt;
      if (type == kSdesCname && chunk.cname.empty())
        chunk.cname = text(body.subspan(i + 2, length));
      i += 2 + length;
    }
    sdes.chunks[sdes.chunk_count++] = chunk;
  }
  return sdes;
}

std::optional<Bye> parse_bye(const RtcpHeader& h) {
  if (h.packet_type != kRtcpBye) return std::nullopt;
  auto body = h.body();
  size_t count = h.count_or_format;
  if (count * 4 > body.size()) return std::nullopt;
  Bye bye;
  for (size_t i = 0; i < count; ++i) bye.ssrcs[i] = load_be32(&body[4 * i]);
  bye.ssrc_count = static_cast<uint8_t>(count);
  size_t i = count * 4;
  if (i < body.size()) {  // optional reason: |length|text|
    size_t length = body[i];
    if (i + 1 + length > body.size()) return std::nullopt;
    bye.reason = text(body.subspan(i + 1, length));
  }
  return bye;
}

size_t Nack::lost(std::span<uint16_t> out) const {
  size_t n = 0;
  for_each_lost([&](uint16_t seq) {
    if (n < out.size()) out[n++] = seq;
  });
  return n;
}

std::optional<Nack> parse_nack(const RtcpHeader& h) {
  if (!is_feedback(h, kRtcpRtpfb, kRtpfbNack, 4)) return std::nullopt;
  auto body = h.body();
  Nack nack;
  nack.sender_ssrc = load_be32(&body[0]);
  nack.media_ssrc = load_be32(&body[4]);
  // Padding of a count that is not a multiple of 4 leaves a ragged tail: read whole items only.
  size_t fci = (body.size() - kFeedbackHeaderSize) / 4 * 4;
  nack.fci = body.subspan(kFeedbackHeaderSize, fci);
  return nack;
}

std::optional<Pli> parse_pli(const RtcpHeader& h) {
  if (!is_feedback(h, kRtcpPsfb, kPsfbPli, 0)) return std::nullopt;
  auto body = h.body();
  return Pli{load_be32(&body[0]), load_be32(&body[4])};
}

std::optional<Fir> parse_fir(const RtcpHeader& h) {
  if (!is_feedback(h, kRtcpPsfb, kPsfbFir, 8)) return std::nullopt;
  auto body = h.body();
  Fir fir;
  fir.sender_ssrc = load_be32(&body[0]);
  fir.media_ssrc = load_be32(&body[4]);
  size_t fci = (body.size() - kFeedbackHeaderSize) / 8 * 8;
  fir.fci = body.subspan(kFeedbackHeaderSize, fci);
  return fir;
}

std::optional<Remb> parse_remb(const RtcpHeader& h) {
  if (!is_feedback(h, kRtcpPsfb, kPsfbAfb, 8)) return std::nullopt;
  auto body = h.body();
  const uint8_t* fci = &body[kFeedbackHeaderSize];
  if (fci[0] != 'R' || fci[1] != 'E' || fci[2] != 'M' || fci[3] != 'B') return std::nullopt;
  // |Num SSRC (8)|BR Exp (6)|BR Mantissa (18)|, then Num SSRC feedback SSRCs.
  size_t num_ssrc = fci[4];
  if (kFeedbackHeaderSize + 8 + 4 * num_ssrc > body.size()) return std::nullopt;
  unsigned exp = fci[5] >> 2;
  uint64_t mantissa = load_be24(&fci[5]) & 0x3FFFF;
  Remb remb;
  remb.sender_ssrc = load_be32(&body[0]);
  if (mantissa != 0 && exp > 0 && (mantissa >> (64 - exp)) != 0)
    remb.bitrate_bps = std::numeric_limits<uint64_t>::max();
  else
    remb.bitrate_bps = mantissa << exp;
  remb.ssrc_bytes = body.subspan(kFeedbackHeaderSize + 8, 4 * num_ssrc);
  return remb;
}

std::optional<TransportCcFeedback> parse_twcc(const RtcpHeader& h) {
  if (!is_feedback(h, kRtcpRtpfb, kRtpfbTransportCc, 8)) return std::nullopt;
  auto body = h.body();
  TransportCcFeedback fb;
  fb.sender_ssrc = load_be32(&body[0]);
  fb.media_ssrc = load_be32(&body[4]);
  fb.base_seq = load_be16(&body[8]);
  fb.status_count = load_be16(&body[10]);
  fb.reference_time = static_cast<int32_t>(load_be24(&body[12]) << 8) >> 8;
  fb.fb_pkt_count = body[15];
  auto rest = body.subspan(16);

  // First pass: how many chunk bytes cover status_count packets. The deltas start right after.
  size_t chunk_bytes = 0;
  uint32_t covered = 0;
  while (covered < fb.status_count) {
    if (chunk_bytes + 2 > rest.size()) return std::nullopt;
    uint16_t chunk = load_be16(&rest[chunk_bytes]);
    chunk_bytes += 2;
    if ((chunk & 0x8000) == 0)
      covered += chunk & 0x1FFF;
    else
      covered += (chunk & 0x4000) ? 7 : 14;
  }
  fb.chunks = rest.first(chunk_bytes);
  fb.deltas = rest.subspan(chunk_bytes);
  // Second pass: every received packet has its delta, and no reserved symbol appears.
  if (!fb.for_each_packet([](uint16_t, bool, int32_t) {})) return std::nullopt;
  return fb;
}

}  // namespace junction::media
