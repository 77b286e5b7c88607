#include "core/media/receive_stats.h"

#include "core/media/ntp_time.h"

namespace junction::media {
namespace {

constexpr uint32_t kSeqMod = 1u << 16;
constexpr uint16_t kMaxDropout = 3000;  // §A.1 MAX_DROPOUT
constexpr uint16_t kMaxMisorder = 100;  // §A.1 MAX_MISORDER

}  // namespace

ReceiveStats::ReceiveStats(uint32_t clock_rate)
    : clock_rate_(clock_rate == 0 ? 90000 : clock_rate), bad_seq_(kSeqMod + 1) {}

void ReceiveStats::init_seq(uint16_t seq) {
  base_seq_ = seq;
  max_seq_ = seq;
  bad_seq_ = kSeqMod + 1;
  cycles_ = 0;
  received_ = 0;
  received_prior_ = 0;
  expected_prior_ = 0;
  last_transit_.reset();
  jitter_q4_ = 0;
}

uint32_t ReceiveStats::arrival_in_rtp_units(std::chrono::steady_clock::time_point arrival) const {
  // Seconds and the remainder apart, so that long-running streams cannot overflow.
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(arrival - first_arrival_).count();
  int64_t seconds = ns / 1'000'000'000;
  int64_t rest = ns % 1'000'000'000;
  int64_t units = seconds * clock_rate_ + rest * clock_rate_ / 1'000'000'000;
  return static_cast<uint32_t>(units);  // the jitter math is modulo 2^32, like RTP timestamps
}

void ReceiveStats::on_packet(uint16_t seq, uint32_t rtp_timestamp,
                             std::chrono::steady_clock::time_point arrival) {
  bool advanced = false;
  if (!started_) {
    started_ = true;
    first_arrival_ = arrival;
    init_seq(seq);
    advanced = true;
  } else {
    auto udelta = static_cast<uint16_t>(seq - max_seq_);
    if (udelta == 0) {
      // Duplicate of the highest: counted below, as §A.1 does.
    } else if (udelta < kMaxDropout) {
      if (seq < max_seq_) cycles_ += kSeqMod;  // in order, with a permissible gap, wrapped
      max_seq_ = seq;
      advanced = true;
    } else if (udelta <= kSeqMod - kMaxMisorder) {
      // A very large jump: believe it only when the next packet follows it.
      if (seq == bad_seq_) {
        init_seq(seq);
        advanced = true;
      } else {
        bad_seq_ = (uint32_t{seq} + 1) & (kSeqMod - 1);
        return;
      }
    }
    // Otherwise a duplicate or a reordered packet: counted, not advancing.
  }
  ++received_;

  // §A.8, for packets in order only: a duplicate would be weighed twice, and a reordered packet
  // says more about the reordering than about the network's jitter.
  if (!advanced) return;
  uint32_t transit = arrival_in_rtp_units(arrival) - rtp_timestamp;
  if (last_transit_) {
    int64_t d = static_cast<int32_t>(transit - *last_transit_);
    if (d < 0) d = -d;
    jitter_q4_ += d - ((jitter_q4_ + 8) >> 4);
  }
  last_transit_ = transit;
}

void ReceiveStats::on_sender_report(uint64_t ntp, std::chrono::steady_clock::time_point arrival) {
  last_sr_mid32_ = ntp_mid32(ntp);
  last_sr_arrival_ = arrival;
}

int64_t ReceiveStats::packets_lost() const {
  if (!started_) return 0;
  int64_t expected = static_cast<int64_t>(cycles_ + max_seq_) - base_seq_ + 1;
  return expected - static_cast<int64_t>(received_);
}

ReportBlock ReceiveStats::make_report_block(uint32_t ssrc,
                                            std::chrono::steady_clock::time_point now) {
  ReportBlock b;
  b.ssrc = ssrc;
  if (last_sr_arrival_) {
    b.lsr = last_sr_mid32_;
    b.dlsr = to_ntp_short(now - *last_sr_arrival_);
  }
  if (!started_) return b;

  // §A.3.
  uint64_t expected = cycles_ + max_seq_ - base_seq_ + 1;
  int64_t lost = static_cast<int64_t>(expected) - static_cast<int64_t>(received_);
  if (lost > 0x7FFFFF) lost = 0x7FFFFF;
  if (lost < -0x800000) lost = -0x800000;
  uint64_t expected_interval = expected - expected_prior_;
  expected_prior_ = expected;
  uint64_t received_interval = received_ - received_prior_;
  received_prior_ = received_;
  int64_t lost_interval =
      static_cast<int64_t>(expected_interval) - static_cast<int64_t>(received_interval);
  uint8_t fraction = 0;
  if (expected_interval != 0 && lost_interval > 0) {
    // All lost would be 256/256: the 8-bit field tops out at 255.
    int64_t f = (lost_interval << 8) / static_cast<int64_t>(expected_interval);
    fraction = static_cast<uint8_t>(f > 255 ? 255 : f);
  }

  b.fraction_lost = fraction;
  b.cumulative_lost = static_cast<int32_t>(lost);
  b.highest_seq = extended_highest_seq();
  b.jitter = jitter();
  return b;
}

}  // namespace junction::media
