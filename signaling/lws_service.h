#pragma once
// One libwebsockets context run by our libuv control loop (a "foreign loop" for lws), and the
// listening vhosts the transports add to it. With TLS files every vhost speaks TLS (OpenSSL).
#include <libwebsockets.h>
#include <uv.h>

#include <list>
#include <string>
#include <string_view>

namespace junction::signaling {

struct TlsFiles {
  std::string certificate, private_key;  // PEM files; both empty: no TLS
  bool enabled() const { return !certificate.empty(); }
};

class LwsService {
 public:
  explicit LwsService(uv_loop_t* loop, TlsFiles tls = {});
  ~LwsService();
  LwsService(const LwsService&) = delete;
  LwsService& operator=(const LwsService&) = delete;

  // Listens on bind:port. `protocols` and `mounts` must outlive the service. Throws
  // std::runtime_error naming the address when it cannot listen (e.g. the port is taken).
  lws_vhost* add_vhost(const std::string& name, const std::string& bind, int port,
                       const lws_protocols* protocols, const lws_http_mount* mounts);

  // Stops every listener and connection. Call it, let the loop run (lws closes its handles),
  // then call it again to free the context; the destructor does the second call if needed.
  void destroy();
  lws_context* context() { return context_; }
  // The URL scheme listeners show in the log: "ws"/"http", or "wss"/"https" with TLS.
  std::string scheme(std::string_view plain) const { return std::string(plain) + (tls_.enabled() ? "s" : ""); }

 private:
  TlsFiles tls_;
  std::list<std::string> vhost_strings_;  // names and addresses lws points to (list: stable addresses)
  lws_context* context_ = nullptr;
  bool destroy_started_ = false;
  void* foreign_loops_[1];
};

}  // namespace junction::signaling
