#pragma once
// The admin API over WebSocket: subprotocol `janus-admin-protocol`, one request per text frame,
// each answered on the same socket. The WebSocket machinery is the client API's (WsServer);
// only the handler differs, and admin connections own no sessions.
#include <memory>
#include <string>

#include "signaling/admin_handler.h"
#include "signaling/api_handler.h"
#include "signaling/ws_server.h"

namespace junction::signaling {

class AdminWsServer {
 public:
  AdminWsServer(LwsService& service, AdminHandler& handler, const std::string& bind, int port,
                WsServer::Limits limits);

  void close_all() { server_->close_all(); }
  std::size_t connection_count() const { return server_->connection_count(); }

 private:
  // Presents the admin handler to WsServer.
  class Adapter : public ApiHandler {
   public:
    explicit Adapter(AdminHandler& admin) : admin_(admin) {}
    json handle_request(const Request& request, const std::shared_ptr<ClientConnection>&) override {
      return admin_.handle_admin_request(request);
    }
    void connection_closed(const std::shared_ptr<ClientConnection>&) override {}
    bool touch_session(uint64_t, const json&) override { return false; }
    json server_info(std::string_view transaction) override;

   private:
    AdminHandler& admin_;
  };

  Adapter adapter_;
  std::unique_ptr<WsServer> server_;
};

}  // namespace junction::signaling
