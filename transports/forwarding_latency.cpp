#include "transports/forwarding_latency.h"

#include <algorithm>

namespace junction::transports {
namespace {

thread_local std::chrono::steady_clock::time_point t_datagram{};

// Single writer: a plain load and store instead of a locked read-modify-write.
void bump(std::atomic<uint64_t>& counter, uint64_t by) {
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

}  // namespace

void ForwardingLatency::record(std::chrono::nanoseconds latency) {
  const int64_t ns = std::max<int64_t>(0, latency.count());
  const uint64_t us = static_cast<uint64_t>(ns) / 1000;
  auto it = std::lower_bound(kBoundsUs.begin(), kBoundsUs.end(), us);
  bump(counts_[static_cast<std::size_t>(it - kBoundsUs.begin())], 1);
  bump(count_, 1);
  bump(sum_ns_, static_cast<uint64_t>(ns));
}

ForwardingLatency::Snapshot ForwardingLatency::snapshot() const {
  Snapshot s;
  for (std::size_t i = 0; i < kBuckets; ++i) s.counts[i] = counts_[i].load(std::memory_order_relaxed);
  s.count = count_.load(std::memory_order_relaxed);
  s.sum_ns = sum_ns_.load(std::memory_order_relaxed);
  return s;
}

ForwardingLatency::Datagram::Datagram(std::chrono::steady_clock::time_point arrived) { t_datagram = arrived; }
ForwardingLatency::Datagram::~Datagram() { t_datagram = {}; }
std::chrono::steady_clock::time_point ForwardingLatency::current_datagram() { return t_datagram; }

}  // namespace junction::transports
