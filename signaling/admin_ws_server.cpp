#include "signaling/admin_ws_server.h"

namespace junction::signaling {

json AdminWsServer::Adapter::server_info(std::string_view transaction) {
  Request request;
  request.verb = "info";
  request.transaction = std::string(transaction);
  request.message = {{"janus", "info"}, {"transaction", request.transaction}};
  return admin_.handle_admin_request(request);
}

AdminWsServer::AdminWsServer(LwsService& service, AdminHandler& handler, const std::string& bind, int port,
                             WsServer::Limits limits)
    : adapter_(handler),
      server_(std::make_unique<WsServer>(service, adapter_, bind, port, limits, "janus-admin-protocol")) {}

}  // namespace junction::signaling
