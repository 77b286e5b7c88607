#include "transports/sctp_stack.h"

#include <usrsctp.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <unordered_map>


namespace junction::transports::sctp_stack {
namespace {

constexpr guint kTickMs = 10;

std::mutex g_routes_mutex;
std::unordered_map<uint64_t, MediaWorker*> g_routes;  // guarded by g_routes_mutex
std::atomic<uint64_t> g_next_id{1};
std::atomic<int64_t> g_last_tick_ms{0};

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct WorkerState {
  std::unordered_map<uint64_t, SctpTransport*> transports;
  guint tick_source = 0;
};
WorkerState& worker_state() {
  thread_local WorkerState state;
  return state;
}

// Advances usrsctp's clock by the time since anyone last did, at most once per tick period.
gboolean tick(gpointer) {
  int64_t now = now_ms();
  int64_t last = g_last_tick_ms.load();
  if (now - last >= static_cast<int64_t>(kTickMs) && g_last_tick_ms.compare_exchange_strong(last, now))
    usrsctp_handle_timers(static_cast<uint32_t>(now - last));
  return G_SOURCE_CONTINUE;
}

void init_once(OutputFunction output) {
  static std::once_flag once;
  std::call_once(once, [output] {
    usrsctp_init_nothreads(0, output, nullptr);
    // WebRTC peers (Chromium's dcsctp, aiortc) do not do ECN or ASCONF on data channels.
    usrsctp_sysctl_set_sctp_ecn_enable(0);
    usrsctp_sysctl_set_sctp_asconf_enable(0);
    usrsctp_sysctl_set_sctp_auth_enable(0);
    g_last_tick_ms = now_ms();
  });
}

}  // namespace

uint64_t attach(SctpTransport* transport, OutputFunction output) {
  init_once(output);
  MediaWorker* worker = current_worker();
  uint64_t id = g_next_id++;
  WorkerState& state = worker_state();
  state.transports[id] = transport;
  {
    std::lock_guard lock(g_routes_mutex);
    g_routes[id] = worker;
  }
  if (state.tick_source == 0 && worker != nullptr) {
    GSource* source = g_timeout_source_new(kTickMs);
    g_source_set_callback(source, tick, nullptr, nullptr);
    state.tick_source = g_source_attach(source, worker->context());
    g_source_unref(source);
  }
  return id;
}

void detach(uint64_t id) {
  WorkerState& state = worker_state();
  state.transports.erase(id);
  {
    std::lock_guard lock(g_routes_mutex);
    g_routes.erase(id);
  }
  if (state.transports.empty() && state.tick_source != 0) {
    if (MediaWorker* worker = current_worker())
      if (GSource* s = g_main_context_find_source_by_id(worker->context(), state.tick_source)) g_source_destroy(s);
    state.tick_source = 0;
  }
}

SctpTransport* local(uint64_t id) {
  auto& transports = worker_state().transports;
  auto it = transports.find(id);
  return it == transports.end() ? nullptr : it->second;
}

MediaWorker* owner(uint64_t id) {
  std::lock_guard lock(g_routes_mutex);
  auto it = g_routes.find(id);
  return it == g_routes.end() ? nullptr : it->second;
}

}  // namespace junction::transports::sctp_stack
