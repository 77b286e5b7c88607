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
#include "core/gateway/auth.h"
#include "core/gateway/event_push.h"
#include "core/gateway/plugin.h"
#include "core/gateway/plugin_host.h"
#include "core/gateway/session.h"

namespace junction::gateway {

// final: nothing derives from the gateway, and its bases' destructors are protected (no one
// deletes it through them), so it needs no virtual destructor; final says so to the compiler
// (-Wnon-virtual-dtor) and to readers.
class Gateway final : public plugin::Services, private SessionObserver {
 public:
  Gateway(uv_loop_t* loop, const Config& config);
  ~Gateway();

  PluginHost& plugins() { return plugins_; }
  const Config& config() const { return config_; }
  uv_loop_t* loop() { return loop_; }
  Auth& auth() { return auth_; }

  // --- operator controls (admin API) ---
  // `create` gets 472 while false.
  void set_accepting_new_sessions(bool accept) { accepting_ = accept; }
  bool accepting_new_sessions() const { return accepting_; }
  // The global idle timeout (seconds, 0 = never); sessions with their own keep theirs.
  void set_session_timeout(int seconds) { config_.session_timeout = seconds; }
  const std::unordered_map<uint64_t, std::unique_ptr<Session>>& sessions() const { return sessions_; }

  // Lifetime counts, for /metrics.
  struct Counts {
    uint64_t sessions_created = 0, sessions_destroyed = 0, sessions_timed_out = 0;
    uint64_t handles_attached = 0, handles_detached = 0;
  };
  const Counts& counts() const { return counts_; }

  // --- PeerConnection statistics (control loop; blocks briefly on the media workers) ---
  // PeerConnection::stats() of one handle's PeerConnection; null when it has none.
  nlohmann::json pc_stats(const Handle& handle);
  struct PcStats {
    uint64_t handle_id;
    int worker;                // media worker index
    bool webrtc_up;
    std::shared_ptr<const transports::PeerConnection> pc;  // identifies this PeerConnection
    nlohmann::json stats;      // PeerConnection::stats()
  };
  // Every live PeerConnection's statistics, gathered with one run_sync per media worker.
  std::vector<PcStats> all_pc_stats();
  std::size_t media_worker_count() const;
  // Each media worker's in-server forwarding latency histogram (transports/forwarding_latency.h).
  std::vector<transports::ForwardingLatency::Snapshot> forwarding_latency() const;

  // Null unless event_push_url is set.
  const EventPusher* event_pusher() const { return events_.get(); }

  // --- sessions and handles (control loop) ---
  Session* find_session(uint64_t id);
  // `requested_id` 0: a random id. Throws ApiException 468 (taken) or 472 (limit, not accepting).
  Session& create_session(uint64_t requested_id, std::shared_ptr<signaling::ClientConnection> connection);
  // Detaches every handle and forgets the session. As with Janus, the client is not sent a
  // `detached` per handle (janus.js, over HTTP, would answer one with a `detach` for a session
  // that is gone), except at shutdown (`notify_handles`), where it is the last word it gets.
  void destroy_session(uint64_t id, std::string_view why, bool notify_handles = false);
  // Throws ApiException 460 (no such plugin) or 461 (the plugin refused).
  Handle& attach(Session& session, std::string_view package, std::string opaque_id);
  // Tells the plugin, forgets the handle and, when `notify`, sends `detached` to the client
  // (after the reply of the request being handled, as Janus orders them).
  void detach(Session& session, uint64_t handle_id, bool notify);
  // Moves a session's events to `connection` (claim) or, with null, parks it for reclaiming.
  void rebind(Session& session, std::shared_ptr<signaling::ClientConnection> connection);
  std::size_t session_count() const { return sessions_.size(); }

  // --- WebRTC (gateway_media.cpp) ---
  // Checks the client's jsep, creates or updates the handle's PeerConnection, and returns the
  // jsep the plugin sees (with "update": true on renegotiation). Throws ApiException 465/469.
  // `body`: the message the jsep came with (it may decide the PeerConnection's media worker).
  nlohmann::json apply_remote_jsep(Handle& handle, const nlohmann::json& jsep, const nlohmann::json& body);
  // The plugin's jsep with the transport's attributes added; null (and a log line) if unusable.
  nlohmann::json complete_local_jsep(Session& session, Handle& handle, const nlohmann::json& jsep);
  // A trickled candidate (or {"completed": true}) from the client.
  void trickle(Handle& handle, const nlohmann::json& candidate);
  // Closes the handle's PeerConnection; the client gets `hangup` with `reason` if `notify`.
  void hangup(Session& session, Handle& handle, const std::string& reason, bool notify);

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
  std::string state_dir() const override { return config_.state_dir; }
  void relay_rtp(plugin::HandleId handle, int mindex, std::span<const uint8_t> packet) override;
  void send_keyframe_request(plugin::HandleId handle, int mindex) override;
  void send_remb(plugin::HandleId handle, uint64_t bitrate_bps) override;
  void relay_rtp_batch(std::span<const plugin::OutgoingRtp> packets) override;
  void close_pc(plugin::HandleId handle) override;
  void relay_data(plugin::HandleId handle, const media::DataMessage& message) override;

 private:
  struct Deferred {  // crosses from any thread to the control loop
    enum class Kind { kEvent, kEndSession, kCall } kind;
    plugin::HandleId handle;
    std::string transaction;
    nlohmann::json data, jsep;
    std::function<void()> call;
  };
  void drain_deferred();
  void on_client_event(const Session& session, const nlohmann::json& event) override;
  void publish(EventType type, const Session& session, uint64_t handle_id, nlohmann::json event);
  Handle* find_handle(uint64_t handle_id, Session** session = nullptr);
  void create_pc(Handle& handle, const nlohmann::json* body = nullptr);
  transports::PeerConnection::Events pc_events(uint64_t handle_id);
  // Runs `work(session, handle)` on the control loop if the handle still exists then.
  void on_handle(uint64_t handle_id, std::function<void(Session&, Handle&)> work);

  uv_loop_t* loop_;
  Config config_;
  PluginHost plugins_;
  Auth auth_;
  bool accepting_ = true;
  Counts counts_;
  std::unique_ptr<EventPusher> events_;
  std::unordered_map<uint64_t, std::unique_ptr<Session>> sessions_;
  std::unordered_map<uint64_t, uint64_t> handle_sessions_;  // handle id -> session id

  std::mutex deferred_mutex_;
  std::deque<Deferred> deferred_;  // guarded by deferred_mutex_
  UvAsync wake_;
  UvTimer sweep_timer_;
  std::map<plugin::TimerId, std::unique_ptr<UvTimer>> timers_;
  plugin::TimerId next_timer_ = 1;
  bool shutting_down_ = false;

  std::shared_ptr<transports::DtlsCertificate> certificate_;
  transports::PeerConnectionConfig pc_config_;
  // Declared last, destroyed first: the workers finish (and delete their PeerConnections)
  // while everything above still exists.
  std::unique_ptr<transports::MediaWorkers> workers_;
  // Which worker holds a handle's PeerConnection, for relay_data() and relay_rtp_batch() from
  // other threads.
  std::mutex data_routes_mutex_;
  std::unordered_map<uint64_t, transports::MediaWorker*> data_routes_;  // guarded by the mutex
};

}  // namespace junction::gateway
