#pragma once
// Media workers: N threads, each driving GLib main contexts (that is where libnice delivers
// packets and timers): the worker's own (tasks, worker-wide timers) and one per PeerConnection
// (its ICE agent), all on one epoll (transports/context_loop.h). A PeerConnection and everything
// it touches (ICE agent, DTLS, SRTP, RTCP state, the plugin's forwarding state for its room) live
// on exactly one worker, so the hot path takes no locks (DESIGN.md §3).
#include <glib.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/media/payload_store.h"
#include "transports/forwarding_latency.h"

namespace junction::transports {

class ContextLoop;

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

  // The worker's own context: tasks and worker-wide timers.
  GMainContext* context() const { return context_; }
  // A context of its own for one PeerConnection's ICE agent, driven by this worker until
  // retire_peer_context(). Both on this worker's thread only.
  GMainContext* new_peer_context();
  void retire_peer_context(GMainContext* context);
  int index() const { return index_; }
  // Written by this worker's thread, readable from any (transports/forwarding_latency.h).
  ForwardingLatency& forwarding_latency() { return forwarding_latency_; }
  const ForwardingLatency& forwarding_latency() const { return forwarding_latency_; }
  // Payload bytes the NACK histories of this worker's PeerConnections share (worker thread only).
  media::PayloadStore& payload_store() { return payload_store_; }

 private:
  int index_;
  ForwardingLatency forwarding_latency_;
  media::PayloadStore payload_store_;  // keeps bytes as long as the longest NACK history (1 s)
  std::unique_ptr<ContextLoop> loop_;  // made and used on the worker's thread
  GMainContext* context_ = nullptr;
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
  const MediaWorker& at(std::size_t i) const { return *workers_.at(i); }

 private:
  std::vector<std::unique_ptr<MediaWorker>> workers_;
};

// The worker whose thread is calling, or null on any other thread.
MediaWorker* current_worker();

}  // namespace junction::transports
