#pragma once
// In-server forwarding latency: from the moment a peer's datagram reaches the worker (libnice's
// receive callback, before SRTP) to each RTP packet the processing of that datagram sends (SFU
// forwarding, echo, retransmissions it triggers). Mixer output is not counted: it leaves on a
// later task, not while a received packet is being handled.
//
// One histogram per media worker, written only by its thread; read from any thread (metrics
// scrape) through relaxed atomics, so a reading may be a few packets behind, never torn.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace junction::transports {

class ForwardingLatency {
 public:
  // Upper bounds of the buckets in microseconds; a last bucket takes everything above.
  static constexpr std::array<uint32_t, 14> kBoundsUs = {5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000,
                                                         10000, 20000, 50000, 100000};
  static constexpr std::size_t kBuckets = kBoundsUs.size() + 1;

  struct Snapshot {
    std::array<uint64_t, kBuckets> counts{};  // per bucket, not cumulative
    uint64_t count = 0;
    uint64_t sum_ns = 0;
  };

  void record(std::chrono::nanoseconds latency);
  Snapshot snapshot() const;

  // The receive time of the datagram this thread is handling now (zero when none): set for the
  // lifetime of a Datagram around the receive callback, read by the send path.
  class Datagram {
   public:
    explicit Datagram(std::chrono::steady_clock::time_point arrived);
    ~Datagram();
    Datagram(const Datagram&) = delete;
    Datagram& operator=(const Datagram&) = delete;
  };
  static std::chrono::steady_clock::time_point current_datagram();

 private:
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_ns_{0};
};

}  // namespace junction::transports
