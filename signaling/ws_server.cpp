#include "signaling/ws_server.h"

#include <netinet/in.h>

#include <vector>

#include "core/base/log.h"

namespace junction::signaling {
namespace {
auto& logger() {
  static auto l = log::get("ws");
  return l;
}
}  // namespace

class WsConnection : public ClientConnection {
 public:
  WsConnection(WsServer& server, lws* wsi, uint64_t number, std::string peer)
      : server_(server), wsi_(wsi), number_(number), peer_(std::move(peer)) {}

  void send_event(const json& event) override { queue(event.dump()); }
  bool is_open() const override { return wsi_ != nullptr; }
  std::string describe() const override { return "ws#" + std::to_string(number_) + " " + peer_; }

  void queue(std::string text) {
    if (wsi_ == nullptr) return;
    queued_bytes_ += text.size();
    out_.push_back(std::move(text));
    if (queued_bytes_ > server_.limits_.max_queued_bytes && !closing_) {
      logger()->warn("{}: client is not reading ({} bytes queued), closing", describe(), queued_bytes_);
      out_.clear();
      queued_bytes_ = 0;
      closing_ = true;
    }
    lws_callback_on_writable(wsi_);
  }
  void request_close() {
    if (wsi_ == nullptr) return;
    closing_ = true;
    lws_callback_on_writable(wsi_);
  }

  WsServer& server_;
  lws* wsi_;  // null once lws reported the close
  uint64_t number_;
  std::string peer_;
  std::string in_;             // the message being reassembled from fragments
  bool discarding_ = false;    // the current message is over the limit
  std::deque<std::string> out_;
  std::size_t queued_bytes_ = 0;
  bool closing_ = false;
  bool close_sent_ = false;
};

WsServer::WsServer(LwsService& service, ApiHandler& handler, const std::string& bind, int port,
                   Limits limits, std::string subprotocol)
    : handler_(handler), limits_(limits), subprotocol_(std::move(subprotocol)) {
  protocols_[0] = lws_protocols{};
  protocols_[0].name = subprotocol_.c_str();
  protocols_[0].callback = &WsServer::callback;
  protocols_[0].per_session_data_size = 0;
  protocols_[0].rx_buffer_size = 65536;
  protocols_[0].user = this;
  protocols_[1] = lws_protocols{};  // terminator
  bool admin = subprotocol_ != "janus-protocol";
  service.add_vhost(admin ? "admin-ws" : "ws", bind, port, protocols_, nullptr);
  logger()->info("WebSocket {}API listening on {}://{}:{} (subprotocol {})", admin ? "admin " : "",
                 service.scheme("ws"), bind, port, subprotocol_);
}

WsServer::~WsServer() {
  for (auto& [wsi, connection] : connections_) connection->wsi_ = nullptr;
}

void WsServer::close_all() {
  for (auto& [wsi, connection] : connections_) connection->request_close();
}

int WsServer::callback(lws* wsi, lws_callback_reasons reason, void* /*user*/, void* in, std::size_t len) {
  const lws_protocols* protocol = lws_get_protocol(wsi);
  auto* self = protocol != nullptr ? static_cast<WsServer*>(protocol->user) : nullptr;
  if (self == nullptr) return 0;
  switch (reason) {
    case LWS_CALLBACK_ESTABLISHED: {
      char name[64] = {0}, ip[64] = {0};
      lws_get_peer_addresses(wsi, lws_get_socket_fd(wsi), name, sizeof name, ip, sizeof ip);
      auto connection = std::make_shared<WsConnection>(*self, wsi, self->next_connection_number_++, ip);
      self->connections_[wsi] = connection;
      logger()->debug("{}: connected", connection->describe());
      return 0;
    }
    case LWS_CALLBACK_RECEIVE: {
      auto it = self->connections_.find(wsi);
      return it == self->connections_.end() ? -1 : self->on_receive(*it->second, in, len, wsi);
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
      auto it = self->connections_.find(wsi);
      return it == self->connections_.end() ? -1 : self->on_writable(*it->second, wsi);
    }
    case LWS_CALLBACK_CLOSED: {
      auto it = self->connections_.find(wsi);
      if (it == self->connections_.end()) return 0;
      std::shared_ptr<WsConnection> connection = it->second;
      self->connections_.erase(it);
      connection->wsi_ = nullptr;
      connection->out_.clear();
      logger()->debug("{}: closed", connection->describe());
      self->handler_.connection_closed(connection);
      return 0;
    }
    default: return 0;
  }
}

int WsServer::on_receive(WsConnection& connection, const void* in, std::size_t len, lws* wsi) {
  if (connection.in_.size() + len > limits_.max_message_size) {
    logger()->warn("{}: message over {} bytes, closing the connection", connection.describe(),
                   limits_.max_message_size);
    static const char reason[] = "message too large";
    lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                     reinterpret_cast<unsigned char*>(const_cast<char*>(reason)), sizeof reason - 1);
    return -1;
  }
  connection.in_.append(static_cast<const char*>(in), len);
  if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) != 0) return 0;

  std::string text = std::move(connection.in_);
  connection.in_.clear();
  if (lws_frame_is_binary(wsi)) {
    connection.queue(make_error(ApiError::kInvalidJson, "JSON error: binary frames are not JSON").dump());
    return 0;
  }
  ParseOutcome parsed = parse_request(text);
  json reply;
  if (!parsed.request) {
    reply = std::move(parsed.error);
  } else {
    // The connection stays alive for the call even if the handler's work closes it.
    std::shared_ptr<WsConnection> self = connections_.at(wsi);
    try {
      reply = handler_.handle_request(*parsed.request, self);
    } catch (const ApiException& e) {
      reply = make_error(e.code(), e.what(), parsed.request->transaction, parsed.request->session_id);
    } catch (const std::exception& e) {
      logger()->error("{}: internal error on '{}': {}", connection.describe(), parsed.request->verb, e.what());
      reply = make_error(ApiError::kUnknown, "Internal error", parsed.request->transaction);
    }
  }
  connection.queue(reply.dump());
  return 0;
}

