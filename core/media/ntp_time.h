#pragma once
// 64-bit NTP timestamps (RFC 3550 §4: seconds since 1 Jan 1900 in the high 32 bits, fraction in
// the low 32), their "middle 32 bits" form used by LSR/DLSR (§6.4.1), and round-trip time from a
// report block.
#include <chrono>
#include <cstdint>
#include <optional>

namespace junction::media {

// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (the Unix epoch).
inline constexpr uint64_t kNtpUnixEpochOffset = 2'208'988'800ULL;

// A duration since the Unix epoch -> NTP. Times past 2036 wrap into era 1 as NTP itself does.
constexpr uint64_t ntp_from_unix(std::chrono::nanoseconds since_epoch) {
  auto ns = static_cast<uint64_t>(since_epoch.count());
  uint64_t seconds = ns / 1'000'000'000ULL + kNtpUnixEpochOffset;
  uint64_t fraction = ((ns % 1'000'000'000ULL) << 32) / 1'000'000'000ULL;
  return seconds << 32 | fraction;
}

// NTP -> duration since the Unix epoch (era 0; precise to the nanosecond, rounding down).
constexpr std::chrono::nanoseconds unix_from_ntp(uint64_t ntp) {
  auto seconds = static_cast<int64_t>(ntp >> 32) - static_cast<int64_t>(kNtpUnixEpochOffset);
  auto fraction_ns = static_cast<int64_t>(((ntp & 0xFFFFFFFFULL) * 1'000'000'000ULL) >> 32);
  return std::chrono::nanoseconds(seconds * 1'000'000'000LL + fraction_ns);
}

inline uint64_t ntp_now() {
  return ntp_from_unix(std::chrono::system_clock::now().time_since_epoch());
}

// The middle 32 bits (16.16 seconds), as carried in LSR and used for RTT.
constexpr uint32_t ntp_mid32(uint64_t ntp) {
  return static_cast<uint32_t>(ntp >> 16);
}

// A duration -> 1/65536 s units (DLSR), saturating at the 32-bit maximum (~18 h).
constexpr uint32_t to_ntp_short(std::chrono::nanoseconds d) {
  if (d.count() <= 0) return 0;
  auto ns = static_cast<uint64_t>(d.count());
  uint64_t seconds = ns / 1'000'000'000ULL;
  if (seconds >= 0x10000ULL) return 0xFFFFFFFFU;
  return static_cast<uint32_t>(seconds << 16 | ((ns % 1'000'000'000ULL) << 16) / 1'000'000'000ULL);
}
constexpr std::chrono::microseconds from_ntp_short(uint32_t units) {
  return std::chrono::microseconds((uint64_t{units} * 1'000'000ULL) >> 16);
}

// Maps a steady clock onto NTP through one wall-clock reading taken at construction, so that SR
// timestamps are monotonic and a test can drive everything from a fake steady_clock time_point.
// The SR sender must compute RTT with the same clock it put into its SRs.
class NtpClock {
 public:
  NtpClock() : NtpClock(std::chrono::steady_clock::now(), std::chrono::system_clock::now()) {}
  NtpClock(std::chrono::steady_clock::time_point steady, std::chrono::system_clock::time_point wall)
      : steady_origin_(steady), ntp_origin_(wall.time_since_epoch()) {}

  uint64_t ntp(std::chrono::steady_clock::time_point t) const {
    return ntp_from_unix(ntp_origin_ + (t - steady_origin_));
  }

 private:
  std::chrono::steady_clock::time_point steady_origin_;
  std::chrono::nanoseconds ntp_origin_;  // wall time at steady_origin_, since the Unix epoch
};

// RFC 3550 §6.4.1: RTT = A - LSR - DLSR, where A is the arrival time of the report block (middle
// 32 bits of NTP), all in 1/65536 s. nullopt when LSR is 0 (no SR received by the reporter yet).
// A negative result (clock steps, bogus DLSR) clamps to zero rather than wrapping to 18 hours.
constexpr std::optional<std::chrono::microseconds> rtt_from_report(uint32_t now_mid32, uint32_t lsr,
                                                                   uint32_t dlsr) {
  if (lsr == 0) return std::nullopt;
  auto rtt = static_cast<int32_t>(now_mid32 - lsr - dlsr);
  if (rtt < 0) return std::chrono::microseconds(0);
  return from_ntp_short(static_cast<uint32_t>(rtt));
}

}  // namespace junction::media
