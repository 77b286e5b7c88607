#pragma once
// The admin API (API.md §2) on top of the Gateway: server status, sessions and handles with their
// WebRTC statistics, operator controls (timeouts, log level, accepting sessions), stored tokens,
// requests to plugins; plus /metrics and /health for the admin HTTP listener. Every request but
// `info` and `ping` needs the admin secret when one is configured.
#include <memory>

#include "core/gateway/api_router.h"
#include "core/gateway/gateway.h"
#include "core/gateway/metrics.h"
#include "signaling/admin_handler.h"

namespace junction::gateway {

class AdminRouter : public signaling::AdminHandler {
 public:
  // `api` answers `info` (the same server_info as the client API).
  AdminRouter(Gateway& gateway, ApiRouter& api) : gateway_(gateway), api_(api), metrics_(gateway) {}

  nlohmann::json handle_admin_request(const signaling::Request& request) override;
  std::string metrics() override { return metrics_.scrape(); }
  nlohmann::json health() override { return {{"status", "ok"}}; }

 private:
  nlohmann::json root_request(const signaling::Request& request);
  nlohmann::json session_request(const signaling::Request& request, Session& session);
  nlohmann::json handle_request(const signaling::Request& request, Session& session, Handle& handle);
  nlohmann::json token_request(const signaling::Request& request);
  nlohmann::json handle_info(const signaling::Request& request, Session& session, Handle& handle);

  Gateway& gateway_;
  ApiRouter& api_;
  MetricsCollector metrics_;
};

}  // namespace junction::gateway
