#include "transports/context_loop.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "core/base/log.h"

namespace junction::transports {
namespace {

constexpr int kMaxEvents = 256;
constexpr int64_t kRetireGraceUs = 10 * G_USEC_PER_SEC;
// epoll's data carries the entry id and the fd: an event for a closed and reused fd is
// recognised by the fd's owner, an event for a dropped entry by its id.
constexpr int kFdBits = 24;
constexpr uint64_t kFdMask = (uint64_t{1} << kFdBits) - 1;

auto& logger() {
  static auto l = log::get("media");
  return l;
}

// GLib's G_IO_* and epoll's EPOLL* share their values for these bits on Linux.
constexpr uint32_t bit(auto flag) { return static_cast<uint32_t>(flag); }
static_assert(bit(G_IO_IN) == bit(EPOLLIN) && bit(G_IO_OUT) == bit(EPOLLOUT) && bit(G_IO_PRI) == bit(EPOLLPRI) &&
              bit(G_IO_ERR) == bit(EPOLLERR) && bit(G_IO_HUP) == bit(EPOLLHUP));
constexpr uint32_t kEventBits = bit(G_IO_IN) | bit(G_IO_OUT) | bit(G_IO_PRI) | bit(G_IO_ERR) | bit(G_IO_HUP);

}  // namespace

ContextLoop::ContextLoop() : epoll_fd_(epoll_create1(EPOLL_CLOEXEC)) {
  if (epoll_fd_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
}

ContextLoop::~ContextLoop() {
  for (auto& [id, e] : entries_) {
    g_main_context_release(e.context);
    g_main_context_unref(e.context);
  }
  close(epoll_fd_);
}

GMainContext* ContextLoop::create() {
  GMainContext* context = g_main_context_new_with_flags(G_MAIN_CONTEXT_FLAGS_OWNERLESS_POLLING);
  if (!g_main_context_acquire(context)) {
    g_main_context_unref(context);
    throw std::logic_error("a new GMainContext could not be acquired");
  }
  uint64_t id = next_id_++;
  Entry& e = entries_[id];
  e.id = id;
  e.context = context;
  e.fds.resize(4);
  by_context_[context] = id;
  prepare_and_query(e);
  return context;
}

void ContextLoop::retire(GMainContext* context) {
  auto it = by_context_.find(context);
  if (it == by_context_.end()) return;
  Entry* e = find(it->second);
  if (e == nullptr || e->retired) return;
  e->retired = true;
  e->retire_by = g_get_monotonic_time() + kRetireGraceUs;
  // Whatever the owner released is torn down on the next run of the context.
  mark_ready(*e);
}

void ContextLoop::run() {
  quit_ = false;
  while (!quit_) round(true);
}

void ContextLoop::quit() { quit_ = true; }

void ContextLoop::drain(int max_rounds) {
  for (int i = 0; i < max_rounds; ++i)
    if (!round(false)) break;
}

ContextLoop::Entry* ContextLoop::find(uint64_t id) {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

void ContextLoop::mark_ready(Entry& e) {
  if (e.ready || e.finished) return;
  e.ready = true;
  ready_.push_back(e.id);
}

bool ContextLoop::round(bool may_wait) {
  if (has_finished_) drop_finished();

  int timeout_ms = 0;
  const int64_t start = g_get_monotonic_time();
  if (may_wait && ready_.empty()) {
    timeout_ms = -1;
    while (!timers_.empty()) {
      auto [when, id] = timers_.top();
      Entry* e = find(id);
      if (e == nullptr || e->deadline != when) {  // superseded or dropped
        timers_.pop();
        continue;
      }
      int64_t wait_us = std::max<int64_t>(0, when - start);
      timeout_ms = static_cast<int>(std::min<int64_t>((wait_us + 999) / 1000, 60'000));
      break;
    }
  }

  epoll_event events[kMaxEvents];
  int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout_ms);
  if (n < 0 && errno != EINTR) logger()->error("epoll_wait: {}", std::strerror(errno));
  for (int i = 0; i < n; ++i) {
    const uint64_t id = events[i].data.u64 >> kFdBits;
    const int fd = static_cast<int>(events[i].data.u64 & kFdMask);
    Entry* e = find(id);
    if (e == nullptr) continue;
    for (int k = 0; k < e->n_fds; ++k)
      if (e->fds[k].fd == fd) e->fds[k].revents = static_cast<gushort>(events[i].events & kEventBits);
    mark_ready(*e);
  }

  const int64_t now = g_get_monotonic_time();
  while (!timers_.empty() && timers_.top().first <= now) {
    auto [when, id] = timers_.top();
    timers_.pop();
    if (Entry* e = find(id); e != nullptr && e->deadline == when) {
      e->deadline = -1;
      mark_ready(*e);
    }
  }

  if (ready_.empty()) return false;
  running_.swap(ready_);
  for (uint64_t id : running_) {
    // Looked up each time: a callback may have created contexts (the map keeps its elements in
    // place) or retired this one (it stays until the next round).
    if (Entry* e = find(id)) {
      e->ready = false;
      run_entry(*e);
    }
  }
  running_.clear();
  return true;
}

void ContextLoop::run_entry(Entry& e) {
  if (g_main_context_check(e.context, e.max_priority, e.fds.data(), e.n_fds)) g_main_context_dispatch(e.context);
  for (int k = 0; k < e.n_fds; ++k) e.fds[k].revents = 0;
  prepare_and_query(e);
}

void ContextLoop::prepare_and_query(Entry& e) {
  g_main_context_prepare(e.context, &e.max_priority);
  gint timeout = -1;
  int n;
  while ((n = g_main_context_query(e.context, e.max_priority, &timeout, e.fds.data(),
                                   static_cast<gint>(e.fds.size()))) > static_cast<int>(e.fds.size()))
    e.fds.resize(static_cast<std::size_t>(n));
  e.n_fds = n;
  sync_epoll(e);

  const int64_t now = g_get_monotonic_time();
  if (e.retired && ((n <= 1 && timeout < 0) || now >= e.retire_by)) {
    // Only its wakeup fd is left and no timer: nothing can run in it any more.
    e.finished = true;
    has_finished_ = true;
    return;
  }
  if (timeout == 0) {
    mark_ready(e);
    return;
  }
  int64_t want = timeout > 0 ? now + int64_t{timeout} * 1000 : -1;
  if (e.retired) want = want < 0 ? e.retire_by : std::min(want, e.retire_by);
  // GLib gives the timeout in ms from now, so the same timer yields a slightly different
  // deadline on every query: keep the one we have unless the new one is clearly earlier (a
  // deadline that turns out early only costs one spurious run of this context).
  if (want >= 0 && (e.deadline < 0 || want < e.deadline - 1000)) {
    e.deadline = want;
    timers_.emplace(want, e.id);
  }
}

void ContextLoop::sync_epoll(Entry& e) {
  // The usual case: the same fds as last time.
  bool same = static_cast<int>(e.registered.size()) == e.n_fds;
  for (int k = 0; same && k < e.n_fds; ++k)
    same = e.registered[k].first == e.fds[k].fd && e.registered[k].second == e.fds[k].events;
  if (same) return;

  allow_recursion(e);

  std::vector<std::pair<int, gushort>> wanted;
  wanted.reserve(static_cast<std::size_t>(e.n_fds));
  for (int k = 0; k < e.n_fds; ++k) wanted.emplace_back(e.fds[k].fd, e.fds[k].events);

  for (const auto& [fd, events] : e.registered) {
    bool kept = std::any_of(wanted.begin(), wanted.end(), [fd = fd](const auto& w) { return w.first == fd; });
    if (kept || fd < 0 || static_cast<std::size_t>(fd) >= fd_owner_.size() || fd_owner_[fd] != e.id) continue;
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);  // fails harmlessly if the fd was closed
    fd_owner_[fd] = 0;
  }
  for (const auto& [fd, events] : wanted) {
    if (fd < 0 || static_cast<uint64_t>(fd) > kFdMask) continue;
    auto old = std::find_if(e.registered.begin(), e.registered.end(), [fd = fd](const auto& r) { return r.first == fd; });
    if (static_cast<std::size_t>(fd) >= fd_owner_.size()) fd_owner_.resize(static_cast<std::size_t>(fd) + 1024, 0);
    const bool mine = fd_owner_[fd] == e.id;
    if (mine && old != e.registered.end() && old->second == events) continue;
    epoll_event ev{};
    ev.events = events & kEventBits;
    ev.data.u64 = (e.id << kFdBits) | static_cast<uint64_t>(fd);
    // An fd another context registered may have been closed and reused since: the kernel
    // dropped that registration with the close, or (still open elsewhere) it is replaced here.
    if (epoll_ctl(epoll_fd_, mine ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0) {
      int op = errno == EEXIST ? EPOLL_CTL_MOD : (errno == ENOENT ? EPOLL_CTL_ADD : -1);
      if (op < 0 || epoll_ctl(epoll_fd_, op, fd, &ev) != 0) {
        logger()->error("epoll_ctl(fd {}): {}", fd, std::strerror(errno));
        continue;
      }
    }
    fd_owner_[fd] = e.id;
  }
  e.registered = std::move(wanted);
}

void ContextLoop::allow_recursion(Entry& e) {
  // GLib blocks a non-recursive source while it dispatches: it takes the source's fds out of the
  // context and puts them back, and each of the two signals the context's wakeup fd, so every
  // packet would cost two eventfd writes and a second, empty run of the context. Nothing here
  // iterates a context from inside a dispatch, so recursion never happens and the blocking buys
  // nothing: new sources (libnice adds its sockets' sources as it gathers) are marked recursive.
  // GLib numbers a context's sources from 1 and offers no way to list them; attaching a
  // throwaway source tells the next id.
  GSource* probe = g_idle_source_new();
  const guint next = g_source_attach(probe, e.context);
  g_source_destroy(probe);
  g_source_unref(probe);
  for (guint id = e.marked_upto + 1; id < next; ++id)
    if (GSource* source = g_main_context_find_source_by_id(e.context, id)) g_source_set_can_recurse(source, TRUE);
  e.marked_upto = next;
}

void ContextLoop::unregister_all(Entry& e) {
  for (const auto& [fd, events] : e.registered)
    if (fd >= 0 && static_cast<std::size_t>(fd) < fd_owner_.size() && fd_owner_[fd] == e.id) {
      epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
      fd_owner_[fd] = 0;
    }
  e.registered.clear();
}

void ContextLoop::drop_finished() {
  has_finished_ = false;
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& e = it->second;
    if (!e.finished) {
      ++it;
      continue;
    }
    unregister_all(e);
    by_context_.erase(e.context);
    g_main_context_release(e.context);
    g_main_context_unref(e.context);
    it = entries_.erase(it);
  }
}

}  // namespace junction::transports
