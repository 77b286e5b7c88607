#include "signaling/http_server.h"

#include <deque>
#include <filesystem>
#include <vector>

#include "core/base/log.h"
#include "signaling/lws_http.h"
#include "signaling/static_files.h"

namespace junction::signaling {
namespace {

auto& logger() {
  static auto l = log::get("http");
  return l;
}

constexpr std::size_t kMaxQueuedEvents = 1000;

enum class Method { kGet, kPost, kOptions, kOther };

}  // namespace

// Events for one session that talks over HTTP: queued until a long poll collects them.
class HttpServer::Channel : public ClientConnection {
 public:
  Channel(HttpServer& server, uint64_t session_id) : server_(server), session_id_(session_id) {}

  void send_event(const json& event) override {
    if (events_.size() >= kMaxQueuedEvents) {
      if (dropped_++ % 100 == 0)
        logger()->warn("{}: nobody polls, dropping old events ({} so far)", describe(), dropped_);
      events_.pop_front();
    }
    events_.push_back(event);
    if (poll_ != nullptr) server_.respond(*poll_, 200, take(poll_maxev_));
  }
  bool is_open() const override { return true; }
  std::string describe() const override { return "http session " + std::to_string(session_id_); }

  // Nothing to deliver: `keepalive`, in an array when the poll asked for several events.
  static json keepalive(int maxev) {
    json k = {{"janus", "keepalive"}};
    return maxev > 1 ? json::array({k}) : k;
  }

  // Up to maxev events: one object when maxev is 1, else an array (as Janus answers).
  json take(int maxev) {
    if (maxev <= 1) {
      json event = std::move(events_.front());
      events_.pop_front();
      return event;
    }
    json batch = json::array();
    while (!events_.empty() && static_cast<int>(batch.size()) < maxev) {
      batch.push_back(std::move(events_.front()));
      events_.pop_front();
    }
    return batch;
  }

  HttpServer& server_;
  uint64_t session_id_;
  std::deque<json> events_;
  std::size_t dropped_ = 0;
  Exchange* poll_ = nullptr;  // the long poll waiting for events, if any
  int poll_maxev_ = 1;

