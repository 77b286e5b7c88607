#pragma once
// RFC 3550 receiver statistics for one received SSRC: sequence tracking (§A.1), loss (§6.4.1,
// §A.3), interarrival jitter (§6.4.1, §A.8) and the LSR/DLSR echo of the sender's last SR, all
// that a report block needs. Time comes from the caller. One instance per received SSRC, on that
// stream's worker thread; no allocation.
#include <chrono>
#include <cstdint>
#include <optional>

#include "core/media/rtcp_packet.h"

namespace junction::media {

class ReceiveStats {
 public:
  explicit ReceiveStats(uint32_t clock_rate);

  // Each RTP packet of the stream (media, not RTX). A jump of more than 3000 ahead or 100 behind
  // is held back until the next packet confirms it, and then restarts the statistics (§A.1:
  // the sender restarted its numbering).
  void on_packet(uint16_t seq, uint32_t rtp_timestamp,
                 std::chrono::steady_clock::time_point arrival);
  // An SR from this SSRC: its NTP time becomes LSR, its arrival the start of DLSR.
  void on_sender_report(uint64_t ntp, std::chrono::steady_clock::time_point arrival);

  // The report block for the next RR/SR. Fraction lost covers the interval since the previous
  // call (§A.3), so call it once per report sent.
  ReportBlock make_report_block(uint32_t ssrc, std::chrono::steady_clock::time_point now);

  // Packets counted as received: duplicates count, as in §A.3, so loss may come out negative.
  uint64_t packets_received() const { return received_; }
  // Expected minus received since the (re)start.
  int64_t packets_lost() const;
  uint32_t extended_highest_seq() const { return static_cast<uint32_t>(cycles_ + max_seq_); }
  uint32_t jitter() const { return static_cast<uint32_t>(jitter_q4_ >> 4); }  // RTP units

 private:
  void init_seq(uint16_t seq);
  uint32_t arrival_in_rtp_units(std::chrono::steady_clock::time_point arrival) const;

  uint32_t clock_rate_;
  bool started_ = false;
  uint16_t base_seq_ = 0;
  uint16_t max_seq_ = 0;
  uint32_t bad_seq_ = 0;  // RTP_SEQ_MOD + 1 when none pending
  uint64_t cycles_ = 0;   // wraps seen, times 65536
  uint64_t received_ = 0;
  uint64_t expected_prior_ = 0;
  uint64_t received_prior_ = 0;

  std::chrono::steady_clock::time_point first_arrival_;  // origin of the RTP-unit arrival clock
  std::optional<uint32_t> last_transit_;
  int64_t jitter_q4_ = 0;  // jitter * 16, the §A.8 integer form

  std::optional<std::chrono::steady_clock::time_point> last_sr_arrival_;
  uint32_t last_sr_mid32_ = 0;
};

}  // namespace junction::media
