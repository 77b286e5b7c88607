#pragma once
// One libwebsockets context run by our libuv control loop (a "foreign loop" for lws), and the
// listening vhosts the transports add to it.
#include <libwebsockets.h>
#include <uv.h>

#include <string>

namespace junction::signaling {

class LwsService {
 public:
  explicit LwsService(uv_loop_t* loop);
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

 private:
  lws_context* context_ = nullptr;
  bool destroy_started_ = false;
  void* foreign_loops_[1];
};

}  // namespace junction::signaling
