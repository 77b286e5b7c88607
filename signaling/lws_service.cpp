#include "signaling/lws_service.h"

#include <arpa/inet.h>

#include <stdexcept>

#include "core/base/log.h"

namespace junction::signaling {
namespace {

void lws_log_emit(int level, const char* line) {
  static auto logger = log::get("lws");
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (level & LLL_ERR) logger->error("{}", text);
  else if (level & LLL_WARN) logger->warn("{}", text);
  else logger->debug("{}", text);
}

}  // namespace

LwsService::LwsService(uv_loop_t* loop, TlsFiles tls) : tls_(std::move(tls)) {
  lws_set_log_level(getenv("JUNCTION_LWS_DEBUG") ? (LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO | LLL_DEBUG) : (LLL_ERR | LLL_WARN), lws_log_emit);
  lws_context_creation_info info{};
  info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
                 LWS_SERVER_OPTION_VALIDATE_UTF8;
  if (tls_.enabled()) info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  foreign_loops_[0] = loop;
  info.foreign_loops = foreign_loops_;
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.count_threads = 1;
  context_ = lws_create_context(&info);
  if (context_ == nullptr) throw std::runtime_error("libwebsockets: cannot create its context");
}

LwsService::~LwsService() { destroy(); }

void LwsService::destroy() {
  if (context_ == nullptr) return;
  // On a foreign libuv loop lws tears down in two steps: the first call closes every handle,
  // and once the loop has run their close callbacks a second call frees the context.
  lws_context_destroy(context_);
  if (destroy_started_) context_ = nullptr;
  destroy_started_ = true;
}

lws_vhost* LwsService::add_vhost(const std::string& name, const std::string& bind, int port,
                                 const lws_protocols* protocols, const lws_http_mount* mounts) {
  lws_context_creation_info info{};
  // lws keeps these pointers for the vhost's lifetime (it does not copy them): keep the strings.
  info.vhost_name = vhost_strings_.emplace_back(name).c_str();
  info.port = port;
  info.iface = vhost_strings_.emplace_back(bind).c_str();
  info.protocols = protocols;
  info.mounts = mounts;
  // An IPv4 bind address listens on an IPv4 socket only.
  in_addr v4{};
  if (inet_pton(AF_INET, bind.c_str(), &v4) == 1) info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  info.options |= LWS_SERVER_OPTION_LIBUV;
  if (tls_.enabled()) {
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;  // lws reads it per vhost too
    info.ssl_cert_filepath = tls_.certificate.c_str();
    info.ssl_private_key_filepath = tls_.private_key.c_str();
  }
  lws_vhost* vhost = lws_create_vhost(context_, &info);
  if (vhost == nullptr)
    throw std::runtime_error(name + ": cannot listen on " + bind + ":" + std::to_string(port) +
                             (tls_.enabled() ? " (address in use or not available, or the TLS certificate and key were refused)"
                                             : " (address in use or not available)"));
  return vhost;
}

}  // namespace junction::signaling
