#pragma once
// RTCP compound packets (RFC 3550 §6) and readers for each kind a WebRTC server meets: SR, RR,
// SDES, BYE (RFC 3550), generic NACK and PLI (RFC 4585), FIR (RFC 5104), REMB
// (draft-alvestrand-rmcat-remb) and transport-wide CC feedback
// (draft-holmer-rmcat-transport-wide-cc-extensions-01).
//
// RtcpCompound::parse validates every packet header once; the readers then validate their own
// body and return views into the original bytes. Nothing allocates or throws.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/media/rtp_packet.h"

namespace junction::media {

// Packet types (RFC 3550 §12.1, RFC 4585 §6.1) and feedback message types (FMT).
inline constexpr uint8_t kRtcpSr = 200;
inline constexpr uint8_t kRtcpRr = 201;
inline constexpr uint8_t kRtcpSdes = 202;
inline constexpr uint8_t kRtcpBye = 203;
inline constexpr uint8_t kRtcpApp = 204;
inline constexpr uint8_t kRtcpRtpfb = 205;
inline constexpr uint8_t kRtcpPsfb = 206;
inline constexpr uint8_t kRtcpXr = 207;
inline constexpr uint8_t kRtpfbNack = 1;
inline constexpr uint8_t kRtpfbTransportCc = 15;
inline constexpr uint8_t kPsfbPli = 1;
inline constexpr uint8_t kPsfbFir = 4;
inline constexpr uint8_t kPsfbAfb = 15;  // application layer feedback; REMB is one
inline constexpr uint8_t kSdesCname = 1;

inline constexpr size_t kRtcpHeaderSize = 4;
inline constexpr size_t kMaxReportBlocks = 31;  // the 5-bit RC field
inline constexpr size_t kMaxSdesChunks = 31;    // the 5-bit SC field

// One packet of a compound, as validated by RtcpCompound::parse.
struct RtcpHeader {
  uint8_t count_or_format;  // RC / SC / FMT: the low 5 bits of the first byte
  uint8_t packet_type;
  size_t length_bytes;             // the whole packet on the wire: (length field + 1) * 4
  std::span<const uint8_t> bytes;  // header and body, without the padding

  std::span<const uint8_t> body() const { return bytes.subspan(kRtcpHeaderSize); }
};

class RtcpCompound {
 public:
  // Every packet: version 2, length field within the remaining bytes, and when P is set a padding
  // count of at least 1 that stays inside the packet's body. At least one packet.
  static std::optional<RtcpCompound> parse(std::span<const uint8_t> bytes);

  class Iterator {
   public:
    RtcpHeader operator*() const;
    Iterator& operator++();
    bool operator==(const Iterator& other) const { return offset_ == other.offset_; }

   private:
    friend class RtcpCompound;
    Iterator(std::span<const uint8_t> bytes, size_t offset) : bytes_(bytes), offset_(offset) {}
    std::span<const uint8_t> bytes_;
    size_t offset_;
  };
  Iterator begin() const { return Iterator(bytes_, 0); }
  Iterator end() const { return Iterator(bytes_, bytes_.size()); }
  template <typename F>
  void for_each(F&& f) const {
    for (const RtcpHeader& h : *this) f(h);
  }
  size_t packet_count() const { return packet_count_; }
  std::span<const uint8_t> bytes() const { return bytes_; }

 private:
  RtcpCompound(std::span<const uint8_t> bytes, size_t count)
      : bytes_(bytes), packet_count_(count) {}
  std::span<const uint8_t> bytes_;
  size_t packet_count_;
};

// --- Reports (RFC 3550 §6.4) -------------------------------------------------------------------

struct ReportBlock {
  uint32_t ssrc = 0;
  uint8_t fraction_lost = 0;    // 8-bit fixed point, lost / expected * 256
  int32_t cumulative_lost = 0;  // 24-bit signed on the wire; negative with duplicates
  uint32_t highest_seq = 0;     // extended: cycles << 16 | highest sequence number
  uint32_t jitter = 0;          // RTP timestamp units
  uint32_t lsr = 0;             // middle 32 bits of the last SR's NTP time, 0 if none
  uint32_t dlsr = 0;            // delay since that SR, in 1/65536 s
};

// Report blocks live in a fixed-capacity array so that a report never allocates; add() refuses
// the 32nd block. (Plain aggregates, so tests can use designated initializers.)
struct SenderReport {
  uint32_t ssrc = 0;
  uint64_t ntp = 0;
  uint32_t rtp_timestamp = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;
  std::array<ReportBlock, kMaxReportBlocks> blocks{};
  uint8_t block_count = 0;

