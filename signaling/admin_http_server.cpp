#include "signaling/admin_http_server.h"

#include <vector>

#include "core/base/log.h"
#include "signaling/lws_http.h"

namespace junction::signaling {
namespace {

auto& logger() {
  static auto l = log::get("admin");
  return l;
}

}  // namespace

struct AdminHttpServer::Exchange {
  lws* wsi = nullptr;
  bool post = false;
  PathIds path;
  std::string body;
  bool responded = false;
  bool headers_sent = false;
  int status = 200;
  const char* content_type = "application/json";
  std::string response;
};

AdminHttpServer::AdminHttpServer(LwsService& service, AdminHandler& handler, const std::string& bind, int port,
                                 std::size_t max_message_size)
    : handler_(handler), max_message_size_(max_message_size) {
  protocols_[0] = lws_protocols{};
  protocols_[0].name = "junction-admin-http";
  protocols_[0].callback = &AdminHttpServer::callback;
  protocols_[0].user = this;
  protocols_[1] = lws_protocols{};
  mount_.mountpoint = "/";
  mount_.mountpoint_len = 1;
  mount_.origin = "junction-admin-http";
  mount_.origin_protocol = LWSMPRO_CALLBACK;
  service.add_vhost("admin-http", bind, port, protocols_, &mount_);
  logger()->info("admin API listening on {}://{}:{}/admin (metrics at /metrics, health at /health)",
                 service.scheme("http"), bind, port);
}

AdminHttpServer::~AdminHttpServer() = default;

int AdminHttpServer::callback(lws* wsi, lws_callback_reasons reason, void* /*user*/, void* in, std::size_t len) {
  const lws_protocols* protocol = lws_get_protocol(wsi);
  auto* self = protocol != nullptr ? static_cast<AdminHttpServer*>(protocol->user) : nullptr;
  if (self == nullptr) return lws_callback_http_dummy(wsi, reason, nullptr, in, len);
  switch (reason) {
    case LWS_CALLBACK_HTTP: return self->on_request(wsi);
    case LWS_CALLBACK_HTTP_BODY: {
      auto it = self->exchanges_.find(wsi);
      if (it == self->exchanges_.end()) return -1;
      if (it->second->body.size() + len > self->max_message_size_) {
        logger()->warn("admin request body over {} bytes, closing the connection", self->max_message_size_);
        self->exchanges_.erase(it);
        return -1;
      }
      it->second->body.append(static_cast<const char*>(in), len);
      return 0;
    }
    case LWS_CALLBACK_HTTP_BODY_COMPLETION: {
      auto it = self->exchanges_.find(wsi);
      return it == self->exchanges_.end() ? -1 : self->on_body_complete(*it->second);
    }
    case LWS_CALLBACK_HTTP_WRITEABLE: {
      auto it = self->exchanges_.find(wsi);
      return it == self->exchanges_.end() ? 0 : self->on_writable(wsi, *it->second);
    }
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL: self->exchanges_.erase(wsi); return 0;
    default: return lws_callback_http_dummy(wsi, reason, nullptr, in, len);
  }
}

int AdminHttpServer::on_request(lws* wsi) {
  exchanges_.erase(wsi);  // a kept-alive connection starts its next request
  auto owned = std::make_unique<Exchange>();
  Exchange& exchange = *owned;
  exchange.wsi = wsi;
  exchanges_[wsi] = std::move(owned);
  std::string uri;
  bool get = false;
  if (!(uri = lws_header(wsi, WSI_TOKEN_POST_URI)).empty()) exchange.post = true;
  else if (!(uri = lws_header(wsi, WSI_TOKEN_GET_URI)).empty()) get = true;
  if (auto q = uri.find('?'); q != std::string::npos) uri.resize(q);
  while (uri.size() > 1 && uri.back() == '/') uri.pop_back();

  if (!exchange.post && !get) {
    respond_json(exchange, 405, make_error(ApiError::kTransportSpecific, "Method not allowed"));
    lws_callback_on_writable(wsi);
    return 0;
  }
  if (get) {
    if (uri == "/metrics") {
      respond(exchange, 200, handler_.metrics(), "text/plain; version=0.0.4; charset=utf-8");
    } else if (uri == "/health") {
      respond_json(exchange, 200, handler_.health());
    } else if (uri == "/admin/info") {
      Request request;
      request.verb = "info";
      request.message = {{"janus", "info"}};
      respond_json(exchange, 200, handler_.handle_admin_request(request));
    } else if (uri == "/admin" || uri.rfind("/admin/", 0) == 0) {
      respond_json(exchange, 405, make_error(ApiError::kTransportSpecific, "Use POST for admin requests"));
    } else {
      respond_json(exchange, 404, make_error(ApiError::kInvalidRequestPath, "Invalid path: " + uri));
    }
    lws_callback_on_writable(wsi);
    return 0;
  }

  // POST /admin, /admin/<session>, /admin/<session>/<handle>
  std::string_view rest;
  if (uri == "/admin") {
    rest = {};
  } else if (uri.rfind("/admin/", 0) == 0) {
    rest = std::string_view(uri).substr(7);
  } else {
    respond_json(exchange, 404, make_error(ApiError::kInvalidRequestPath, "Invalid path: " + uri));
    lws_callback_on_writable(wsi);
    return 0;
  }
  if (!rest.empty()) {
    std::string_view first = rest.substr(0, rest.find('/'));
    std::string_view second = first.size() < rest.size() ? rest.substr(first.size() + 1) : "";
    if (!parse_path_id(first, exchange.path.session_id) ||
        (!second.empty() && !parse_path_id(second, exchange.path.handle_id))) {
      respond_json(exchange, 404, make_error(ApiError::kInvalidRequestPath, "Invalid path: " + uri));
      lws_callback_on_writable(wsi);
      return 0;
    }
  }
  std::string length = lws_header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
  if (!length.empty() && std::strtoull(length.c_str(), nullptr, 10) > max_message_size_) {
    logger()->warn("admin request body of {} bytes is over the {} byte limit, closing the connection", length,
                   max_message_size_);
    exchanges_.erase(wsi);
    return -1;
  }
  if (length == "0" || (length.empty() && lws_header(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING).empty()))
    return on_body_complete(exchange);
  return 0;
}

int AdminHttpServer::on_body_complete(Exchange& exchange) {
  ParseOutcome parsed = parse_request(exchange.body, &exchange.path);
  json reply;
  if (!parsed.request) {
    reply = std::move(parsed.error);
  } else {
    try {
      reply = handler_.handle_admin_request(*parsed.request);
    } catch (const ApiException& e) {
      reply = make_error(e.code(), e.what(), parsed.request->transaction, parsed.request->session_id);
    } catch (const std::exception& e) {
      logger()->error("internal error on admin '{}': {}", parsed.request->verb, e.what());
      reply = make_error(ApiError::kUnknown, "Internal error", parsed.request->transaction);
    }
  }
  respond_json(exchange, 200, reply);
  lws_callback_on_writable(exchange.wsi);
  return 0;
}

void AdminHttpServer::respond(Exchange& exchange, int status, std::string body, const char* content_type) {
  if (exchange.responded) return;
  exchange.responded = true;
  exchange.status = status;
  exchange.content_type = content_type;
  exchange.response = std::move(body);
}

int AdminHttpServer::on_writable(lws* wsi, Exchange& exchange) {
  if (!exchange.responded) return 0;
  if (!exchange.headers_sent) {
    std::vector<unsigned char> buffer(LWS_PRE + 1024);
    unsigned char* start = buffer.data() + LWS_PRE;
    unsigned char* p = start;
    unsigned char* end = buffer.data() + buffer.size() - 1;
    bool ok = lws_add_http_common_headers(wsi, static_cast<unsigned int>(exchange.status), exchange.content_type,
                                          exchange.response.size(), &p, end) == 0;
    static const char kNoStore[] = "no-store";
    ok = ok && lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>("cache-control:"),
                                           reinterpret_cast<const unsigned char*>(kNoStore), sizeof kNoStore - 1,
                                           &p, end) == 0;
    if (!ok || lws_finalize_write_http_header(wsi, start, &p, end) != 0) return -1;
    exchange.headers_sent = true;
    if (!exchange.response.empty()) {
      lws_callback_on_writable(wsi);
      return 0;
    }
  } else {
    std::vector<unsigned char> buffer(LWS_PRE + exchange.response.size());
    std::copy(exchange.response.begin(), exchange.response.end(), buffer.begin() + LWS_PRE);
    if (lws_write(wsi, buffer.data() + LWS_PRE, exchange.response.size(), LWS_WRITE_HTTP_FINAL) < 0) return -1;
  }
  exchanges_.erase(wsi);
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

}  // namespace junction::signaling
