#include "core/gateway/event_push.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace junction::gateway {
namespace {

using nlohmann::json;

// A listening loopback socket. With `answer`, a thread accepts connections, reads one request
// and answers 200 with the bodies kept; without, nobody ever accepts (a stuck collector).
class Collector {
 public:
  explicit Collector(bool answer) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    if (answer) thread_ = std::thread([this] { serve(); });
  }
  ~Collector() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (thread_.joinable()) thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/events"; }
  std::vector<json> received() {
    std::lock_guard lock(mutex_);
    return bodies_;
  }

 private:
  void serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string in;
      char buffer[4096];
      ssize_t n;
      while ((n = ::recv(c, buffer, sizeof buffer, 0)) > 0) {
        in.append(buffer, static_cast<std::size_t>(n));
        auto end = in.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        auto cl = in.find("Content-Length: ");
        std::size_t length = std::stoul(in.substr(cl + 16));
        if (in.size() >= end + 4 + length) {
          std::lock_guard lock(mutex_);
          bodies_.push_back(json::parse(in.substr(end + 4, length)));
          break;
        }
      }
      static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      ::send(c, ok, sizeof ok - 1, MSG_NOSIGNAL);
      ::close(c);
    }
  }
  int fd_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<json> bodies_;
};

template <typename F>
bool eventually(F f) {
  for (int i = 0; i < 300 && !f(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return f();
}

TEST(EventPusher, RefusesAnUnusableUrl) {
  EXPECT_THROW(EventPusher(EventPusher::Options{"ftp://x/"}), std::invalid_argument);
}

TEST(EventPusher, DeliversBatchesInJanusShape) {
  Collector collector(/*answer=*/true);
  EventPusher pusher(EventPusher::Options{collector.url(), "Test"});
  EXPECT_TRUE(pusher.publish(EventType::kWebrtc, 11, 22, "op", {{"connection", "webrtcup"}}));
  EXPECT_TRUE(pusher.publish(EventType::kSession, 11, 0, "", {{"name", "created"}}));
  ASSERT_TRUE(eventually([&] { return pusher.counts().sent == 2; }));
  std::vector<json> events;
  for (const json& batch : collector.received()) {
    ASSERT_TRUE(batch.is_array());
    for (const json& e : batch) events.push_back(e);
  }
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["emitter"], "Test");
  EXPECT_EQ(events[0]["type"], 16);
  EXPECT_EQ(events[0]["session_id"], 11);
  EXPECT_EQ(events[0]["handle_id"], 22);
  EXPECT_EQ(events[0]["opaque_id"], "op");
  EXPECT_EQ(events[0]["event"]["connection"], "webrtcup");
  EXPECT_TRUE(events[0]["timestamp"].is_number_integer());
  EXPECT_FALSE(events[1].contains("handle_id"));
  EXPECT_EQ(pusher.counts().dropped, 0u);
}

TEST(EventPusher, ASlowCollectorMakesItDropAndCountNotWait) {
  Collector collector(/*answer=*/false);
  EventPusher::Options options{collector.url()};
  options.max_queue = 3;
  options.timeout = std::chrono::milliseconds(300);
  EventPusher pusher(options);
  pusher.publish(EventType::kSession, 1, 0, "", json::object());
  ASSERT_TRUE(eventually([&] { return pusher.queue_size() == 0; })) << "the first event is being posted";
  auto start = std::chrono::steady_clock::now();
  int accepted = 0;
  for (int i = 0; i < 10; ++i) accepted += pusher.publish(EventType::kSession, 1, 0, "", json::object());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100)) << "publish never waits";
  EXPECT_EQ(accepted, 3);
  EXPECT_EQ(pusher.counts().dropped, 7u);
  ASSERT_TRUE(eventually([&] { return pusher.counts().failed_posts >= 1; }));
}

TEST(EventPusher, AnUnreachableCollectorCountsFailures) {
  int port;
  {
    Collector gone(false);
    port = std::stoi(gone.url().substr(17));
  }
  EventPusher pusher(EventPusher::Options{"http://127.0.0.1:" + std::to_string(port) + "/"});
  pusher.publish(EventType::kSession, 1, 0, "", json::object());
  ASSERT_TRUE(eventually([&] { return pusher.counts().failed_posts == 1; }));
  EXPECT_EQ(pusher.counts().dropped, 1u);
  EXPECT_EQ(pusher.counts().sent, 0u);
}

}  // namespace
}  // namespace junction::gateway
