#include "core/gateway/event_push.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "core/base/http_url.h"
#include "core/base/log.h"

namespace junction::gateway {

using nlohmann::json;

namespace {

auto& logger() {
  static auto l = log::get("events");
  return l;
}

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Waits until `fd` is ready for `events` or the deadline passes.
bool wait_fd(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, static_cast<int>(left.count())) == 1 && (p.revents & (events | POLLHUP | POLLERR)) != 0;
}

}  // namespace

EventPusher::EventPusher(Options options) : options_(std::move(options)) {
  std::optional<HttpUrl> url = parse_http_url(options_.url);
  if (!url) throw std::invalid_argument("event push URL must be http://host[:port][/path]: " + options_.url);
  host_ = url->host;
  port_ = url->port;
  path_ = url->path;
  thread_ = std::thread([this] { run(); });
  logger()->info("event push to {} (batches of up to {}, queue of {})", options_.url, options_.max_batch,
                 options_.max_queue);
}

EventPusher::~EventPusher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool EventPusher::publish(EventType type, uint64_t session_id, uint64_t handle_id, const std::string& opaque_id,
                          json event) {
  json item = {{"emitter", options_.emitter}, {"type", static_cast<int>(type)}, {"timestamp", now_us()}};
  if (session_id != 0) item["session_id"] = session_id;
  if (handle_id != 0) item["handle_id"] = handle_id;
  if (!opaque_id.empty()) item["opaque_id"] = opaque_id;
  item["event"] = std::move(event);
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= options_.max_queue || stopping_) {
      uint64_t dropped = ++dropped_;
      if (dropped == 1 || dropped % 1000 == 0)
        logger()->warn("event push: the collector is not keeping up, {} event(s) dropped so far", dropped);
      return false;
    }
    queue_.push_back(std::move(item));
  }
  wake_.notify_one();
  return true;
}

EventPusher::Counts EventPusher::counts() const {
  return {sent_.load() + dropped_.load() + queue_size(), sent_.load(), dropped_.load(), failed_posts_.load()};
}

std::size_t EventPusher::queue_size() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void EventPusher::run() {
  for (;;) {
    json batch = json::array();
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::size_t n = batch.size();
    if (post(batch.dump())) {
      sent_ += n;
    } else {
      // A failed batch is not retried: the collector is down or slow, and events pile up fast.
      dropped_ += n;
      if (++failed_posts_ == 1 || failed_posts_ % 100 == 0)
        logger()->warn("event push: POST to {} failed ({} failure(s) so far); {} event(s) dropped", options_.url,
                       failed_posts_.load(), n);
      std::unique_lock lock(mutex_);
      if (stopping_) {  // no collector to wait for at exit: the rest goes too
        dropped_ += queue_.size();
        queue_.clear();
        return;
      }
      wake_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stopping_; });
    }
  }
}

bool EventPusher::post(const std::string& body) {
  auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host_.c_str(), std::to_string(port_).c_str(), &hints, &found) != 0 || found == nullptr) return false;
  int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  bool ok = fd >= 0;
  if (ok) {
    int r = ::connect(fd, found->ai_addr, found->ai_addrlen);
    ok = r == 0 || (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline));
    int error = 0;
    socklen_t len = sizeof error;
    ok = ok && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 && error == 0;
  }
  freeaddrinfo(found);
  std::string request = "POST " + path_ + " HTTP/1.1\r\nHost: " + host_ + ":" + std::to_string(port_) +
                        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\nConnection: close\r\n\r\n" + body;
  std::size_t written = 0;
  while (ok && written < request.size()) {
    ssize_t n = ::send(fd, request.data() + written, request.size() - written, MSG_NOSIGNAL);
    if (n > 0) written += static_cast<std::size_t>(n);
    else ok = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(fd, POLLOUT, deadline);
  }
  // The status line is enough: any 2xx is a delivery.
  std::string answer;
  while (ok && answer.find("\r\n") == std::string::npos && answer.size() < 4096) {
    char buffer[1024];
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) answer.append(buffer, static_cast<std::size_t>(n));
    else ok = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(fd, POLLIN, deadline);
  }
  if (fd >= 0) ::close(fd);
  return ok && answer.rfind("HTTP/1.", 0) == 0 && answer.size() > 9 && answer[9] == '2';
}

}  // namespace junction::gateway
