// What the kernel charges a sender per UDP datagram on this machine: the floor under Junction's
// fan-out, where every forwarded packet is one datagram to one subscriber.
//   BM_SendtoPerSocket  N unconnected sockets (one per subscriber, as each PeerConnection has its
//                       own ICE socket) each sendto() its own receiver: what Junction does today.
//   BM_SendmmsgOneSocket one socket, one sendmmsg() per round carrying the N datagrams of a
//                       fan-out to N receivers: what one shared media socket would allow.
// Receivers are N sockets on 127.0.0.1 drained by a thread (pin it to another core), so the
// datagrams are really delivered; on loopback that delivery (softirq, the receiver's wake-up) is
// charged to the sender, as it is to the server in scripts/bench.sh. Times are the sending
// thread's CPU time, reported per datagram. Arguments: N, datagram size.
//
// Run: taskset -c 1 build/udp_send_bench   (the drain thread is pinned to core 0 when it exists)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

int udp_socket_on_loopback(sockaddr_in* bound) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) throw std::runtime_error("bind");
  socklen_t length = sizeof(*bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(bound), &length);
  int big = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
  return fd;
}

// N receiving sockets and a thread that empties them until stopped.
class Receivers {
 public:
  explicit Receivers(size_t count) : epoll_(epoll_create1(EPOLL_CLOEXEC)) {
    for (size_t i = 0; i < count; ++i) {
      sockaddr_in addr{};
      int fd = udp_socket_on_loopback(&addr);
      fds_.push_back(fd);
      addresses_.push_back(addr);
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.fd = fd;
      epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event);
    }
    thread_ = std::thread([this] { drain(); });
  }
  ~Receivers() {
    stop_ = true;
    thread_.join();
    for (int fd : fds_) close(fd);
    close(epoll_);
  }
  const std::vector<sockaddr_in>& addresses() const { return addresses_; }
  uint64_t received() const { return received_.load(); }

 private:
  void drain() {
    if (std::thread::hardware_concurrency() > 1) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(0, &set);
      sched_setaffinity(0, sizeof(set), &set);
    }
    std::vector<epoll_event> events(64);
    char buffer[2048];
    while (!stop_) {
      int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 50);
      for (int i = 0; i < n; ++i)
        while (recv(events[static_cast<size_t>(i)].data.fd, buffer, sizeof(buffer), MSG_DONTWAIT) > 0) ++received_;
    }
  }

  int epoll_;
  std::vector<int> fds_;
  std::vector<sockaddr_in> addresses_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> received_{0};
  std::thread thread_;
};

void BM_SendtoPerSocket(benchmark::State& state) {
  const auto count = static_cast<size_t>(state.range(0));
  const auto size = static_cast<size_t>(state.range(1));
  Receivers receivers(count);
  std::vector<int> senders;
  for (size_t i = 0; i < count; ++i) {
    sockaddr_in unused{};
    senders.push_back(udp_socket_on_loopback(&unused));
  }
  std::vector<uint8_t> datagram(size, 0x5A);
  uint64_t failed = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < count; ++i) {
      const sockaddr_in& to = receivers.addresses()[i];
      if (sendto(senders[i], datagram.data(), size, 0, reinterpret_cast<const sockaddr*>(&to), sizeof(to)) < 0) ++failed;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * count));
  state.counters["per_datagram_us"] =
      benchmark::Counter(static_cast<double>(state.iterations() * count) * 1e-6,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["send_failures"] = static_cast<double>(failed);
  for (int fd : senders) close(fd);
}

void BM_SendmmsgOneSocket(benchmark::State& state) {
  const auto count = static_cast<size_t>(state.range(0));
  const auto size = static_cast<size_t>(state.range(1));
  Receivers receivers(count);
  sockaddr_in unused{};
  int sender = udp_socket_on_loopback(&unused);
  std::vector<uint8_t> datagram(size, 0x5A);
  std::vector<iovec> iov(count);
  std::vector<mmsghdr> messages(count);
  std::vector<sockaddr_in> destinations = receivers.addresses();
  for (size_t i = 0; i < count; ++i) {
    iov[i] = {datagram.data(), size};
    messages[i] = {};
    messages[i].msg_hdr.msg_name = &destinations[i];
    messages[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    messages[i].msg_hdr.msg_iov = &iov[i];
    messages[i].msg_hdr.msg_iovlen = 1;
  }
  uint64_t short_batches = 0;
  for (auto _ : state) {
    size_t sent = 0;
    while (sent < count) {
      int n = sendmmsg(sender, messages.data() + sent, static_cast<unsigned>(count - sent), 0);
      if (n <= 0) {
        ++short_batches;
        break;
      }
      sent += static_cast<size_t>(n);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * count));
  state.counters["per_datagram_us"] =
      benchmark::Counter(static_cast<double>(state.iterations() * count) * 1e-6,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["short_batches"] = static_cast<double>(short_batches);
  close(sender);
}

BENCHMARK(BM_SendtoPerSocket)->Args({200, 1100})->Args({200, 200});
BENCHMARK(BM_SendmmsgOneSocket)->Args({200, 1100})->Args({200, 200});

}  // namespace

BENCHMARK_MAIN();
