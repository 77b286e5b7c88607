#pragma once
// The Janus JSON API over HTTP (libcurl), as the load generator needs it: one session (the load
// generator makes one per participant, as real clients have), its handles, plugin messages with
// an optional JSEP, and one long-poll thread that routes every event to its handle. The same
// code drives Junction and Debian's janus (both serve /janus).
//
// Requests block the calling thread (several setup threads may call at once: each request has
// its own curl handle). Every wait is bounded: requests by `request_timeout`, event waits by
// their own timeout; the long poll is aborted by stop().
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

namespace junction::loadgen {

// A plain GET (e.g. a metrics page); returns the body, throws on failure or a status other than 200.
std::string http_get(const std::string& url, std::chrono::milliseconds timeout);

class JanusHttp {
 public:
  using json = nlohmann::json;
  // base: "http://127.0.0.1:8088/janus"
  explicit JanusHttp(std::string base, std::chrono::milliseconds request_timeout = std::chrono::seconds(10));
  ~JanusHttp();  // stop()s
  JanusHttp(const JanusHttp&) = delete;
  JanusHttp& operator=(const JanusHttp&) = delete;

  // Creates the session and starts the long-poll thread (with a keepalive every 15 s). Throws
  // std::runtime_error when the server refuses.
  void create_session();
  uint64_t attach(const std::string& plugin);
  // A plugin message: returns the synchronous reply (`success` with plugindata, or `ack`).
  // Throws on a transport failure or a Janus `error`.
  json message(uint64_t handle, const json& body, const json& jsep = nullptr);
  // Waits for the next event of `handle` for which `match` is true (events before it that do
  // not match are kept for later waits). nullopt on timeout.
  std::optional<json> wait_event(uint64_t handle, const std::function<bool(const json&)>& match,
                                 std::chrono::milliseconds timeout);
  // Called on the poll thread for every trickle event of `handle` (a candidate or completed).
  void on_trickle(uint64_t handle, std::function<void(const json& candidate)> callback);
  void detach(uint64_t handle);
  // Destroys the session (the server closes every handle) and stops the poll thread.
  void destroy_session();
  void stop();
  // destroy_session() in two halves, for many sessions at once: the first returns without
  // waiting for the poll thread (which notices within about a second), stop() then joins it.
  void destroy_session_async();

  uint64_t session() const { return session_; }

 private:
  json post(const std::string& path, json body);
  void poll_loop();
  void dispatch(const json& event);

  std::string base_;
  std::chrono::milliseconds request_timeout_;
  uint64_t session_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread poller_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::unordered_map<uint64_t, std::deque<json>> events_;  // per handle, bounded
  std::unordered_map<uint64_t, std::function<void(const json&)>> trickle_;
  std::atomic<uint64_t> next_tx_{1};
};

}  // namespace junction::loadgen
