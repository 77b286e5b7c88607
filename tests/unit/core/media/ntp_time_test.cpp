#include "core/media/ntp_time.h"

#include <gtest/gtest.h>

namespace junction::media {
namespace {

using namespace std::chrono_literals;

// Suite named Rtcp* so that the RTP/RTCP filter picks it up with the rest of the media tests.
TEST(RtcpNtpTime, UnixEpochAndRoundTrip) {
  EXPECT_EQ(ntp_from_unix(0ns), kNtpUnixEpochOffset << 32);
  EXPECT_EQ(ntp_from_unix(1500ms), (kNtpUnixEpochOffset + 1) << 32 | 0x80000000ULL);
  // 2024-01-01T00:00:00.25Z
  auto t = std::chrono::nanoseconds(1'704'067'200'250'000'000LL);
  uint64_t ntp = ntp_from_unix(t);
  EXPECT_EQ(ntp >> 32, 1'704'067'200ULL + kNtpUnixEpochOffset);
  EXPECT_EQ(ntp & 0xFFFFFFFF, 0x40000000ULL);
  EXPECT_LE(t - unix_from_ntp(ntp), 1ns);
  EXPECT_GE(t - unix_from_ntp(ntp), 0ns);
}

TEST(RtcpNtpTime, MiddleBitsAndShortUnits) {
  EXPECT_EQ(ntp_mid32(0x12345678'9ABCDEF0ULL), 0x56789ABCu);
  EXPECT_EQ(to_ntp_short(1s), 65536u);
  EXPECT_EQ(to_ntp_short(250ms), 16384u);
  EXPECT_EQ(to_ntp_short(-5ms), 0u);
  EXPECT_EQ(to_ntp_short(std::chrono::hours(24)), 0xFFFFFFFFu);  // saturates
  EXPECT_EQ(from_ntp_short(32768), 500ms);
}

TEST(RtcpNtpTime, RttFromReportBlock) {
  uint32_t lsr = 0x00010000;               // sent at 1 s
  uint32_t dlsr = 0x00008000;              // held 0.5 s by the receiver
  uint32_t now = lsr + dlsr + 0x00004000;  // back 0.25 s after that
  EXPECT_EQ(rtt_from_report(now, lsr, dlsr), std::chrono::microseconds(250'000));
  EXPECT_EQ(rtt_from_report(now, 0, dlsr), std::nullopt);
  EXPECT_EQ(rtt_from_report(lsr, lsr, dlsr), std::chrono::microseconds(0));  // negative clamps
  // Across the wrap of the 32-bit middle bits.
  EXPECT_EQ(rtt_from_report(0x00000100, 0xFFFFFF00, 0), from_ntp_short(0x200));
}

TEST(RtcpNtpTime, ClockMapsSteadyTimeOntoTheWallClock) {
  std::chrono::steady_clock::time_point t0{};
  std::chrono::system_clock::time_point wall{std::chrono::seconds(1'700'000'000)};
  NtpClock clock(t0, wall);
  EXPECT_EQ(clock.ntp(t0), ntp_from_unix(wall.time_since_epoch()));
  EXPECT_EQ(clock.ntp(t0 + 1s) - clock.ntp(t0), 1ULL << 32);
  EXPECT_EQ(ntp_mid32(clock.ntp(t0 + 500ms)) - ntp_mid32(clock.ntp(t0)), 32768u);
}

}  // namespace
}  // namespace junction::media