 protected:
  void on_bound(uint64_t session_id) override {
    session_id_ = session_id;
    server_.channels_[session_id] = std::static_pointer_cast<Channel>(shared_from_this());
  }
  void on_unbound(uint64_t session_id) override {
    server_.channels_.erase(session_id);
    // A pending poll delivers the session's last events (`detached`, `timeout`). With nothing
    // to deliver it stays open until its timer, as Janus does: answering it at once makes
    // janus.js poll again for a session that is gone (a 404 and console errors). The exchange
    // holds this channel until then.
    if (poll_ != nullptr && !events_.empty()) server_.respond(*poll_, 200, take(poll_maxev_));
  }
};

// One HTTP request on a connection, from its headers to the end of its response.
struct HttpServer::Exchange {
  lws* wsi = nullptr;
  Method method = Method::kOther;
  PathIds path;
  std::string origin;
  std::string request_headers;  // Access-Control-Request-Headers of a preflight
  std::string body;
  json path_error;  // a POST to a path that names no session: answered after its body
  bool responded = false;
  bool headers_sent = false;
  int status = 200;
  std::string response;
  std::shared_ptr<Channel> poll_channel;  // set while this exchange is a pending long poll
  std::unique_ptr<UvTimer> poll_timer;
};

HttpServer::HttpServer(LwsService& service, ApiHandler& handler, uv_loop_t* loop,
                       const std::string& bind, int port, Limits limits, const std::string& web_dir)
    : handler_(handler), loop_(loop), limits_(limits), web_dir_(web_dir) {
  protocols_[0] = lws_protocols{};
  protocols_[0].name = "junction-http";
  protocols_[0].callback = &HttpServer::callback;
  protocols_[0].user = this;
  protocols_[1] = lws_protocols{};

  api_mount_.mountpoint = "/janus";
  api_mount_.mountpoint_len = 6;
  api_mount_.origin = "junction-http";
  api_mount_.origin_protocol = LWSMPRO_CALLBACK;
  // Paths outside /janus come to this protocol's callback too (no mount matches): the web
  // demo's files are served from there (serve_static), with our own types and cache headers.
  if (web_dir_.empty() || !std::filesystem::is_directory(web_dir_)) {
    logger()->warn("web demo folder '{}' not found: only the API is served over HTTP", web_dir_);
    web_dir_.clear();
  }
  service.add_vhost("http", bind, port, protocols_, &api_mount_);
  logger()->info("HTTP API listening on {}://{}:{}/janus (web demo at /)", service.scheme("http"), bind, port);
}

HttpServer::~HttpServer() {
  for (auto& [wsi, exchange] : exchanges_)
    if (exchange->poll_channel) exchange->poll_channel->poll_ = nullptr;
}

void HttpServer::flush_polls() {
  // Every pending poll, including those whose session already ended (no longer in channels_).
  for (auto& [wsi, exchange] : exchanges_) {
    std::shared_ptr<Channel> channel = exchange->poll_channel;
    if (!channel || channel->poll_ != exchange.get()) continue;
    respond(*exchange, 200,
            channel->events_.empty() ? Channel::keepalive(channel->poll_maxev_) : channel->take(channel->poll_maxev_));
  }
}

std::shared_ptr<HttpServer::Channel> HttpServer::channel_for(uint64_t session_id) {
  if (auto it = channels_.find(session_id); it != channels_.end()) return it->second;
  return std::make_shared<Channel>(*this, session_id);
}

void HttpServer::forget(lws* wsi) {
  auto it = exchanges_.find(wsi);
  if (it == exchanges_.end()) return;
  if (it->second->poll_channel && it->second->poll_channel->poll_ == it->second.get())
    it->second->poll_channel->poll_ = nullptr;
  exchanges_.erase(it);
}

int HttpServer::callback(lws* wsi, lws_callback_reasons reason, void* /*user*/, void* in, std::size_t len) {
  const lws_protocols* protocol = lws_get_protocol(wsi);
  auto* self = protocol != nullptr ? static_cast<HttpServer*>(protocol->user) : nullptr;
  if (self == nullptr) return lws_callback_http_dummy(wsi, reason, nullptr, in, len);
  switch (reason) {
    case LWS_CALLBACK_HTTP: return self->on_request(wsi);
    case LWS_CALLBACK_HTTP_BODY: {
      auto it = self->exchanges_.find(wsi);
      if (it == self->exchanges_.end()) return -1;
      if (it->second->body.size() + len > self->limits_.max_message_size) {
        logger()->warn("request body over {} bytes, closing the connection", self->limits_.max_message_size);
        self->forget(wsi);
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
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL: self->forget(wsi); return 0;
    default: return lws_callback_http_dummy(wsi, reason, nullptr, in, len);
  }
}

int HttpServer::on_request(lws* wsi) {
  forget(wsi);  // a kept-alive connection starts its next request
  auto is_api_path = [](const std::string& uri) { return uri == "/janus" || uri.rfind("/janus/", 0) == 0; };
  std::string get_uri = lws_header(wsi, WSI_TOKEN_GET_URI);
  if (!get_uri.empty() && !is_api_path(get_uri)) return serve_static(wsi, get_uri);

  auto owned = std::make_unique<Exchange>();
  Exchange& exchange = *owned;
  exchange.wsi = wsi;
  exchanges_[wsi] = std::move(owned);

  std::string uri;
  if (!(uri = lws_header(wsi, WSI_TOKEN_POST_URI)).empty()) exchange.method = Method::kPost;
  else if (!(uri = lws_header(wsi, WSI_TOKEN_GET_URI)).empty()) exchange.method = Method::kGet;
  else if (!(uri = lws_header(wsi, WSI_TOKEN_OPTIONS_URI)).empty()) exchange.method = Method::kOptions;
  exchange.origin = lws_header(wsi, WSI_TOKEN_ORIGIN);
  exchange.request_headers = lws_header(wsi, WSI_TOKEN_HTTP_AC_REQUEST_HEADERS);

  if (exchange.method == Method::kOptions) {
    exchange.status = 204;
    exchange.responded = true;
    lws_callback_on_writable(wsi);
    return 0;
  }
  if (exchange.method == Method::kOther) {
    respond(exchange, 405, make_error(ApiError::kTransportSpecific, "Method not allowed"));
    return 0;
  }

  // /janus, /janus/info, /janus/<session>, /janus/<session>/<handle> (a POST elsewhere: 404)
  if (!is_api_path(uri)) exchange.path_error = make_error(ApiError::kInvalidRequestPath, "Invalid path: " + uri);
  std::string_view rest = std::string_view(uri).substr(std::min<std::size_t>(uri.size(), 6));
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  bool info = rest == "info";
  if (exchange.path_error.is_null() && !rest.empty() && !info) {
    std::string_view first = rest.substr(0, rest.find('/'));
    std::string_view second = first.size() < rest.size() ? rest.substr(first.size() + 1) : "";
    if (!parse_path_id(first, exchange.path.session_id) ||
        (!second.empty() && !parse_path_id(second, exchange.path.handle_id))) {
      json error = make_error(ApiError::kInvalidRequestPath, "Invalid path: " + uri);
      if (exchange.method != Method::kPost) {
        respond(exchange, 404, error);
        return 0;
      }
      // A POST still has its body coming: answer once it is read, so the body does not stay on
      // a kept-alive connection in front of the next request.
      exchange.path_error = std::move(error);
    }
  }

  if (exchange.method == Method::kGet) {
    if (info) {
      respond(exchange, 200, handler_.server_info({}));
    } else if (exchange.path.session_id == 0 || exchange.path.handle_id != 0) {
      respond(exchange, 405, make_error(ApiError::kTransportSpecific, "Use POST for requests"));
    } else {
      char arg[32] = {0};
      int maxev = 1;
      // lws returns a pointer to the value, inside `arg` after the name.
      if (const char* value = lws_get_urlarg_by_name(wsi, "maxev=", arg, sizeof arg)) maxev = std::max(1, std::atoi(value));
      // A GET has no body: its credentials come in the query string, as janus.js sends them.
      json credentials = json::object();
      for (const char* name : {"apisecret", "token"}) {
        char value[1024] = {0};
        std::string key = std::string(name) + "=";
        if (const char* v = lws_get_urlarg_by_name(wsi, key.c_str(), value, sizeof value)) credentials[name] = v;
      }
      start_long_poll(exchange, exchange.path.session_id, std::min(maxev, 1000), credentials);
    }
    return 0;
  }

  // POST: check the announced length now, collect the body, answer at its end.
  std::string length = lws_header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
  if (!length.empty() && std::strtoull(length.c_str(), nullptr, 10) > limits_.max_message_size) {
    logger()->warn("request body of {} bytes is over the {} byte limit, closing the connection", length,
                   limits_.max_message_size);
    forget(wsi);
    return -1;
  }
  if (length == "0" || (length.empty() && lws_header(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING).empty()))
    return on_body_complete(exchange);
  return 0;
}

int HttpServer::on_body_complete(Exchange& exchange) {
  if (!exchange.path_error.is_null()) {
    respond(exchange, 404, exchange.path_error);
    return 0;
  }
  const PathIds* path = &exchange.path;
  ParseOutcome parsed = parse_request(exchange.body, path);
  json reply;
  if (!parsed.request) {
    reply = std::move(parsed.error);
  } else {
    try {
      std::shared_ptr<ClientConnection> connection = channel_for(exchange.path.session_id);
      reply = handler_.handle_request(*parsed.request, connection);
    } catch (const ApiException& e) {
      reply = make_error(e.code(), e.what(), parsed.request->transaction, parsed.request->session_id);
    } catch (const std::exception& e) {
      logger()->error("internal error on '{}': {}", parsed.request->verb, e.what());
      reply = make_error(ApiError::kUnknown, "Internal error", parsed.request->transaction);
    }
  }
  respond(exchange, 200, reply);
  return 0;
}

// A static file of the web demo, or 404. Small answers (404, 304) are written at once; a file
// goes out through lws_serve_http_file, which streams it as the socket drains.
int HttpServer::serve_static(lws* wsi, const std::string& uri) {
  std::optional<StaticFile> file;
  if (!web_dir_.empty()) file = resolve_static_file(web_dir_, uri);
  std::string headers = "cache-control: " + std::string(file ? kStaticCacheControl : "no-store") + "\r\n";
  headers += "x-content-type-options: nosniff\r\n";
  if (file) headers += "etag: " + file->etag + "\r\n";

  bool not_modified = file && etag_matches(lws_header(wsi, WSI_TOKEN_HTTP_IF_NONE_MATCH), file->etag);
  if (file && !not_modified) {
    int n = lws_serve_http_file(wsi, file->path.c_str(), file->content_type.c_str(), headers.c_str(),
                                static_cast<int>(headers.size()));
    return n < 0 || (n > 0 && lws_http_transaction_completed(wsi)) ? -1 : 0;
  }
  static constexpr std::string_view kNotFound = "Not found\n";
  std::string_view body = not_modified ? std::string_view() : kNotFound;
  std::vector<unsigned char> buffer(LWS_PRE + 1024 + body.size());
  unsigned char* start = buffer.data() + LWS_PRE;
  unsigned char* p = start;
  unsigned char* end = buffer.data() + buffer.size() - 1;
  unsigned status = not_modified ? HTTP_STATUS_NOT_MODIFIED : HTTP_STATUS_NOT_FOUND;
  const char* type = not_modified ? nullptr : "text/plain; charset=utf-8";
  bool ok = lws_add_http_common_headers(wsi, status, type, body.size(), &p, end) == 0 &&
            end - p > static_cast<std::ptrdiff_t>(headers.size());
  if (ok) {
    std::copy(headers.begin(), headers.end(), p);
    p += headers.size();
  }
  if (!ok || lws_finalize_write_http_header(wsi, start, &p, end) != 0) return -1;
  if (!body.empty()) {
    std::copy(body.begin(), body.end(), start);
    if (lws_write(wsi, start, body.size(), LWS_WRITE_HTTP_FINAL) < 0) return -1;
  }
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

void HttpServer::start_long_poll(Exchange& exchange, uint64_t session_id, int maxev, const json& credentials) {
  auto it = channels_.find(session_id);
  bool known = false;
  try {
    known = handler_.touch_session(session_id, credentials);
  } catch (const ApiException& e) {
    respond(exchange, 403, make_error(e.code(), e.what(), {}, session_id));
    return;
  }
  if (!known || it == channels_.end()) {
    respond(exchange, 404, make_error(ApiError::kSessionNotFound, "No such session " + std::to_string(session_id)));
    return;
  }
  std::shared_ptr<Channel> channel = it->second;
  if (!channel->events_.empty()) {
    respond(exchange, 200, channel->take(maxev));
    return;
  }
  if (channel->poll_ != nullptr)  // one poll at a time: the older one returns empty-handed
    respond(*channel->poll_, 200, Channel::keepalive(channel->poll_maxev_));
  channel->poll_ = &exchange;
  channel->poll_maxev_ = maxev;
  exchange.poll_channel = channel;
  exchange.poll_timer = std::make_unique<UvTimer>(loop_);
  exchange.poll_timer->start(static_cast<uint64_t>(limits_.long_poll_timeout_s) * 1000, 0, [this, &exchange, maxev] {
    respond(exchange, 200, Channel::keepalive(maxev));
  });
  lws_set_timeout(exchange.wsi, NO_PENDING_TIMEOUT, 0);
}

void HttpServer::respond(Exchange& exchange, int status, const json& body) {
  if (exchange.responded) return;
  if (exchange.poll_channel) {
    if (exchange.poll_channel->poll_ == &exchange) exchange.poll_channel->poll_ = nullptr;
    exchange.poll_channel.reset();
    if (exchange.poll_timer) exchange.poll_timer->stop();
  }
  exchange.responded = true;
  exchange.status = status;
  exchange.response = body.dump();
  lws_callback_on_writable(exchange.wsi);
}

int HttpServer::on_writable(lws* wsi, Exchange& exchange) {
  if (!exchange.responded) return 0;
  if (!exchange.headers_sent) {
    std::vector<unsigned char> buffer(LWS_PRE + 2048);
    unsigned char* start = buffer.data() + LWS_PRE;
    unsigned char* p = start;
    unsigned char* end = buffer.data() + buffer.size() - 1;
    auto add = [&](const char* name, const std::string& value) {
      return lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(name),
                                         reinterpret_cast<const unsigned char*>(value.c_str()),
                                         static_cast<int>(value.size()), &p, end) == 0;
    };
    bool ok = lws_add_http_common_headers(wsi, static_cast<unsigned int>(exchange.status),
                                          exchange.status == 204 ? nullptr : "application/json",
                                          exchange.response.size(), &p, end) == 0;
    ok = ok && add("access-control-allow-origin:", exchange.origin.empty() ? "*" : exchange.origin);
    ok = ok && add("vary:", "Origin");
    ok = ok && add("cache-control:", "no-store");
    if (exchange.method == Method::kOptions) {
      ok = ok && add("access-control-allow-methods:", "GET, POST, OPTIONS");
      ok = ok && add("access-control-allow-headers:",
                     exchange.request_headers.empty() ? "Content-Type" : exchange.request_headers);
      ok = ok && add("access-control-max-age:", "86400");
    }
    if (!ok || lws_finalize_write_http_header(wsi, start, &p, end) != 0) return -1;
    exchange.headers_sent = true;
    if (!exchange.response.empty()) {
      lws_callback_on_writable(wsi);
      return 0;
    }
  } else {
    std::vector<unsigned char> buffer(LWS_PRE + exchange.response.size());
    std::copy(exchange.response.begin(), exchange.response.end(), buffer.begin() + LWS_PRE);
    if (lws_write(wsi, buffer.data() + LWS_PRE, exchange.response.size(), LWS_WRITE_HTTP_FINAL) < 0)
      return -1;
  }
  forget(wsi);
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

}  // namespace junction::signaling
