#pragma once
// The server's metrics in the Prometheus text format, gathered when scraped: gateway counts are
// read where they are kept, PeerConnection counters come from PeerConnection::stats() on each
// media worker (one run_sync per worker), so nothing is counted twice on the media path.
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "core/gateway/gateway.h"

namespace junction {
class PrometheusText;
}

namespace junction::gateway {

class MetricsCollector {
 public:
  explicit MetricsCollector(Gateway& gateway);
  // The /metrics body. Control loop only.
  std::string scrape();

  // The media counters a PeerConnection keeps, by the names PeerConnection::stats() gives them.
  struct MediaTotals {
    uint64_t rtp_in = 0, rtp_out = 0, bytes_in = 0, bytes_out = 0, rtcp_in = 0, rtcp_out = 0;
    uint64_t srtp_drops = 0, unknown_ssrc_drops = 0, garbage = 0, nacks_in = 0, nacks_out = 0;
    uint64_t retransmits = 0, plis_in = 0, plis_out = 0;
    static MediaTotals from_stats(const nlohmann::json& stats);
    MediaTotals& operator+=(const MediaTotals& other);
  };

 private:
  // Each plugin's metrics() as junction_plugin_<name>{plugin="<package>"}.
  void write_plugin_metrics(PrometheusText& out);

  Gateway& gateway_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  // Counters must never go down, yet a PeerConnection's counters leave with it. Each scrape
  // remembers what it saw of every PeerConnection; one that is gone by the next scrape adds what
  // was last seen of it to `retired_`. (What it counted after that scrape is not included.)
  MediaTotals retired_;
  std::map<std::weak_ptr<const transports::PeerConnection>, MediaTotals,
           std::owner_less<std::weak_ptr<const transports::PeerConnection>>>
      last_seen_;
};

}  // namespace junction::gateway
