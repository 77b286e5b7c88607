// libFuzzer target for RTCP compound packets and every typed reader (core/media/rtcp_packet.h):
// reports and feedback from any peer go through them.
//
// Checks, on every input:
// - RtcpCompound::parse never crashes; when it accepts, iterating visits exactly packet_count()
//   packets that tile the input (each header's bytes lie inside its wire length, padding
//   excluded) and end exactly at end().
// - Every typed reader (SR, RR, SDES, BYE, NACK, PLI, FIR, REMB, TWCC) runs on every packet,
//   whatever its type, and everything it returns stays inside the packet: report blocks within
//   the RC count, SDES CNAMEs and the BYE reason inside the body, NACK/FIR/REMB item lists whole.
// - NACK for_each_lost and lost() agree; TWCC for_each_packet visits exactly status_count packets
//   with consecutive sequence numbers and returns true (parse_twcc promised it would).
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

#include "core/media/rtcp_packet.h"

namespace {

using namespace junction::media;

#define FUZZ_CHECK(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "rtcp_fuzzer: check failed: %s (line %d)\n", #cond, __LINE__); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

bool inside(const void* data, size_t size, std::span<const uint8_t> whole) {
  if (size == 0) return true;
  auto p = static_cast<const uint8_t*>(data);
  return p >= whole.data() && p + size <= whole.data() + whole.size();
}
bool inside(std::span<const uint8_t> part, std::span<const uint8_t> whole) {
  return inside(part.data(), part.size(), whole);
}
bool inside(std::string_view part, std::span<const uint8_t> whole) {
  return inside(part.data(), part.size(), whole);
}

volatile uint64_t g_sink;  // keeps the reads from being optimised away

void read_all(const RtcpHeader& h) {
  const auto body = h.body();
  uint64_t n = 0;
  if (auto sr = parse_sr(h)) {
    FUZZ_CHECK(sr->block_count == h.count_or_format);
    n += sr->ssrc + sr->ntp + sr->rtp_timestamp + sr->packet_count + sr->octet_count;
    for (const ReportBlock& b : sr->report_blocks())
      n += b.ssrc + b.fraction_lost + static_cast<uint32_t>(b.cumulative_lost) + b.highest_seq +
           b.jitter + b.lsr + b.dlsr;
  }
  if (auto rr = parse_rr(h)) {
    FUZZ_CHECK(rr->block_count == h.count_or_format);
    for (const ReportBlock& b : rr->report_blocks()) n += b.ssrc + b.highest_seq;
  }
  if (auto sdes = parse_sdes(h)) {
    FUZZ_CHECK(sdes->chunk_count == h.count_or_format);
    for (const SdesChunk& c : sdes->items()) {
      FUZZ_CHECK(inside(c.cname, body));
      n += c.ssrc + c.cname.size();
    }
  }
  if (auto bye = parse_bye(h)) {
    FUZZ_CHECK(bye->ssrc_count == h.count_or_format);
    FUZZ_CHECK(inside(bye->reason, body));
    for (uint32_t ssrc : bye->sources()) n += ssrc;
    n += bye->reason.size();
  }
  if (auto nack = parse_nack(h)) {
    FUZZ_CHECK(inside(nack->fci, body));
    FUZZ_CHECK(nack->fci.size() % 4 == 0 && nack->item_count() >= 1);
    size_t visited = 0;
    nack->for_each_lost([&](uint16_t seq) {
      n += seq;
      ++visited;
    });
    FUZZ_CHECK(visited >= nack->item_count() && visited <= 17 * nack->item_count());
    std::array<uint16_t, 8> few{};
    FUZZ_CHECK(nack->lost(few) == (visited < few.size() ? visited : few.size()));
    n += nack->sender_ssrc + nack->media_ssrc;
  }
  if (auto pli = parse_pli(h)) n += pli->sender_ssrc + pli->media_ssrc;
  if (auto fir = parse_fir(h)) {
    FUZZ_CHECK(inside(fir->fci, body));
    FUZZ_CHECK(fir->fci.size() % 8 == 0 && fir->entry_count() >= 1);
    for (size_t i = 0; i < fir->entry_count(); ++i) n += fir->entry(i).ssrc + fir->entry(i).seq_nr;
  }
  if (auto remb = parse_remb(h)) {
    FUZZ_CHECK(inside(remb->ssrc_bytes, body));
    n += remb->sender_ssrc + remb->bitrate_bps;
    for (size_t i = 0; i < remb->ssrc_count(); ++i) n += remb->ssrc(i);
  }
  if (auto twcc = parse_twcc(h)) {
    FUZZ_CHECK(inside(twcc->chunks, body) && inside(twcc->deltas, body));
    n += static_cast<uint64_t>(twcc->reference_time_us()) + twcc->fb_pkt_count;
    uint32_t visited = 0;
    uint16_t expected = twcc->base_seq;
    const bool complete = twcc->for_each_packet([&](uint16_t seq, bool received, int32_t delta) {
      FUZZ_CHECK(seq == expected);
      FUZZ_CHECK(received || delta == 0);
      FUZZ_CHECK(delta >= -32768 && delta <= 32767);
      expected = static_cast<uint16_t>(expected + 1);
      ++visited;
    });
    FUZZ_CHECK(complete);
    FUZZ_CHECK(visited == twcc->status_count);
  }
  g_sink = n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  auto compound = RtcpCompound::parse(bytes);
  if (!compound) return 0;
  FUZZ_CHECK(compound->packet_count() >= 1);
  FUZZ_CHECK(compound->bytes().data() == data && compound->bytes().size() == size);

  size_t count = 0;
  size_t offset = 0;
  for (auto it = compound->begin(); it != compound->end(); ++it) {
    FUZZ_CHECK(count < compound->packet_count());
    const RtcpHeader h = *it;
    FUZZ_CHECK(h.bytes.data() == data + offset);
    FUZZ_CHECK(h.bytes.size() >= kRtcpHeaderSize && h.bytes.size() <= h.length_bytes);
    FUZZ_CHECK(offset + h.length_bytes <= size);
    FUZZ_CHECK(h.count_or_format < 32 && h.packet_type == data[offset + 1]);
    read_all(h);
    offset += h.length_bytes;
    ++count;
  }
  FUZZ_CHECK(count == compound->packet_count() && offset == size);

  size_t visited = 0;
  compound->for_each([&](const RtcpHeader&) { ++visited; });
  FUZZ_CHECK(visited == count);
  return 0;
}
