#include "core/gateway/metrics.h"

#include "core/base/log.h"
#include "core/base/prometheus_text.h"
#include "core/base/version.h"

namespace junction::gateway {

using nlohmann::json;
using Type = PrometheusText::Type;

MetricsCollector::MediaTotals MetricsCollector::MediaTotals::from_stats(const json& stats) {
  MediaTotals t;
  if (!stats.is_object() || !stats.contains("counters")) return t;
  const json& c = stats["counters"];
  auto get = [&c](const char* name) { return c.value(name, uint64_t{0}); };
  t.rtp_in = get("rtp_in");
  t.rtp_out = get("rtp_out");
  t.bytes_in = get("bytes_in");
  t.bytes_out = get("bytes_out");
  t.rtcp_in = get("rtcp_in");
  t.rtcp_out = get("rtcp_out");
  t.srtp_drops = get("srtp_drops");
  t.unknown_ssrc_drops = get("unknown_ssrc_drops");
  t.garbage = get("garbage");
  t.nacks_in = get("nacks_in");
  t.nacks_out = get("nacks_out");
  t.retransmits = get("retransmits");
  t.plis_in = get("plis_in");
  t.plis_out = get("plis_out");
  return t;
}

MetricsCollector::MediaTotals& MetricsCollector::MediaTotals::operator+=(const MediaTotals& o) {
  rtp_in += o.rtp_in;
  rtp_out += o.rtp_out;
  bytes_in += o.bytes_in;
  bytes_out += o.bytes_out;
  rtcp_in += o.rtcp_in;
  rtcp_out += o.rtcp_out;
  srtp_drops += o.srtp_drops;
  unknown_ssrc_drops += o.unknown_ssrc_drops;
  garbage += o.garbage;
  nacks_in += o.nacks_in;
  nacks_out += o.nacks_out;
  retransmits += o.retransmits;
  plis_in += o.plis_in;
  plis_out += o.plis_out;
  return *this;
}

MetricsCollector::MetricsCollector(Gateway& gateway) : gateway_(gateway) {}

std::string MetricsCollector::scrape() {
  // PeerConnections: live counters, plus those of PeerConnections gone since the last scrape.
  std::vector<Gateway::PcStats> pcs = gateway_.all_pc_stats();
  decltype(last_seen_) seen;
  MediaTotals media = retired_;
  std::map<std::string, uint64_t> by_state = {{"connected", 0}};
  std::vector<uint64_t> per_worker(gateway_.media_worker_count(), 0);
  for (const Gateway::PcStats& pc : pcs) {
    MediaTotals t = MediaTotals::from_stats(pc.stats);
    seen.emplace(pc.pc, t);
    media += t;
    std::string state = pc.webrtc_up ? "connected" : pc.stats["ice"].value("state", std::string("new"));
    ++by_state[state];
    if (pc.worker >= 0 && static_cast<std::size_t>(pc.worker) < per_worker.size()) ++per_worker[pc.worker];
  }
  for (auto& [pc, totals] : last_seen_) {
    if (seen.count(pc) != 0) continue;
    retired_ += totals;
    media += totals;
  }
  last_seen_ = std::move(seen);

  std::size_t handles = 0;
  std::map<std::string, uint64_t> handles_by_plugin;
  for (auto& [package, loaded] : gateway_.plugins().all()) handles_by_plugin[package] = 0;
  for (auto& [id, session] : gateway_.sessions()) {
    handles += session->handles.size();
    for (auto& [handle_id, handle] : session->handles) ++handles_by_plugin[handle->plugin->info.package];
  }
  const Gateway::Counts& counts = gateway_.counts();

  PrometheusText out;
  out.family("junction_build_info", Type::kGauge, "Always 1; the version is a label.");
  out.sample(uint64_t{1}, {{"version", kVersionString}});
  out.family("junction_uptime_seconds", Type::kGauge, "Seconds since the metrics collector started.");
  out.sample(std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  out.family("junction_accepting_new_sessions", Type::kGauge, "1 while `create` is accepted, 0 after accept_new_sessions false.");
  out.sample(uint64_t{gateway_.accepting_new_sessions() ? 1u : 0u});

  out.family("junction_sessions", Type::kGauge, "Sessions alive now.");
  out.sample(uint64_t{gateway_.session_count()});
  out.family("junction_sessions_created_total", Type::kCounter, "Sessions created.");
  out.sample(counts.sessions_created);
  out.family("junction_sessions_destroyed_total", Type::kCounter, "Sessions ended (destroy, timeout, connection closed, admin).");
  out.sample(counts.sessions_destroyed);
  out.family("junction_sessions_timed_out_total", Type::kCounter, "Sessions ended by their idle timeout.");
  out.sample(counts.sessions_timed_out);
  out.family("junction_handles", Type::kGauge, "Handles alive now.");
  out.sample(uint64_t{handles});
  out.family("junction_plugin_handles", Type::kGauge, "Handles alive now, by plugin.");
  for (auto& [package, n] : handles_by_plugin) out.sample(n, {{"plugin", package}});
  out.family("junction_handles_attached_total", Type::kCounter, "Handles attached.");
  out.sample(counts.handles_attached);
  out.family("junction_handles_detached_total", Type::kCounter, "Handles detached.");
  out.sample(counts.handles_detached);
  out.family("junction_auth_failures_total", Type::kCounter, "Requests refused for a missing or wrong secret or token.");
  out.sample(gateway_.auth().client_failures(), {{"api", "client"}});
  out.sample(gateway_.auth().admin_failures(), {{"api", "admin"}});

  out.family("junction_peer_connections", Type::kGauge, "PeerConnections alive now, by state (ICE state until DTLS is up).");
  for (auto& [state, n] : by_state) out.sample(n, {{"state", state}});
  out.family("junction_media_worker_peer_connections", Type::kGauge, "PeerConnections alive now, by media worker.");
  for (std::size_t i = 0; i < per_worker.size(); ++i) {
    std::string worker = std::to_string(i);
    out.sample(per_worker[i], {{"worker", worker}});
  }
  out.family("junction_forwarding_latency_seconds", Type::kHistogram,
             "From a datagram's arrival at its media worker to each RTP packet its handling sends (SFU forwarding, "
             "echo), by media worker.");
  std::vector<transports::ForwardingLatency::Snapshot> latency = gateway_.forwarding_latency();
  for (std::size_t i = 0; i < latency.size(); ++i) {
    std::string worker = std::to_string(i);
    uint64_t cumulative = 0;
    for (std::size_t b = 0; b < transports::ForwardingLatency::kBuckets; ++b) {
      cumulative += latency[i].counts[b];
      std::string le = b < transports::ForwardingLatency::kBoundsUs.size()
                           ? PrometheusText::number(transports::ForwardingLatency::kBoundsUs[b] / 1e6)
                           : "+Inf";
      out.suffixed("_bucket", cumulative, {{"worker", worker}, {"le", le}});
    }
    out.suffixed("_sum", static_cast<double>(latency[i].sum_ns) / 1e9, {{"worker", worker}});
    out.suffixed("_count", latency[i].count, {{"worker", worker}});
  }
  out.family("junction_rtp_packets_total", Type::kCounter, "RTP packets received from and sent to peers.");
  out.sample(media.rtp_in, {{"direction", "in"}});
  out.sample(media.rtp_out, {{"direction", "out"}});
  out.family("junction_rtp_bytes_total", Type::kCounter, "RTP bytes received from and sent to peers.");
  out.sample(media.bytes_in, {{"direction", "in"}});
  out.sample(media.bytes_out, {{"direction", "out"}});
  out.family("junction_rtcp_packets_total", Type::kCounter, "RTCP packets received from and sent to peers.");
  out.sample(media.rtcp_in, {{"direction", "in"}});
  out.sample(media.rtcp_out, {{"direction", "out"}});
  out.family("junction_nacks_total", Type::kCounter, "NACKs received from peers (in) and sent to them (out).");
  out.sample(media.nacks_in, {{"direction", "in"}});
  out.sample(media.nacks_out, {{"direction", "out"}});
  out.family("junction_plis_total", Type::kCounter, "Keyframe requests (PLI) received from peers (in) and sent to them (out).");
  out.sample(media.plis_in, {{"direction", "in"}});
  out.sample(media.plis_out, {{"direction", "out"}});
  out.family("junction_retransmitted_packets_total", Type::kCounter, "Packets resent to peers in answer to their NACKs.");
  out.sample(media.retransmits);
  out.family("junction_srtp_errors_total", Type::kCounter, "Packets that failed SRTP/SRTCP unprotection, dropped.");
  out.sample(media.srtp_drops);
  out.family("junction_dropped_packets_total", Type::kCounter, "Incoming packets dropped, by reason.");
  out.sample(media.srtp_drops, {{"reason", "srtp"}});
  out.sample(media.unknown_ssrc_drops, {{"reason", "unknown_ssrc"}});
  out.sample(media.garbage, {{"reason", "unparseable"}});
  write_plugin_metrics(out);
  if (const EventPusher* events = gateway_.event_pusher()) {
    EventPusher::Counts c = events->counts();
    out.family("junction_event_push_events_total", Type::kCounter, "Events for the event push collector, by fate.");
    out.sample(c.sent, {{"result", "sent"}});
    out.sample(c.dropped, {{"result", "dropped"}});
    out.family("junction_event_push_failed_posts_total", Type::kCounter, "POSTs to the event push collector that failed.");
    out.sample(c.failed_posts);
    out.family("junction_event_push_queue", Type::kGauge, "Events waiting to be POSTed.");
    out.sample(uint64_t{events->queue_size()});
  }
  return out.text();
}

void MetricsCollector::write_plugin_metrics(PrometheusText& out) {
  // Plugins that report the same name share a family: gather by name first.
  struct Family {
    plugin::Metric::Kind kind;
    std::string help;
    std::vector<std::pair<const std::string*, double>> samples;  // (package, value)
  };
  std::map<std::string, Family> families;
  for (auto& [package, loaded] : gateway_.plugins().all()) {
    for (plugin::Metric& m : loaded.instance->metrics()) {
      std::string name = "junction_plugin_" + m.name;
      bool counter = m.kind == plugin::Metric::Kind::kCounter;
      auto [it, added] = families.try_emplace(name, Family{m.kind, std::move(m.help), {}});
      bool valid_name = PrometheusText::valid_name(name) && (!counter || name.ends_with("_total"));
      if (!valid_name || it->second.kind != m.kind) {
        if (added) families.erase(it);
        static auto logger = log::get("metrics");
        logger->warn("{}: metric '{}' ignored (bad name, or its kind differs from another plugin's)", package,
                     m.name);
        continue;
      }
      it->second.samples.emplace_back(&package, m.value);
    }
  }
  for (auto& [name, family] : families) {
    out.family(name, family.kind == plugin::Metric::Kind::kCounter ? Type::kCounter : Type::kGauge, family.help);
    for (auto& [package, value] : family.samples) out.sample(value, {{"plugin", *package}});
  }
}

}  // namespace junction::gateway
