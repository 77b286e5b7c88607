#pragma once
// Event push: what happens to sessions and handles (created, attached, webrtcup, media, hangup,
// detached, plugin events, ...) is POSTed as JSON arrays, in batches, to an HTTP collector
// (`event_push_url`), in the shape of Janus's event handlers: {emitter, type, timestamp,
// session_id, handle_id, opaque_id, event}. The control loop only enqueues; one thread of its
// own does the HTTP. The queue is bounded: when the collector is slow or down, new events are
// dropped and counted, never waited for.
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace junction::gateway {

// Janus's event-handler type bits.
enum class EventType : int { kSession = 1, kHandle = 2, kJsep = 8, kWebrtc = 16, kMedia = 32, kPlugin = 64 };

class EventPusher {
 public:
  struct Options {
    std::string url;                  // http://host[:port]/path (plain HTTP only)
    std::string emitter = "Junction"; // the server name, in every event
    std::size_t max_queue = 10000;    // events waiting beyond this are dropped
    std::size_t max_batch = 100;      // events per POST
    std::chrono::milliseconds timeout{5000};  // connect, send and answer, per POST
  };
  // Throws std::invalid_argument if the URL is not http://host[:port][/path].
  explicit EventPusher(Options options);
  ~EventPusher();  // sends what is queued (bounded by the timeout), then stops
  EventPusher(const EventPusher&) = delete;
  EventPusher& operator=(const EventPusher&) = delete;

  // Queues one event. Thread-safe, never blocks on the network. False if it was dropped.
  bool publish(EventType type, uint64_t session_id, uint64_t handle_id, const std::string& opaque_id,
               nlohmann::json event);

  struct Counts {
    uint64_t queued, sent, dropped, failed_posts;
  };
  Counts counts() const;
  std::size_t queue_size() const;

 private:
  void run();
  bool post(const std::string& body);

  Options options_;
  std::string host_, path_;
  int port_ = 80;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<nlohmann::json> queue_;  // guarded by mutex_
  bool stopping_ = false;             // guarded by mutex_
  std::atomic<uint64_t> sent_{0}, dropped_{0}, failed_posts_{0};
  std::thread thread_;
};

}  // namespace junction::gateway