int WsServer::on_writable(WsConnection& connection, lws* wsi) {
  if (!connection.out_.empty()) {
    std::string text = std::move(connection.out_.front());
    connection.out_.pop_front();
    connection.queued_bytes_ -= text.size();
    std::vector<unsigned char> buffer(LWS_PRE + text.size());
    std::copy(text.begin(), text.end(), buffer.begin() + LWS_PRE);
    int written = lws_write(wsi, buffer.data() + LWS_PRE, text.size(), LWS_WRITE_TEXT);
    if (written < static_cast<int>(text.size())) {
      logger()->warn("{}: write failed, closing", connection.describe());
      return -1;
    }
  }
  if (!connection.out_.empty()) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  if (connection.closing_) {
    if (connection.close_sent_) return -1;
    // lws on libuv drops the socket before the close frame that lws_close_reason() prepares
    // goes out, so the frame (RFC 6455 §5.5.1: opcode 8, unmasked from a server, status code
    // then reason) is written here and the socket closed on the next turn.
    static const char reason[] = "server shutting down";
    std::vector<unsigned char> frame(LWS_PRE + 4 + sizeof reason - 1);
    unsigned char* p = frame.data() + LWS_PRE;
    p[0] = 0x88;
    p[1] = static_cast<unsigned char>(2 + sizeof reason - 1);
    p[2] = LWS_CLOSE_STATUS_GOINGAWAY >> 8;
    p[3] = LWS_CLOSE_STATUS_GOINGAWAY & 0xff;
    std::copy(reason, reason + sizeof reason - 1, p + 4);
    lws_write(wsi, p, frame.size() - LWS_PRE, LWS_WRITE_RAW);
    connection.close_sent_ = true;
    lws_callback_on_writable(wsi);
  }
  return 0;
}

}  // namespace junction::signaling
