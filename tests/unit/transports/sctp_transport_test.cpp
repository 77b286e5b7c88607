// Two real usrsctp associations back to back on one media worker (each one's packets handed to
// the other through the worker's queue, as DTLS would), with DataChannels on top: DCEP both
// ways, a 256 KiB message reassembled, order, unordered and partially reliable channels, and
// a stream reset that closes the channel on the other side.
#include "transports/sctp_transport.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <memory>
#include <mutex>

#include "transports/data_channels.h"
#include "transports/media_worker.h"

namespace junction::transports {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<uint8_t>;

struct Side {
  std::unique_ptr<SctpTransport> sctp;
  std::unique_ptr<DataChannels> channels;
  bool connected = false;
  std::vector<std::tuple<std::string, bool, Bytes>> received;
  std::vector<std::string> opened;
  std::vector<uint16_t> closed;
};

class SctpPair : public ::testing::Test {
 protected:
  void SetUp() override {
    worker_.run_sync([this] {
      make(a_, b_, /*dtls_client=*/true);
      make(b_, a_, /*dtls_client=*/false);
    });
    ASSERT_TRUE(wait([&] { return a_.connected && b_.connected; }));
  }
  void TearDown() override {
    worker_.run_sync([this] {
      for (Side* s : {&a_, &b_}) {
        s->channels.reset();
        s->sctp.reset();
      }
    });
  }
  void make(Side& self, Side& peer, bool dtls_client) {
    SctpTransport::Callbacks c;
    // Deferred like a network hop: never call the peer from inside our own usrsctp call.
    c.send_packet = [this, &peer](std::span<const uint8_t> p) {
      worker_.post([&peer, bytes = Bytes(p.begin(), p.end())] {
        if (peer.sctp) peer.sctp->incoming(bytes);
      });
    };
    c.on_connected = [this, &self] { update([&] { self.connected = true; }); };
    c.on_message = [&self](uint16_t stream, uint32_t ppid, std::span<const uint8_t> m) {
      self.channels->on_sctp_message(stream, ppid, m);
    };
    c.on_stream_closed = [&self](uint16_t stream) { self.channels->on_stream_reset(stream); };
    DataChannels::Callbacks d;
    d.send = [&self](uint16_t s, uint32_t ppid, std::span<const uint8_t> m, const SctpSendOptions& o) {
      return self.sctp->send(s, ppid, m, o);
    };
    d.reset_stream = [&self](uint16_t s) { self.sctp->reset_stream(s); };
    d.on_open = [this, &self](const DataChannels::Channel& ch) { update([&] { self.opened.push_back(ch.label); }); };
    d.on_message = [this, &self](const DataChannels::Channel& ch, bool binary, std::span<const uint8_t> m) {
      update([&] { self.received.emplace_back(ch.label, binary, Bytes(m.begin(), m.end())); });
    };
    d.on_close = [this, &self](const DataChannels::Channel& ch) { update([&] { self.closed.push_back(ch.stream); }); };
    self.channels = std::make_unique<DataChannels>(dtls_client, std::move(d));
    self.sctp = std::make_unique<SctpTransport>(SctpOptions{}, std::move(c));
  }
  template <typename Pred>
  bool wait(Pred pred, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, pred);
  }
  void update(const std::function<void()>& f) {
    std::lock_guard lock(mutex_);
    f();
    changed_.notify_all();
  }
  size_t received(Side& s) {
    std::lock_guard lock(mutex_);
    return s.received.size();
  }

  MediaWorker worker_{0};
  std::mutex mutex_;
  std::condition_variable changed_;
  Side a_, b_;
};

