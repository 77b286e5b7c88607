#include "transports/media_worker.h"

#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>

#include "core/base/log.h"
#include "transports/context_loop.h"

namespace junction::transports {
namespace {

thread_local MediaWorker* t_current = nullptr;

struct Task {
  std::function<void()> run;
};

// GLib's context lock orders post() before run_task(), but ThreadSanitizer cannot see it (GLib
// is not instrumented, its GMutex is a raw futex) and reports everything a task touches as a
// race. Taking this mutex on both sides makes the handoff visible to it. Tasks are control-plane
// work, so one uncontended lock each costs nothing that matters.
std::mutex g_handoff;

gboolean run_task(gpointer data) {
  auto* task = static_cast<Task*>(data);
  { std::lock_guard lock(g_handoff); }
  try {
    task->run();
  } catch (const std::exception& e) {
    // Tasks are control-plane setup; a failure is logged, never fatal for the worker.
    log::get("media")->error("task on media worker failed: {}", e.what());
  }
  return G_SOURCE_REMOVE;
}

void free_task(gpointer data) { delete static_cast<Task*>(data); }

}  // namespace

MediaWorker* current_worker() { return t_current; }

MediaWorker::MediaWorker(int index) : index_(index) {
  std::promise<std::thread::id> started;
  auto id = started.get_future();
  thread_ = std::thread([this, &started] {
    loop_ = std::make_unique<ContextLoop>();
    context_ = loop_->create();
    g_main_context_push_thread_default(context_);
    t_current = this;
    started.set_value(std::this_thread::get_id());
    loop_->run();
    // Let pending teardown callbacks run before the contexts go away.
    loop_->drain(1000);
    t_current = nullptr;
    g_main_context_pop_thread_default(context_);
    loop_.reset();
  });
  thread_id_ = id.get();
  log::get("media")->debug("media worker {} started", index_);
}

MediaWorker::~MediaWorker() {
  post([this] { loop_->quit(); });
  thread_.join();
}

GMainContext* MediaWorker::new_peer_context() {
  if (!on_this_thread()) throw std::logic_error("new_peer_context() off the media worker's thread");
  return loop_->create();
}

void MediaWorker::retire_peer_context(GMainContext* context) {
  if (!on_this_thread()) {  // a PeerConnection torn down from elsewhere (shutdown)
    post([this, context] { loop_->retire(context); });
    return;
  }
  loop_->retire(context);
}

void MediaWorker::post(std::function<void()> task) {
  // Always deferred (never run inline, even from the worker itself); attaching a source is
  // thread-safe and wakes the context.
  GSource* source = g_idle_source_new();
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  g_source_set_callback(source, run_task, new Task{std::move(task)}, free_task);
  { std::lock_guard lock(g_handoff); }  // after the task is written, before it can run
  g_source_attach(source, context_);
  g_source_unref(source);
}

void MediaWorker::run_sync(const std::function<void()>& task) {
  if (on_this_thread()) {
    task();
    return;
  }
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  post([&] {
    task();
    std::lock_guard lock(mutex);
    done = true;
    done_cv.notify_one();
  });
  std::unique_lock lock(mutex);
  done_cv.wait(lock, [&] { return done; });
}

MediaWorkers::MediaWorkers(int count) {
  for (int i = 0; i < std::max(1, count); ++i) workers_.push_back(std::make_unique<MediaWorker>(i));
}

MediaWorker& MediaWorkers::for_key(uint64_t key) {
  // Mix the key so that sequential ids spread evenly.
  uint64_t h = key * 0x9E3779B97F4A7C15ull;
  return *workers_[(h >> 32) % workers_.size()];
}

}  // namespace junction::transports
