#pragma once
// The admin API over HTTP (Janus's admin REST): POST /admin[/<session>[/<handle>]] carries
// requests (ids in the path, as on /janus), GET /admin/info answers `info`; beside it the
// monitoring endpoints GET /metrics (Prometheus text format) and GET /health. No long polls:
// the admin API has no events.
#include <libwebsockets.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "signaling/admin_handler.h"
#include "signaling/lws_service.h"

namespace junction::signaling {

class AdminHttpServer {
 public:
  AdminHttpServer(LwsService& service, AdminHandler& handler, const std::string& bind, int port,
                  std::size_t max_message_size);
  ~AdminHttpServer();

 private:
  struct Exchange;
  static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len);
  int on_request(lws* wsi);
  int on_body_complete(Exchange& exchange);
  int on_writable(lws* wsi, Exchange& exchange);
  void respond(Exchange& exchange, int status, std::string body, const char* content_type = "application/json");
  void respond_json(Exchange& exchange, int status, const json& body) { respond(exchange, status, body.dump()); }

  AdminHandler& handler_;
  std::size_t max_message_size_;
  lws_protocols protocols_[2];
  lws_http_mount mount_{};
  std::unordered_map<lws*, std::unique_ptr<Exchange>> exchanges_;  // requests in progress
};

}  // namespace junction::signaling
