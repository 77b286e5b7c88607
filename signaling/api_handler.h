#pragma once
// What the transports call into: the gateway's core API. Implemented by core/gateway; the
// transports only know this interface. Every call happens on the control loop.
#include <memory>

#include "signaling/api_message.h"
#include "signaling/client_connection.h"

namespace junction::signaling {

class ApiHandler {
 public:
  virtual ~ApiHandler() = default;

  // Handles one valid request and returns its direct reply (`success`, `ack`, `error`, ...).
  // `connection` receives the session's events when the request creates or claims a session.
  virtual json handle_request(const Request& request,
                              const std::shared_ptr<ClientConnection>& connection) = 0;

  // A connection closed: its sessions are destroyed, or wait for a `claim` when configured.
  virtual void connection_closed(const std::shared_ptr<ClientConnection>& connection) = 0;

  // An HTTP long poll arrived for this session: counts as activity. False if there is no such
  // session. `credentials` holds the poll's `apisecret` and `token` (from its query string);
  // throws ApiException 403 when they do not admit it.
  virtual bool touch_session(uint64_t session_id, const json& credentials) = 0;

  // The `server_info` reply (also served at GET /janus/info).
  virtual json server_info(std::string_view transaction) = 0;
};

}  // namespace junction::signaling