  bool add(const ReportBlock& b) {
    if (block_count >= kMaxReportBlocks) return false;
    blocks[block_count++] = b;
    return true;
  }
  std::span<const ReportBlock> report_blocks() const { return {blocks.data(), block_count}; }
};

struct ReceiverReport {
  uint32_t ssrc = 0;
  std::array<ReportBlock, kMaxReportBlocks> blocks{};
  uint8_t block_count = 0;

  bool add(const ReportBlock& b) {
    if (block_count >= kMaxReportBlocks) return false;
    blocks[block_count++] = b;
    return true;
  }
  std::span<const ReportBlock> report_blocks() const { return {blocks.data(), block_count}; }
};

std::optional<SenderReport> parse_sr(const RtcpHeader& h);
std::optional<ReceiverReport> parse_rr(const RtcpHeader& h);

// --- SDES and BYE (RFC 3550 §6.5, §6.6) --------------------------------------------------------

struct SdesChunk {
  uint32_t ssrc = 0;
  std::string_view cname;  // empty when the chunk carries no CNAME item; points into the packet
};
struct Sdes {
  std::array<SdesChunk, kMaxSdesChunks> chunks{};
  uint8_t chunk_count = 0;
  std::span<const SdesChunk> items() const { return {chunks.data(), chunk_count}; }
};
std::optional<Sdes> parse_sdes(const RtcpHeader& h);

struct Bye {
  std::array<uint32_t, kMaxSdesChunks> ssrcs{};
  uint8_t ssrc_count = 0;
  std::string_view reason;  // optional; points into the packet
  std::span<const uint32_t> sources() const { return {ssrcs.data(), ssrc_count}; }
};
std::optional<Bye> parse_bye(const RtcpHeader& h);

// --- Feedback (RFC 4585 §6.1: sender SSRC, media SSRC, then the FCI) ---------------------------

// Generic NACK (RTPFB FMT 1, RFC 4585 §6.2.1): FCI items of PID + BLP (bit i: PID + i + 1 lost).
struct Nack {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
  std::span<const uint8_t> fci;  // a whole number of 4-byte items, at least one

  size_t item_count() const { return fci.size() / 4; }
  // Calls f(uint16_t seq) for every sequence number reported lost, in packet order.
  template <typename F>
  void for_each_lost(F&& f) const {
    for (size_t i = 0; i + 4 <= fci.size(); i += 4) {
      uint16_t pid = load_be16(&fci[i]);
      uint16_t blp = load_be16(&fci[i + 2]);
      f(pid);
      for (int bit = 0; bit < 16; ++bit)
        if (blp & (1u << bit)) f(static_cast<uint16_t>(pid + bit + 1));
    }
  }
  // Writes up to out.size() lost sequence numbers; returns how many it wrote.
  size_t lost(std::span<uint16_t> out) const;
};
std::optional<Nack> parse_nack(const RtcpHeader& h);

// Picture Loss Indication (PSFB FMT 1, RFC 4585 §6.3.1): no FCI.
struct Pli {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
};
std::optional<Pli> parse_pli(const RtcpHeader& h);

// Full Intra Request (PSFB FMT 4, RFC 5104 §4.3.1): FCI entries of SSRC + command sequence number.
struct FirEntry {
  uint32_t ssrc = 0;
  uint8_t seq_nr = 0;
};
struct Fir {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;  // SHALL be 0 (§4.3.1.2); the targets are in the entries
  std::span<const uint8_t> fci;

