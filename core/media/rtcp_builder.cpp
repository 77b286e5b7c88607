#include "core/media/rtcp_builder.h"

#include <cstring>

#include "core/media/seq_num.h"

namespace junction::media {
namespace {

constexpr size_t kReportBlockSize = 24;

// |V=2|P=0|count|PT|length in 32-bit words minus one|. `size` is a multiple of 4.
void write_header(uint8_t* p, uint8_t count, uint8_t type, size_t size) {
  p[0] = static_cast<uint8_t>(0x80 | (count & 0x1F));
  p[1] = type;
  store_be16(p + 2, static_cast<uint16_t>(size / 4 - 1));
}

void write_report_block(uint8_t* p, const ReportBlock& b) {
  store_be32(p, b.ssrc);
  p[4] = b.fraction_lost;
  // Clamp into the signed 24-bit field (§6.4.1) rather than letting it wrap.
  int32_t lost = b.cumulative_lost;
  if (lost > 0x7FFFFF) lost = 0x7FFFFF;
  if (lost < -0x800000) lost = -0x800000;
  store_be24(p + 5, static_cast<uint32_t>(lost) & 0xFFFFFF);
  store_be32(p + 8, b.highest_seq);
  store_be32(p + 12, b.jitter);
  store_be32(p + 16, b.lsr);
  store_be32(p + 20, b.dlsr);
}

size_t write_blocks(uint8_t* p, std::span<const ReportBlock> blocks) {
  for (const ReportBlock& b : blocks) {
    write_report_block(p, b);
    p += kReportBlockSize;
  }
  return blocks.size() * kReportBlockSize;
}

// A PID and the BLP bits that follow it.
struct NackItem {
  uint16_t pid;
  uint16_t blp;
};

// Walks `lost` grouping it into items; calls emit(item) for each finished one.
template <typename Emit>
void pack_nack(std::span<const uint16_t> lost, Emit&& emit) {
  if (lost.empty()) return;
  NackItem item{lost[0], 0};
  for (size_t i = 1; i < lost.size(); ++i) {
    int d = seq_delta(lost[i], item.pid);
    if (d == 0) continue;  // repeated entry
    if (d >= 1 && d <= 16) {
      item.blp = static_cast<uint16_t>(item.blp | (1u << (d - 1)));
    } else {
      emit(item);
      item = NackItem{lost[i], 0};
    }
  }
  emit(item);
}

}  // namespace

size_t build_sr(std::span<uint8_t> out, const SenderReport& sr) {
  auto blocks = sr.report_blocks();
  size_t size = 28 + blocks.size() * kReportBlockSize;
  if (out.size() < size) return 0;
  uint8_t* p = out.data();
  write_header(p, static_cast<uint8_t>(blocks.size()), kRtcpSr, size);
  store_be32(p + 4, sr.ssrc);
  store_be64(p + 8, sr.ntp);
  store_be32(p + 16, sr.rtp_timestamp);
  store_be32(p + 20, sr.packet_count);
  store_be32(p + 24, sr.octet_count);
  write_blocks(p + 28, blocks);
  return size;
}

size_t build_rr(std::span<uint8_t> out, const ReceiverReport& rr) {
  auto blocks = rr.report_blocks();
  size_t size = 8 + blocks.size() * kReportBlockSize;
  if (out.size() < size) return 0;
  uint8_t* p = out.data();
  write_header(p, static_cast<uint8_t>(blocks.size()), kRtcpRr, size);
  store_be32(p + 4, rr.ssrc);
  write_blocks(p + 8, blocks);
  return size;
}

size_t build_sdes_cname(std::span<uint8_t> out, uint32_t ssrc, std::string_view cname) {
  if (cname.size() > 255) return 0;
  // Header, SSRC, |CNAME|len|text|, then at least one null octet up to a 32-bit boundary.
  size_t used = 4 + 4 + 2 + cname.size();
  size_t size = (used + 1 + 3) & ~size_t{3};
  if (out.size() < size) return 0;
  uint8_t* p = out.data();
  write_header(p, 1, kRtcpSdes, size);
  store_be32(p + 4, ssrc);
  p[8] = kSdesCname;
  p[9] = static_cast<uint8_t>(cname.size());
  if (!cname.empty()) std::memcpy(p + 10, cname.data(), cname.size());
  std::memset(p + used, 0, size - used);
  return size;
}

size_t build_bye(std::span<uint8_t> out, uint32_t ssrc) {
  constexpr size_t kSize = 8;
  if (out.size() < kSize) return 0;
  write_header(out.data(), 1, kRtcpBye, kSize);
  store_be32(out.data() + 4, ssrc);
  return kSize;
}

size_t build_nack(std::span<uint8_t> out, uint32_t sender_ssrc, uint32_t media_ssrc,
                  std::span<const uint16_t> lost) {
  size_t items = 0;
  pack_nack(lost, [&](NackItem) { ++items; });
  if (items == 0) return 0;
  size_t size = 12 + 4 * items;
  // The length field is 16 bits of words: a list too scattered for one packet is refused.
  if (out.size() < size || size / 4 - 1 > 0xFFFF) return 0;
  uint8_t* p = out.data();
  write_header(p, kRtpfbNack, kRtcpRtpfb, size);
  store_be32(p + 4, sender_ssrc);
  store_be32(p + 8, media_ssrc);
  uint8_t* item_out = p + 12;
  pack_nack(lost, [&](NackItem item) {
    store_be16(item_out, item.pid);
    store_be16(item_out + 2, item.blp);
    item_out += 4;
  });
  return size;
}

size_t build_pli(std::span<uint8_t> out, uint32_t sender_ssrc, uint32_t media_ssrc) {
  constexpr size_t kSize = 12;
  if (out.size() < kSize) return 0;
  uint8_t* p = out.data();
  write_header(p, kPsfbPli, kRtcpPsfb, kSize);
  store_be32(p + 4, sender_ssrc);
  store_be32(p + 8, media_ssrc);
  return kSize;
}

size_t build_fir(std::span<uint8_t> out, uint32_t sender_ssrc, uint32_t media_ssrc,
                 uint8_t seq_nr) {
  constexpr size_t kSize = 20;
  if (out.size() < kSize) return 0;
  uint8_t* p = out.data();
  write_header(p, kPsfbFir, kRtcpPsfb, kSize);
  store_be32(p + 4, sender_ssrc);
  store_be32(p + 8, 0);
  store_be32(p + 12, media_ssrc);
  p[16] = seq_nr;
  p[17] = p[18] = p[19] = 0;  // reserved
  return kSize;
}

size_t build_remb(std::span<uint8_t> out, uint32_t sender_ssrc, uint64_t bitrate_bps,
                  std::span<const uint32_t> ssrcs) {
  if (ssrcs.size() > 255) return 0;
  size_t size = 20 + 4 * ssrcs.size();
  if (out.size() < size) return 0;
  unsigned exp = 0;
  while ((bitrate_bps >> exp) > 0x3FFFF) ++exp;
  auto mantissa = static_cast<uint32_t>(bitrate_bps >> exp);
  uint8_t* p = out.data();
  write_header(p, kPsfbAfb, kRtcpPsfb, size);
  store_be32(p + 4, sender_ssrc);
  store_be32(p + 8, 0);  // media SSRC: unused, SHALL be 0
  p[12] = 'R';
  p[13] = 'E';
  p[14] = 'M';
  p[15] = 'B';
  p[16] = static_cast<uint8_t>(ssrcs.size());
  store_be24(p + 17, exp << 18 | mantissa);
  for (size_t i = 0; i < ssrcs.size(); ++i) store_be32(p + 20 + 4 * i, ssrcs[i]);
  return size;
}

}  // namespace junction::media
