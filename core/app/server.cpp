#include "core/app/server.h"

#include <malloc.h>

#include <csignal>
#include <memory>
#include <thread>

#include "core/base/log.h"
#include "core/base/uv_handles.h"
#include "core/base/version.h"
#include "core/gateway/admin_router.h"
#include "core/gateway/api_router.h"
#include "core/gateway/gateway.h"
#include "signaling/admin_http_server.h"
#include "signaling/admin_ws_server.h"
#include "signaling/http_server.h"
#include "signaling/lws_service.h"
#include "signaling/ws_server.h"

namespace junction {
namespace {

// Signals arrive on the loop as ordinary callbacks.
class UvSignal : public UvHandle<uv_signal_t> {
 public:
  UvSignal(uv_loop_t* loop, int signum, std::function<void(int)> callback) : callback_(std::move(callback)) {
    uv_signal_init(loop, handle_);
    mark_initialised();
    uv_signal_start(handle_, [](uv_signal_t* s, int n) {
      if (auto* self = static_cast<UvSignal*>(s->data)) self->callback_(n);
    }, signum);
  }

 private:
  std::function<void(int)> callback_;
};

// Runs the loop's pending callbacks (closes, lws teardown) for a short while without blocking.
void settle(uv_loop_t* loop) {
  for (int i = 0; i < 200 && uv_run(loop, UV_RUN_NOWAIT) != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

}  // namespace

int run_server(const Config& config) {
  auto logger = log::get("core");
  std::signal(SIGPIPE, SIG_IGN);
  uv_loop_t loop;
  uv_loop_init(&loop);
  // Signal handlers come first: a SIGTERM that arrives while the server is still starting (its
  // ports may already accept connections) is held by libuv and handled once the loop runs,
  // instead of killing the process.
  std::function<void(int)> on_signal;
  UvSignal sigint(&loop, SIGINT, [&on_signal](int signum) {
    if (on_signal) on_signal(signum);
  });
  UvSignal sigterm(&loop, SIGTERM, [&on_signal](int signum) {
    if (on_signal) on_signal(signum);
  });

  auto gateway = std::make_unique<gateway::Gateway>(&loop, config);
  std::size_t plugin_count = gateway->plugins().load_folder(config.plugins_dir, *gateway, config.plugins);
  logger->info("{} plugin(s) loaded from {}", plugin_count, config.plugins_dir);
  auto router = std::make_unique<gateway::ApiRouter>(*gateway);
  auto admin = std::make_unique<gateway::AdminRouter>(*gateway, *router);

  auto lws = std::make_unique<signaling::LwsService>(
      &loop, signaling::TlsFiles{config.tls_certificate, config.tls_private_key});
  std::unique_ptr<signaling::WsServer> ws;
  std::unique_ptr<signaling::HttpServer> http;
  auto max_message = static_cast<std::size_t>(config.max_message_size);
  if (config.ws_port != 0)
    ws = std::make_unique<signaling::WsServer>(*lws, *router, config.bind, config.ws_port,
                                               signaling::WsServer::Limits{max_message, 8 * max_message});
  if (config.http_port != 0)
    http = std::make_unique<signaling::HttpServer>(
        *lws, *router, &loop, config.bind, config.http_port,
        signaling::HttpServer::Limits{max_message, config.long_poll_timeout}, config.web_dir);
  std::unique_ptr<signaling::AdminHttpServer> admin_http;
  std::unique_ptr<signaling::AdminWsServer> admin_ws;
  if (config.admin_port != 0)
    admin_http = std::make_unique<signaling::AdminHttpServer>(*lws, *admin, config.bind, config.admin_port, max_message);
  if (config.admin_ws_port != 0)
    admin_ws = std::make_unique<signaling::AdminWsServer>(*lws, *admin, config.bind, config.admin_ws_port,
                                                          signaling::WsServer::Limits{max_message, 8 * max_message});
  if (gateway->auth().client_auth_required())
    logger->info("client API authentication: {}{}{}", config.api_secret.empty() ? "" : "api_secret",
                 !config.api_secret.empty() && config.token_auth ? " or " : "", config.token_auth ? "stored tokens" : "");
  if ((admin_http || admin_ws) && config.admin_secret.empty())
    logger->warn("the admin API asks for no secret (admin_secret is empty): keep it on a trusted address");

  // glibc keeps what the control loop freed in its heap (a burst of joins, the plugins' start-up):
  // 18 of the main arena's 20 MB were free after a 50-subscriber fan-out's setup, and
  // malloc_trim(0) gave 4.3 MB of touched pages back to the system (BENCHMARKS.md, "Where
  // Junction's memory goes"). Trimming now and then from this loop costs the media workers nothing
  // per packet (it only briefly takes each arena's lock; their hot path does not allocate).
  // The first trim runs as soon as the loop starts, so what start-up left free is given back
  // before the first session rather than in the middle of a call.
  UvTimer trim_timer(&loop);
  trim_timer.start(0, 10'000, [] { malloc_trim(0); });

  // Shutdown: tell every client (detached), flush what is queued, close the sockets, stop.
  bool stopping = false;
  UvTimer drain_timer(&loop);
  auto clock_start = std::chrono::steady_clock::now();
  auto begin_shutdown = [&](int signum) {
    if (stopping) {
      logger->warn("second signal {}: exiting now", signum);
      std::_Exit(1);
    }
    stopping = true;
    trim_timer.stop();
    logger->info("signal {}: shutting down (sessions: {})", signum, gateway->session_count());
    gateway->shutdown();
    if (http) http->flush_polls();
    if (ws) ws->close_all();
    if (admin_ws) admin_ws->close_all();
    clock_start = std::chrono::steady_clock::now();
    drain_timer.start(20, 20, [&] {
      bool drained = (!ws || ws->connection_count() == 0) && (!admin_ws || admin_ws->connection_count() == 0);
      if (drained || std::chrono::steady_clock::now() - clock_start > std::chrono::seconds(2)) {
        drain_timer.stop();
        uv_stop(&loop);
      }
    });
  };
  on_signal = begin_shutdown;

  std::string ws_scheme = lws->scheme("ws"), http_scheme = lws->scheme("http");
  logger->info("Junction {} ready: WebSocket {}://{}:{} | HTTP {}://{}:{}/janus | web demo {}://{}:{}/",
               kVersionString, ws_scheme, config.bind, config.ws_port, http_scheme, config.bind, config.http_port,
               http_scheme, config.bind, config.http_port);
  uv_run(&loop, UV_RUN_DEFAULT);

  // lws closes its sockets and calls back our transports while the loop turns; only then do
  // the transports, the router and the gateway go away.
  sigint.close();
  sigterm.close();
  drain_timer.close();
  trim_timer.close();
  lws->destroy();
  settle(&loop);
  lws->destroy();  // second step: frees the context once its handles have closed
  settle(&loop);
  admin_ws.reset();
  admin_http.reset();
  http.reset();
  ws.reset();
  lws.reset();
  admin.reset();
  router.reset();
  gateway.reset();
  settle(&loop);
  if (uv_loop_close(&loop) != 0) logger->warn("the control loop still had open handles at exit");
  logger->info("stopped");
  return 0;
}

}  // namespace junction
