#pragma once
// Media workers: N threads, each running its own GLib main context, because that is where
// libnice delivers packets and timers. A PeerConnection and everything it touches (ICE agent,
// DTLS, SRTP, RTCP state, the plugin's forwarding state for its room) live on exactly one worker,
// so the hot path takes no locks (DESIGN.md §3).
#include <glib.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace junction::transports {

class MediaWorker {
 public:
  explicit MediaWorker(int index);
  ~MediaWorker();  // stops the loop and joins the thread
  MediaWorker(const MediaWorker&) = delete;
  MediaWorker& operator=(const MediaWorker&) = delete;

  // Runs `task` on this worker's thread. Thread-safe; tasks run in the order posted.
  void post(std::function<void()> task);
  // Runs `task` on the worker and waits for it (control-plane setup and teardown only).
  void run_sync(const std::function<void()>& task);
  bool on_this_thread() const { return std::this_thread::get_id() == thread_id_; }

  GMainContext* context() const { return context_; }
  int index() const { return index_; }

 private:
  int index_;
  GMainContext* context_;
  GMainLoop* loop_;
  std::thread thread_;
  std::thread::id thread_id_;
};

class MediaWorkers {
 public:
  explicit MediaWorkers(int count);
  // The worker for an affinity key (a room id, a handle id): the same key, the same worker.
  MediaWorker& for_key(uint64_t key);
  std::size_t size() const { return workers_.size(); }
  MediaWorker& at(std::size_t i) { return *workers_.at(i); }

 private:
  std::vector<std::unique_ptr<MediaWorker>> workers_;
};

// The worker whose thread is calling, or null on any other thread.
MediaWorker* current_worker();

}  // namespace junction::transports
