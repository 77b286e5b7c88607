// ContextLoop: many GLib contexts driven from one thread with epoll.
#include "transports/context_loop.h"

#include <glib-unix.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace junction::transports {
namespace {

using Callback = std::function<bool()>;  // true: keep the source

gboolean call(gpointer data) { return (*static_cast<Callback*>(data))() ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE; }
void destroy(gpointer data) { delete static_cast<Callback*>(data); }

guint add_timeout(GMainContext* context, guint ms, Callback callback) {
  GSource* source = g_timeout_source_new(ms);
  g_source_set_callback(source, call, new Callback(std::move(callback)), destroy);
  guint id = g_source_attach(source, context);
  g_source_unref(source);
  return id;
}

void add_idle(GMainContext* context, Callback callback) {
  GSource* source = g_idle_source_new();
  g_source_set_callback(source, call, new Callback(std::move(callback)), destroy);
  g_source_attach(source, context);
  g_source_unref(source);
}

struct FdCallback {
  std::function<bool(int)> run;
};
gboolean call_fd(gint fd, GIOCondition, gpointer data) {
  return static_cast<FdCallback*>(data)->run(fd) ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}
void destroy_fd(gpointer data) { delete static_cast<FdCallback*>(data); }

guint add_reader(GMainContext* context, int fd, std::function<bool(int)> run) {
  GSource* source = g_unix_fd_source_new(fd, G_IO_IN);
  g_source_set_callback(source, G_SOURCE_FUNC(call_fd), new FdCallback{std::move(run)}, destroy_fd);
  guint id = g_source_attach(source, context);
  g_source_unref(source);
  return id;
}

// Runs the loop until a callback quits it; a watchdog in its own context fails the test after
// `limit` instead of hanging.
void run_with_watchdog(ContextLoop& loop, std::chrono::milliseconds limit = std::chrono::milliseconds(3000)) {
  bool expired = false;
  GMainContext* watchdog = loop.create();
  add_timeout(watchdog, static_cast<guint>(limit.count()), [&] {
    expired = true;
    loop.quit();
    return false;
  });
  loop.run();
  loop.retire(watchdog);
  EXPECT_FALSE(expired) << "the loop did not finish within " << limit.count() << " ms";
}

using Clock = std::chrono::steady_clock;

TEST(ContextLoop, TimersOfDifferentContextsFireInTimeOrder) {
  ContextLoop loop;
  GMainContext* a = loop.create();
  GMainContext* b = loop.create();
  std::vector<std::string> fired;
  auto start = Clock::now();
  Clock::duration b_after{};
  add_timeout(a, 60, [&] {
    fired.push_back("a");
    loop.quit();
    return false;
  });
  add_timeout(b, 20, [&] {
    fired.push_back("b");
    b_after = Clock::now() - start;
    return false;
  });
  run_with_watchdog(loop);
  EXPECT_EQ(fired, (std::vector<std::string>{"b", "a"}));
  EXPECT_GE(b_after, std::chrono::milliseconds(20));
}

TEST(ContextLoop, ReadableFdRunsItsContextOnly) {
  ContextLoop loop;
  GMainContext* a = loop.create();
  GMainContext* b = loop.create();
  int pair_a[2], pair_b[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, pair_a), 0);
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, pair_b), 0);
  int reads_a = 0, reads_b = 0;
  add_reader(a, pair_a[0], [&](int fd) {
    char buffer[64];
    while (read(fd, buffer, sizeof buffer) > 0) ++reads_a;
    return true;
  });
  add_reader(b, pair_b[0], [&](int fd) {
    char buffer[64];
    while (read(fd, buffer, sizeof buffer) > 0) ++reads_b;
    if (reads_b == 3) loop.quit();
    return true;
  });
  // Written one at a time from a timer of a third context, so each is its own wakeup.
  GMainContext* writer = loop.create();
  int written = 0;
  add_timeout(writer, 5, [&] {
    EXPECT_EQ(write(pair_b[1], "x", 1), 1);
    return ++written < 3;
  });
  run_with_watchdog(loop);
  EXPECT_EQ(reads_b, 3);
  EXPECT_EQ(reads_a, 0);
  for (int fd : {pair_a[0], pair_a[1], pair_b[0], pair_b[1]}) close(fd);
}

TEST(ContextLoop, SourceAttachedFromTheLoopThreadToAWaitingContextRuns) {
  // A callback in one context attaches a timer and an idle to another context that is waiting
  // (its deadline computed before they existed): both must still run.
  ContextLoop loop;
  GMainContext* a = loop.create();
  GMainContext* b = loop.create();
  bool idle_ran = false;
  add_timeout(a, 10, [&] {
    add_idle(b, [&] {
      idle_ran = true;
      return false;
    });
    add_timeout(b, 10, [&] {
      loop.quit();
      return false;
    });
    return false;
  });
  run_with_watchdog(loop);
  EXPECT_TRUE(idle_ran);
}

TEST(ContextLoop, SourceAttachedFromAnotherThreadRuns) {
  ContextLoop loop;
  GMainContext* a = loop.create();
  std::thread other([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    add_idle(a, [&] {
      loop.quit();
      return false;
    });
  });
  run_with_watchdog(loop);
  other.join();
}

TEST(ContextLoop, RetiredContextIsDroppedOnceEmpty) {
  ContextLoop loop;
  GMainContext* a = loop.create();
  GMainContext* b = loop.create();
  guint timer = add_timeout(a, 100000, [] { return true; });
  // Retiring a context whose last source goes away: dropped at the next rounds.
  add_timeout(b, 10, [&] {
    g_source_destroy(g_main_context_find_source_by_id(a, timer));
    loop.retire(a);
    return false;
  });
  std::size_t size_later = 0;
  add_timeout(b, 50, [&] {
    size_later = loop.size();
    loop.quit();
    return false;
  });
  const std::size_t size_before = loop.size();  // a, b
  run_with_watchdog(loop);
  EXPECT_EQ(size_later, size_before);  // a gone, the watchdog's context came
}

TEST(ContextLoop, ReusedFdNumberReachesItsNewContext) {
  // Context a watches an fd; it is closed and the same number comes back for context b's new
  // socket: b must get its events (a's stale registration must not swallow or remove them).
  ContextLoop loop;
  GMainContext* a = loop.create();
  GMainContext* b = loop.create();
  int first[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, first), 0);
  guint reader = add_reader(a, first[0], [](int) { return true; });
  int reused = -1, peer = -1;
  bool got = false;
  add_timeout(b, 10, [&] {
    g_source_destroy(g_main_context_find_source_by_id(a, reader));
    const int old_fd = first[0];
    close(first[0]);
    close(first[1]);
    int second[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, second), 0);
    reused = second[0];
    peer = second[1];
    EXPECT_EQ(reused, old_fd) << "the kernel did not reuse the number; the test proves less";
    add_reader(b, reused, [&](int fd) {
      char buffer[8];
      got = read(fd, buffer, sizeof buffer) == 1;
      loop.quit();
      return false;
    });
    // Context a runs again (its source went away) before the write arrives.
    add_idle(a, [] { return false; });
    add_timeout(b, 20, [&] {
      EXPECT_EQ(write(peer, "y", 1), 1);
      return false;
    });
    return false;
  });
  run_with_watchdog(loop);
  EXPECT_TRUE(got);
  close(reused);
  close(peer);
}

}  // namespace
}  // namespace junction::transports
