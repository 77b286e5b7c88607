#pragma once
// What the admin transports call into: the admin API (API.md §2) and the monitoring endpoints.
// Implemented by core/gateway/admin_router.cpp; every call happens on the control loop.
#include <string>

#include "signaling/api_message.h"

namespace junction::signaling {

class AdminHandler {
 public:
  virtual ~AdminHandler() = default;

  // Handles one valid admin request (same envelope as the client API) and returns its reply.
  // May throw ApiException, which the transport turns into an `error` reply.
  virtual json handle_admin_request(const Request& request) = 0;

  // GET /metrics: the Prometheus text exposition format (version 0.0.4).
  virtual std::string metrics() = 0;

  // GET /health: {"status": "ok"} while the server runs.
  virtual json health() = 0;
};

}  // namespace junction::signaling
