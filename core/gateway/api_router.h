#pragma once
// The core API: the Janus verbs (info, ping, create, keepalive, attach, message, trickle, detach,
// hangup, destroy, claim) with Janus's error semantics, on top of the Gateway.
#include "core/gateway/gateway.h"
#include "signaling/api_handler.h"

namespace junction::gateway {

class ApiRouter : public signaling::ApiHandler {
 public:
  explicit ApiRouter(Gateway& gateway) : gateway_(gateway) {}

  nlohmann::json handle_request(const signaling::Request& request,
                                const std::shared_ptr<signaling::ClientConnection>& connection) override;
  void connection_closed(const std::shared_ptr<signaling::ClientConnection>& connection) override;
  bool touch_session(uint64_t session_id, const nlohmann::json& credentials) override;
  nlohmann::json server_info(std::string_view transaction) override;

 private:
  nlohmann::json root_request(const signaling::Request& request,
                              const std::shared_ptr<signaling::ClientConnection>& connection);
  nlohmann::json session_request(const signaling::Request& request, Session& session,
                                 const std::shared_ptr<signaling::ClientConnection>& connection);
  nlohmann::json handle_request(const signaling::Request& request, Session& session, Handle& handle);
  nlohmann::json message(const signaling::Request& request, Session& session, Handle& handle);
  nlohmann::json trickle(const signaling::Request& request, Session& session, Handle& handle);

  Gateway& gateway_;
};

}  // namespace junction::gateway
