#pragma once
// One SCTP association (RFC 9260) for WebRTC data channels (RFC 8831 §6), on usrsctp, carried
// over the DTLS association: usrsctp's AF_CONN mode hands us each SCTP packet to send (we give
// it to DTLS as application data) and takes each packet DTLS decrypts (incoming()). No UDP
// encapsulation, no sockets, no threads (see sctp_stack.h for how the timers run).
//
// What it adds on top of usrsctp: whole messages. usrsctp may deliver a large message in pieces
// (partial delivery); they are put back together here, up to `max_message_size` (a message
// that grows past it is dropped and its stream reset: the channel closes). Sends that do not fit
// usrsctp's send buffer wait in a bounded queue and go out, in order, as the peer acknowledges.
//
// Threading: create, call and destroy it on one media worker; every callback fires there,
// never from inside a usrsctp call that is still running (what usrsctp reports is queued and
// handled once it returns), so a callback may call send() or reset_stream().
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "transports/data_channels.h"
#include "transports/media_worker.h"

struct socket;

namespace junction::transports {

struct SctpOptions {
  uint16_t local_port = 5000, remote_port = 5000;  // a=sctp-port of each side
  size_t max_message_size = 262144;                // what we accept (our a=max-message-size)
  // Largest SCTP packet: with its DTLS record it must fit DtlsOptions::mtu (1200).
  uint32_t mtu = 1100;
  size_t max_queued_bytes = 8 << 20;  // sends waiting for send-buffer space; past this they fail
  uint32_t heartbeat_ms = 5000;       // keeps an idle data-only PeerConnection's consent fresh
};

class SctpTransport {
 public:
  struct Callbacks {
    std::function<void(std::span<const uint8_t> packet)> send_packet;  // to DTLS
    std::function<void()> on_connected;
    std::function<void(const std::string& reason)> on_closed;  // once; no callback follows
    std::function<void(uint16_t stream, uint32_t ppid, std::span<const uint8_t> message)> on_message;
    // `stream` is closed: the peer reset its side, or sent a message over max_message_size.
    std::function<void(uint16_t stream)> on_stream_closed;
  };
  struct Counters {
    uint64_t packets_in = 0, packets_out = 0, messages_in = 0, messages_out = 0;
    uint64_t oversized = 0, send_dropped = 0, queued_sends = 0;
  };

  // On the owning media worker. Starts the association (INIT) right away: call it once DTLS
  // is connected.
  SctpTransport(SctpOptions options, Callbacks callbacks);
  ~SctpTransport();
  SctpTransport(const SctpTransport&) = delete;
  SctpTransport& operator=(const SctpTransport&) = delete;

  // One SCTP packet from the peer (a DTLS application data record).
  void incoming(std::span<const uint8_t> packet);
  // One user message. False when it cannot be sent (closed, or the queue is full).
  bool send(uint16_t stream, uint32_t ppid, std::span<const uint8_t> message, const SctpSendOptions& options);
  // Resets our outgoing side of `stream` (RFC 6525); retried while another reset is running.
  void reset_stream(uint16_t stream);

  bool connected() const { return connected_; }
  bool closed() const { return closed_; }
  size_t queued_bytes() const { return queued_bytes_; }
  const Counters& counters() const { return counters_; }

  friend struct SctpCallbacks;  // usrsctp's C callbacks (sctp_transport.cpp)

 private:
  // Something usrsctp reported, handled after the usrsctp call returns.
  struct Inbound {
    enum class Kind { kData, kNotification, kWritable, kGone } kind;
    void* data = nullptr;  // malloc'd by usrsctp; freed once handled
    size_t length = 0;
    uint16_t stream = 0;
    uint32_t ppid = 0;
    bool end_of_record = true;
  };
  struct QueuedSend {
    uint16_t stream;
    uint32_t ppid;
    SctpSendOptions options;
    std::vector<uint8_t> bytes;
  };
  static void route(uint64_t id, Inbound inbound);
  void send_packet(std::span<const uint8_t> packet);
  void enqueue(Inbound inbound);
  void drain();
  void handle(Inbound& inbound);
  void on_notification(std::span<const uint8_t> bytes);
  void deliver(uint16_t stream, uint32_t ppid, std::span<const uint8_t> piece, bool end);
  int try_send(uint16_t stream, uint32_t ppid, std::span<const uint8_t> message, const SctpSendOptions& options);
  void flush_queue();
  void flush_resets();
  void close(const std::string& reason);

  SctpOptions options_;
  Callbacks callbacks_;
  MediaWorker* worker_;
  uint64_t id_;
  struct socket* socket_ = nullptr;
  bool connected_ = false, closed_ = false;
  int inside_incoming_ = 0;    // > 0 while incoming() runs: what usrsctp reports is drained after
  bool writable_ = false;      // usrsctp reported free send-buffer space
  bool drain_posted_ = false;
  std::deque<Inbound> inbox_;
  std::unordered_map<uint16_t, std::vector<uint8_t>> partial_;  // stream -> message so far
  std::unordered_map<uint16_t, bool> oversized_;                 // stream -> dropping the rest
  std::deque<QueuedSend> queue_;
  size_t queued_bytes_ = 0;
  std::vector<uint16_t> pending_resets_;
  Counters counters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace junction::transports
