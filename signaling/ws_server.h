#pragma once
// The WebSocket transport of the client API (subprotocol `janus-protocol`) and of the admin API
// (`janus-admin-protocol`): one JSON message per text frame, replies and events on the same socket.
#include <libwebsockets.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

#include "signaling/api_handler.h"
#include "signaling/lws_service.h"

namespace junction::signaling {

class WsConnection;

class WsServer {
 public:
  struct Limits {
    std::size_t max_message_size;  // a larger incoming message closes the connection
    std::size_t max_queued_bytes;  // a client that lets more pile up unread is disconnected
  };
  // `subprotocol` names the API: "janus-protocol" (client) or "janus-admin-protocol" (admin).
  WsServer(LwsService& service, ApiHandler& handler, const std::string& bind, int port, Limits limits,
           std::string subprotocol = "janus-protocol");
  ~WsServer();

  // Sends what is queued on every connection, then closes them (graceful shutdown).
  void close_all();
  std::size_t connection_count() const { return connections_.size(); }

 private:
  friend class WsConnection;
  static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len);
  int on_receive(WsConnection& connection, const void* in, std::size_t len, lws* wsi);
  int on_writable(WsConnection& connection, lws* wsi);

  ApiHandler& handler_;
  Limits limits_;
  std::string subprotocol_;  // protocols_[0].name points into it
  lws_protocols protocols_[2];
  std::unordered_map<lws*, std::shared_ptr<WsConnection>> connections_;
  uint64_t next_connection_number_ = 1;
};

}  // namespace junction::signaling
