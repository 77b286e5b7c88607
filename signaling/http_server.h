#pragma once
// The HTTP transport of the client API (Janus REST): POST /janus[/<session>[/<handle>]] carries
// requests, GET /janus/<session>?maxev=N long-polls for a session's events, GET /janus/info
// answers `server_info`, OPTIONS answers CORS preflights. Every other GET is a file of the web
// demo folder (signaling/static_files.h: types, cache policy) or 404.
#include <libwebsockets.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/base/uv_handles.h"
#include "signaling/api_handler.h"
#include "signaling/lws_service.h"

namespace junction::signaling {

class HttpServer {
 public:
  struct Limits {
    std::size_t max_message_size;  // a larger body closes the connection
    int long_poll_timeout_s;       // a GET with nothing to deliver answers `keepalive` after this
  };
  HttpServer(LwsService& service, ApiHandler& handler, uv_loop_t* loop, const std::string& bind,
             int port, Limits limits, const std::string& web_dir);
  ~HttpServer();

  // Answers every pending long poll with what is queued (graceful shutdown).
  void flush_polls();

 private:
  class Channel;
  struct Exchange;
  static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len);
  int on_request(lws* wsi);
  int serve_static(lws* wsi, const std::string& uri);
  int on_body_complete(Exchange& exchange);
  int on_writable(lws* wsi, Exchange& exchange);
  void start_long_poll(Exchange& exchange, uint64_t session_id, int maxev, const json& credentials);
  void respond(Exchange& exchange, int status, const json& body);
  std::shared_ptr<Channel> channel_for(uint64_t session_id);
  void forget(lws* wsi);

  ApiHandler& handler_;
  uv_loop_t* loop_;
  Limits limits_;
  std::string web_dir_;
  lws_protocols protocols_[2];
  lws_http_mount api_mount_{};
  std::unordered_map<uint64_t, std::shared_ptr<Channel>> channels_;  // bound HTTP sessions
  std::unordered_map<lws*, std::unique_ptr<Exchange>> exchanges_;    // requests in progress
};

}  // namespace junction::signaling
