#pragma once
// The gateway: owns sessions and handles, carries events from plugins to clients, and offers
// plugins their services (plugin.h). The core API verbs that drive it are in api_router.h.
#include <uv.h>

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/base/config.h"
#include "core/base/uv_handles.h"
#include "core/gateway/plugin.h"
#include "core/gateway/plugin_host.h"
#include "core/gateway/session.h"

namespace junction::gateway {

class Gateway : public plugin::Services {
 public:
  Gateway(uv_loop_t* loop, const Config& config);
  ~Gateway();

  PluginHost& plugins() { return plugins_; }
  const Config& config() const { return config_; }
  uv_loop_t* loop() { return loop_; }

  // --- sessions and handles (control loop) ---
  Session* find_session(uint64_t id);
  // `requested_id` 0: a random id. Throws ApiException 468 (taken) or 472 (limit, not accepting).
  Session& create_session(uint64_t requested_id, std::shared_ptr<signaling::ClientConnection> connection);
  // Detaches every handle (each gets `detached`) and forgets the session.
  void destroy_session(uint64_t id, std::string_view why);
  // Throws ApiException 460 (no such plugin) or 461 (the plugin refused).
  Handle& attach(Session& session, std::string_view package, std::string opaque_id);
  // Tells the plugin, forgets the handle and, when `notify`, sends `detached` to the client
  // (after the reply of the request being handled, as Janus orders them).
  void detach(Session& session, uint64_t handle_id, bool notify);
  // Moves a session's events to `connection` (claim) or, with null, parks it for reclaiming.
  void rebind(Session& session, std::shared_ptr<signaling::ClientConnection> connection);
  std::size_t session_count() const { return sessions_.size(); }

  // Runs `work` on the control loop after the current request's reply has been queued.
  void post(std::function<void()> work);

  // Expires idle sessions and unclaimed ones. Runs on a 250 ms timer; public for tests.
  void sweep();

  // Graceful shutdown: every handle gets `detached`, every session goes away, plugins stop.
  void shutdown();

  // --- plugin::Services ---
  void push_event(plugin::HandleId handle, std::string_view transaction, nlohmann::json data,
                  nlohmann::json jsep) override;
  void end_session(plugin::HandleId handle) override;
  plugin::TimerId start_timer(std::chrono::milliseconds delay, bool repeat,
                              std::function<void()> callback) override;
  void cancel_timer(plugin::TimerId timer) override;
  void log(plugin::LogLevel level, std::string_view message) override;
  bool log_enabled(plugin::LogLevel level) const override;

 private:
  struct Deferred {  // crosses from any thread to the control loop
    enum class Kind { kEvent, kEndSession, kCall } kind;
    plugin::HandleId handle;
    std::string transaction;
    nlohmann::json data, jsep;
    std::function<void()> call;
  };
  void drain_deferred();

  uv_loop_t* loop_;
  Config config_;
  PluginHost plugins_;
  std::unordered_map<uint64_t, std::unique_ptr<Session>> sessions_;
  std::unordered_map<uint64_t, uint64_t> handle_sessions_;  // handle id -> session id

  std::mutex deferred_mutex_;
  std::deque<Deferred> deferred_;  // guarded by deferred_mutex_
  UvAsync wake_;
  UvTimer sweep_timer_;
  std::map<plugin::TimerId, std::unique_ptr<UvTimer>> timers_;
  plugin::TimerId next_timer_ = 1;
  bool shutting_down_ = false;
};

}  // namespace junction::gateway
