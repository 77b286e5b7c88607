#pragma once
// One thread driving many GMainContexts with epoll: the media worker's own context plus one per
// PeerConnection (its libnice agent, sockets and timers).
//
// Why not one context for everything: on every wakeup GLib's loop walks every source of the
// context (prepare, check) and poll()s every fd it has. With all PeerConnections of a worker in
// one context, each arriving packet cost O(PeerConnections) before any media work started (a
// third of the server's CPU at 300 audio participants). Here epoll says which contexts have a
// ready fd or a due timer, and only those run GLib's prepare/query/check/dispatch sequence, each
// over the handful of sources of one PeerConnection.
//
// Contexts are created with G_MAIN_CONTEXT_FLAGS_OWNERLESS_POLLING, so that attaching a source
// (a timer, a task) to a context that is waiting here wakes it even from this same thread.
// Every method must be called on the thread that calls run().
#include <glib.h>

#include <cstdint>
#include <queue>
#include <unordered_map>
#include <utility>
#include <vector>

namespace junction::transports {

class ContextLoop {
 public:
  ContextLoop();
  ~ContextLoop();  // releases every context still here
  ContextLoop(const ContextLoop&) = delete;
  ContextLoop& operator=(const ContextLoop&) = delete;

  // A new context, acquired by this thread and driven by this loop until retire().
  GMainContext* create();
  // Stops driving `context` once nothing is left in it (libnice closes sockets and finishes
  // its teardown on the context after its agent is released), at the latest after a grace time.
  void retire(GMainContext* context);

  void run();   // until quit()
  void quit();  // from a callback of this loop
  // Runs what is ready now, without waiting, until nothing is or `max_rounds` passed.
  void drain(int max_rounds);

  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    uint64_t id = 0;
    GMainContext* context = nullptr;
    std::vector<GPollFD> fds;  // from the last query; revents filled from epoll
    int n_fds = 0;
    std::vector<std::pair<int, gushort>> registered;  // (fd, events) given to epoll
    gint max_priority = 0;
    int64_t deadline = -1;  // monotonic µs of the earliest timer, -1 none
    bool ready = false;     // queued in ready_
    bool retired = false;
    int64_t retire_by = 0;
    bool finished = false;  // retired and empty: dropped at the start of the next round
    guint marked_upto = 0;  // sources up to this id were made recursive
  };

  bool round(bool may_wait);  // true when some context ran
  void run_entry(Entry& e);
  void prepare_and_query(Entry& e);
  void sync_epoll(Entry& e);
  void allow_recursion(Entry& e);
  void unregister_all(Entry& e);
  void mark_ready(Entry& e);
  void drop_finished();
  Entry* find(uint64_t id);

  int epoll_fd_;
  bool quit_ = false;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Entry> entries_;
  std::unordered_map<GMainContext*, uint64_t> by_context_;
  std::vector<uint64_t> fd_owner_;  // fd -> entry id whose registration epoll holds (0: none)
  std::vector<uint64_t> ready_;
  std::vector<uint64_t> running_;
  using Deadline = std::pair<int64_t, uint64_t>;  // (monotonic µs, entry id), stale ones skipped
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> timers_;
  bool has_finished_ = false;
};

}  // namespace junction::transports
