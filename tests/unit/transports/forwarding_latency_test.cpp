#include "transports/forwarding_latency.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

namespace junction::transports {
namespace {

using namespace std::chrono_literals;

TEST(ForwardingLatency, SamplesLandInTheBucketOfTheirUpperBound) {
  ForwardingLatency h;
  h.record(3us);
  h.record(5us);     // a bound belongs to its bucket
  h.record(6us);
  h.record(999us);
  h.record(1ms);
  h.record(200ms);   // above the last bound
  h.record(-1us);    // a clock step back counts as 0
  auto s = h.snapshot();
  EXPECT_EQ(s.count, 7u);
  EXPECT_EQ(s.counts[0], 3u);  // <= 5 µs: 3, 5 and the negative one
  EXPECT_EQ(s.counts[1], 1u);  // <= 10 µs
  EXPECT_EQ(s.counts[7], 2u);  // <= 1000 µs: 999 and 1000
  EXPECT_EQ(s.counts[ForwardingLatency::kBuckets - 1], 1u);
  EXPECT_EQ(s.sum_ns, 3'000u + 5'000u + 6'000u + 999'000u + 1'000'000u + 200'000'000u);
}

TEST(ForwardingLatency, TheCurrentDatagramIsPerThreadAndClearedAfterwards) {
  EXPECT_EQ(ForwardingLatency::current_datagram(), std::chrono::steady_clock::time_point{});
  auto now = std::chrono::steady_clock::now();
  {
    ForwardingLatency::Datagram arrived(now);
    EXPECT_EQ(ForwardingLatency::current_datagram(), now);
    std::chrono::steady_clock::time_point other{};
    std::thread([&] { other = ForwardingLatency::current_datagram(); }).join();
    EXPECT_EQ(other, std::chrono::steady_clock::time_point{});
  }
  EXPECT_EQ(ForwardingLatency::current_datagram(), std::chrono::steady_clock::time_point{});
  // An exception out of the packet handler clears it too.
  try {
    ForwardingLatency::Datagram arrived(now);
    throw std::runtime_error("handler failed");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(ForwardingLatency::current_datagram(), std::chrono::steady_clock::time_point{});
}

}  // namespace
}  // namespace junction::transports