  size_t entry_count() const { return fci.size() / 8; }
  FirEntry entry(size_t i) const { return {load_be32(&fci[8 * i]), fci[8 * i + 4]}; }
};
std::optional<Fir> parse_fir(const RtcpHeader& h);

// Receiver Estimated Max Bitrate (PSFB FMT 15, "REMB"): mantissa * 2^exp bits per second.
struct Remb {
  uint32_t sender_ssrc = 0;
  uint64_t bitrate_bps = 0;  // saturates at UINT64_MAX for absurd exponents
  std::span<const uint8_t> ssrc_bytes;

  size_t ssrc_count() const { return ssrc_bytes.size() / 4; }
  uint32_t ssrc(size_t i) const { return load_be32(&ssrc_bytes[4 * i]); }
};
std::optional<Remb> parse_remb(const RtcpHeader& h);

// Transport-wide congestion control feedback (RTPFB FMT 15, draft-holmer-...-01 §3.1).
struct TransportCcFeedback {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
  uint16_t base_seq = 0;
  uint16_t status_count = 0;
  int32_t reference_time = 0;  // signed 24 bits, in 64 ms units
  uint8_t fb_pkt_count = 0;
  std::span<const uint8_t> chunks;  // exactly the packet chunks that cover status_count
  std::span<const uint8_t> deltas;  // recv deltas (and any zero padding after them)

  int64_t reference_time_us() const { return int64_t{reference_time} * 64'000; }

  // Calls f(uint16_t seq, bool received, int32_t delta) for each of the status_count packets in
  // order; delta is in 250 us units, relative to the previous received packet (the first one to
  // the reference time), and 0 when not received. parse_twcc has checked that every chunk and
  // delta is present, so this always visits status_count packets; it returns false otherwise.
  template <typename F>
  bool for_each_packet(F&& f) const;
};
std::optional<TransportCcFeedback> parse_twcc(const RtcpHeader& h);

// --- Implementation of the TWCC visitor --------------------------------------------------------

template <typename F>
bool TransportCcFeedback::for_each_packet(F&& f) const {
  size_t ci = 0;
  size_t di = 0;
  uint32_t remaining = status_count;
  uint16_t seq = base_seq;
  // Symbols (§3.1.1): 0 not received, 1 received with a 1-byte delta, 2 received with a signed
  // 2-byte delta, 3 reserved (treated as malformed).
  auto emit = [&](unsigned symbol) {
    int32_t delta = 0;
    if (symbol == 1) {
      if (di + 1 > deltas.size()) return false;
      delta = deltas[di];
      di += 1;
    } else if (symbol == 2) {
      if (di + 2 > deltas.size()) return false;
      delta = static_cast<int16_t>(load_be16(&deltas[di]));
      di += 2;
    } else if (symbol != 0) {
      return false;
    }
    f(seq, symbol != 0, delta);
    seq = static_cast<uint16_t>(seq + 1);
    --remaining;
    return true;
  };
  while (remaining > 0) {
    if (ci + 2 > chunks.size()) return false;
    uint16_t chunk = load_be16(&chunks[ci]);
    ci += 2;
    if ((chunk & 0x8000) == 0) {  // run length: |0|S S|run length (13)|
      unsigned symbol = (chunk >> 13) & 0x03;
      uint32_t run = chunk & 0x1FFF;
      for (uint32_t k = 0; k < run && remaining > 0; ++k)
        if (!emit(symbol)) return false;
    } else if ((chunk & 0x4000) == 0) {  // status vector, 14 one-bit symbols
      for (int bit = 13; bit >= 0 && remaining > 0; --bit)
        if (!emit((chunk >> bit) & 0x01)) return false;
    } else {  // status vector, 7 two-bit symbols
      for (int shift = 12; shift >= 0 && remaining > 0; shift -= 2)
        if (!emit((chunk >> shift) & 0x03)) return false;
    }
  }
  return true;
}

}  // namespace junction::media