TEST_F(SctpPair, OpenBothWaysLargeMessagesAndOrder) {
  Bytes big(256 * 1024);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7 + i / 251);
  worker_.run_sync([&] {
    ASSERT_TRUE(a_.channels->send("from-a", "", true, big));
    for (int i = 0; i < 200; ++i) {
      std::string m = "message " + std::to_string(i);
      ASSERT_TRUE(a_.channels->send("from-a", "", false, Bytes(m.begin(), m.end())));
    }
    ASSERT_TRUE(b_.channels->send("from-b", "p", false, Bytes{'h', 'i'}));
  });
  ASSERT_TRUE(wait([&] { return b_.received.size() == 201 && a_.received.size() == 1; })) << b_.received.size();
  std::lock_guard lock(mutex_);
  EXPECT_EQ(b_.opened, (std::vector<std::string>{"from-b", "from-a"}));  // its own, then the peer's
  EXPECT_EQ(std::get<0>(b_.received[0]), "from-a");
  EXPECT_TRUE(std::get<1>(b_.received[0]));
  EXPECT_TRUE(std::get<2>(b_.received[0]) == big);  // reassembled byte for byte
  for (int i = 0; i < 200; ++i) {
    std::string m = "message " + std::to_string(i);
    ASSERT_EQ(std::get<2>(b_.received[static_cast<size_t>(i) + 1]), Bytes(m.begin(), m.end())) << i;
  }
  EXPECT_EQ(a_.received[0], std::make_tuple(std::string("from-b"), false, Bytes{'h', 'i'}));
  // Each side used its own stream parity.
  EXPECT_EQ(b_.channels->find_label("from-a")->stream % 2, 0);
  EXPECT_EQ(a_.channels->find_label("from-b")->stream % 2, 1);
}

TEST_F(SctpPair, UnorderedAndPartiallyReliableChannelsDeliver) {
  worker_.run_sync([&] {
    auto u = a_.channels->open("unordered", "", SctpSendOptions{true, dcep::Reliability::kMaxRetransmits, 0});
    auto t = a_.channels->open("timed", "", SctpSendOptions{false, dcep::Reliability::kMaxLifetime, 1000});
    ASSERT_TRUE(u && t);
    for (int i = 0; i < 50; ++i) {
      a_.channels->send_on(*u, true, Bytes{static_cast<uint8_t>(i)});
      a_.channels->send_on(*t, true, Bytes{static_cast<uint8_t>(i)});
    }
  });
  // Loopback loses nothing: everything arrives, whatever the policy.
  ASSERT_TRUE(wait([&] { return b_.received.size() == 100; }));
  std::lock_guard lock(mutex_);
  const auto* u = b_.channels->find_label("unordered");
  ASSERT_NE(u, nullptr);
  EXPECT_TRUE(u->options.unordered);
  EXPECT_EQ(u->options.reliability, dcep::Reliability::kMaxRetransmits);
  EXPECT_EQ(b_.channels->find_label("timed")->options.parameter, 1000u);
}

TEST_F(SctpPair, CloseResetsTheStreamOnBothSides) {
  uint16_t stream = 0;
  worker_.run_sync([&] {
    stream = *a_.channels->open("closing", "");
    a_.channels->send_on(stream, false, Bytes{'x'});
  });
  ASSERT_TRUE(wait([&] { return b_.received.size() == 1; }));
  worker_.run_sync([&] { a_.channels->close(stream); });
  ASSERT_TRUE(wait([&] { return b_.closed.size() == 1; }));
  {
    std::lock_guard lock(mutex_);
    EXPECT_EQ(b_.closed[0], stream);
  }
  // The stream can carry a new channel afterwards.
  worker_.run_sync([&] { a_.channels->send("again", "", false, Bytes{'y'}); });
  ASSERT_TRUE(wait([&] { return b_.received.size() == 2; }));
  std::lock_guard lock(mutex_);
  EXPECT_EQ(std::get<0>(b_.received[1]), "again");
}

TEST_F(SctpPair, OversizedMessageClosesOnlyItsChannel) {
  worker_.run_sync([&] {
    a_.channels->send("small", "", false, Bytes{'a'});
    a_.channels->send("huge", "", true, Bytes(300 * 1024, 0x55));  // over the 256 KiB we accept
  });
  ASSERT_TRUE(wait([&] { return b_.closed.size() == 1 && b_.received.size() == 1; }));
  worker_.run_sync([&] { a_.channels->send("small", "", false, Bytes{'b'}); });
  ASSERT_TRUE(wait([&] { return b_.received.size() == 2; }));
  std::lock_guard lock(mutex_);
  EXPECT_EQ(std::get<2>(b_.received[1]), Bytes{'b'});
  EXPECT_EQ(b_.sctp->counters().oversized, 1u);
}

}  // namespace
}  // namespace junction::transports
