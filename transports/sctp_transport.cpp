#include "transports/sctp_transport.h"

#include <arpa/inet.h>
#include <usrsctp.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "core/base/log.h"
#include "transports/sctp_stack.h"

namespace junction::transports {
namespace {

auto& logger() {
  static auto l = log::get("sctp");
  return l;
}

constexpr int kSendBuffer = 1 << 20;
constexpr int kReceiveBuffer = 1 << 20;
constexpr uint16_t kEvents[] = {SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT, SCTP_SEND_FAILED_EVENT,
                                SCTP_REMOTE_ERROR, SCTP_SHUTDOWN_EVENT, SCTP_PARTIAL_DELIVERY_EVENT};

void* address_of(uint64_t id) { return reinterpret_cast<void*>(static_cast<uintptr_t>(id)); }
uint64_t id_of(void* address) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(address)); }

template <typename T>
bool set_option(struct socket* s, int level, int name, const T& value) {
  return usrsctp_setsockopt(s, level, name, &value, static_cast<socklen_t>(sizeof value)) == 0;
}

}  // namespace

// usrsctp's C callbacks. Each may run on any worker that drives usrsctp's timers; the work is
// routed to the association's owner (sctp_stack.h).
struct SctpCallbacks {
  static int output(void* address, void* buffer, size_t length, uint8_t /*tos*/, uint8_t /*set_df*/) {
    uint64_t id = id_of(address);
    auto packet = std::span<const uint8_t>(static_cast<const uint8_t*>(buffer), length);
    if (SctpTransport* t = sctp_stack::local(id)) {
      t->send_packet(packet);
    } else if (MediaWorker* worker = sctp_stack::owner(id)) {
      worker->post([id, bytes = std::vector<uint8_t>(packet.begin(), packet.end())] {
        if (SctpTransport* t = sctp_stack::local(id)) t->send_packet(bytes);
      });
    }
    return 0;
  }

  static int receive(struct socket* /*sock*/, union sctp_sockstore /*address*/, void* data, size_t length,
                     struct sctp_rcvinfo info, int flags, void* ulp_info) {
    SctpTransport::Inbound in{SctpTransport::Inbound::Kind::kGone};
    if (data != nullptr) {
      in.kind = (flags & MSG_NOTIFICATION) ? SctpTransport::Inbound::Kind::kNotification
                                           : SctpTransport::Inbound::Kind::kData;
      in.data = data;
      in.length = length;
      in.stream = info.rcv_sid;
      in.ppid = ntohl(info.rcv_ppid);
      in.end_of_record = (flags & MSG_EOR) != 0;
    }
    SctpTransport::route(id_of(ulp_info), in);
    return 1;
  }

  static int send_space(struct socket* /*sock*/, uint32_t /*free*/, void* ulp_info) {
    SctpTransport::route(id_of(ulp_info), {SctpTransport::Inbound::Kind::kWritable});
    return 0;
  }
};

void SctpTransport::route(uint64_t id, Inbound inbound) {
  if (SctpTransport* t = sctp_stack::local(id)) {
    t->enqueue(inbound);
  } else if (MediaWorker* worker = sctp_stack::owner(id)) {
    worker->post([id, inbound] {
      if (SctpTransport* t = sctp_stack::local(id)) t->enqueue(inbound);
      else std::free(inbound.data);
    });
  } else {
    std::free(inbound.data);
  }
}

SctpTransport::SctpTransport(SctpOptions options, Callbacks callbacks)
    : options_(options), callbacks_(std::move(callbacks)), worker_(current_worker()) {
  id_ = sctp_stack::attach(this, &SctpCallbacks::output);
  void* address = address_of(id_);
  usrsctp_register_address(address);
  socket_ = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, &SctpCallbacks::receive, &SctpCallbacks::send_space,
                           kSendBuffer / 2, address);
  if (socket_ == nullptr) {
    closed_ = true;
    logger()->error("sctp {}: usrsctp_socket failed: {}", id_, std::strerror(errno));
    return;
  }
  usrsctp_set_non_blocking(socket_, 1);
  struct linger linger {1, 0};  // close() aborts: the PeerConnection is going away anyway
  const int on = 1;
  bool ok = set_option(socket_, SOL_SOCKET, SO_LINGER, linger) && set_option(socket_, IPPROTO_SCTP, SCTP_NODELAY, on) &&
            set_option(socket_, IPPROTO_SCTP, SCTP_RECVRCVINFO, on) &&
            set_option(socket_, SOL_SOCKET, SO_SNDBUF, kSendBuffer) &&
            set_option(socket_, SOL_SOCKET, SO_RCVBUF, kReceiveBuffer);
  struct sctp_assoc_value reset {};
  reset.assoc_id = SCTP_FUTURE_ASSOC;
  reset.assoc_value = SCTP_ENABLE_RESET_STREAM_REQ;
  ok = ok && set_option(socket_, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, reset);
  for (uint16_t type : kEvents) {
    struct sctp_event event {};
    event.se_assoc_id = SCTP_FUTURE_ASSOC;
    event.se_type = type;
    event.se_on = 1;
    ok = ok && set_option(socket_, IPPROTO_SCTP, SCTP_EVENT, event);
  }
  struct sctp_initmsg init {};
  init.sinit_num_ostreams = DataChannels::kMaxStreams;
  init.sinit_max_instreams = DataChannels::kMaxStreams;
  ok = ok && set_option(socket_, IPPROTO_SCTP, SCTP_INITMSG, init);
  struct sctp_paddrparams params {};
  params.spp_assoc_id = SCTP_FUTURE_ASSOC;
  params.spp_flags = SPP_PMTUD_DISABLE | SPP_HB_ENABLE;
  params.spp_pathmtu = options_.mtu;
  params.spp_hbinterval = options_.heartbeat_ms;
  ok = ok && set_option(socket_, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, params);
  // The whole message in one delivery when it fits (fewer copies); larger ones come in pieces.
  const uint32_t pd_point = static_cast<uint32_t>(std::min<size_t>(options_.max_message_size, kReceiveBuffer / 2));
  ok = ok && set_option(socket_, IPPROTO_SCTP, SCTP_PARTIAL_DELIVERY_POINT, pd_point);
  if (!ok) logger()->warn("sctp {}: a socket option was refused: {}", id_, std::strerror(errno));

  struct sockaddr_conn local {};
  local.sconn_family = AF_CONN;
  local.sconn_port = htons(options_.local_port);
  local.sconn_addr = address;
  struct sockaddr_conn remote = local;
  remote.sconn_port = htons(options_.remote_port);
  if (usrsctp_bind(socket_, reinterpret_cast<struct sockaddr*>(&local), sizeof local) != 0) {
    closed_ = true;
    logger()->error("sctp {}: bind failed: {}", id_, std::strerror(errno));
    return;
  }
  ++inside_incoming_;  // nothing reported during set-up is handled before the owner has us
  int rc = usrsctp_connect(socket_, reinterpret_cast<struct sockaddr*>(&remote), sizeof remote);
  --inside_incoming_;
  if (rc != 0 && errno != EINPROGRESS) {
    closed_ = true;
    logger()->error("sctp {}: connect failed: {}", id_, std::strerror(errno));
  }
  if (!inbox_.empty() && worker_ != nullptr) {
    drain_posted_ = true;
    worker_->post([id = id_] {
      if (SctpTransport* t = sctp_stack::local(id)) {
        t->drain_posted_ = false;
        t->drain();
      }
    });
  }
}

SctpTransport::~SctpTransport() {
  *alive_ = false;
  closed_ = true;
  if (socket_ != nullptr) usrsctp_close(socket_);
  usrsctp_deregister_address(address_of(id_));
  sctp_stack::detach(id_);
  for (Inbound& in : inbox_) std::free(in.data);
}

void SctpTransport::send_packet(std::span<const uint8_t> packet) {
  ++counters_.packets_out;
  if (callbacks_.send_packet) callbacks_.send_packet(packet);
}

void SctpTransport::incoming(std::span<const uint8_t> packet) {
  if (closed_ || packet.empty()) return;
  ++counters_.packets_in;
  ++inside_incoming_;
  usrsctp_conninput(address_of(id_), packet.data(), packet.size(), 0);
  --inside_incoming_;
  if (inside_incoming_ == 0) drain();
}

void SctpTransport::enqueue(Inbound inbound) {
  if (closed_) {
    std::free(inbound.data);
    return;
  }
  inbox_.push_back(inbound);
  if (inside_incoming_ > 0 || drain_posted_ || worker_ == nullptr) return;
  drain_posted_ = true;
  worker_->post([id = id_] {
    if (SctpTransport* t = sctp_stack::local(id)) {
      t->drain_posted_ = false;
      t->drain();
    }
  });
}

void SctpTransport::drain() {
  auto alive = alive_;
  while (!inbox_.empty() && *alive) {
    Inbound in = inbox_.front();
    inbox_.pop_front();
    if (!closed_) handle(in);
    std::free(in.data);
  }
  if (!*alive || closed_) return;
  flush_resets();
  if (writable_) {
    writable_ = false;
    flush_queue();
  }
}

void SctpTransport::handle(Inbound& in) {
  switch (in.kind) {
    case Inbound::Kind::kData:
      deliver(in.stream, in.ppid, std::span<const uint8_t>(static_cast<const uint8_t*>(in.data), in.length),
              in.end_of_record);
      break;
    case Inbound::Kind::kNotification:
      on_notification(std::span<const uint8_t>(static_cast<const uint8_t*>(in.data), in.length));
      break;
    case Inbound::Kind::kWritable:
      writable_ = true;
      break;
    case Inbound::Kind::kGone:
      close("SCTP association gone");
      break;
  }
}

void SctpTransport::deliver(uint16_t stream, uint32_t ppid, std::span<const uint8_t> piece, bool end) {
  auto partial = partial_.find(stream);
  if (partial == partial_.end() && end) {  // the common case: a whole message, no copy
    if (piece.size() > options_.max_message_size) {
      ++counters_.oversized;
      logger()->info("sctp {}: a {}-byte message on stream {} is over the limit, stream closed", id_, piece.size(),
                     stream);
      if (callbacks_.on_stream_closed) callbacks_.on_stream_closed(stream);
      return;
    }
    ++counters_.messages_in;
    if (callbacks_.on_message) callbacks_.on_message(stream, ppid, piece);
    return;
  }
  bool& dropping = oversized_[stream];
  std::vector<uint8_t>& message = partial_[stream];
  if (!dropping && message.size() + piece.size() > options_.max_message_size) {
    dropping = true;
    ++counters_.oversized;
    message = {};
    logger()->info("sctp {}: a message on stream {} grew over {} bytes, stream closed", id_, stream,
                   options_.max_message_size);
    if (callbacks_.on_stream_closed) callbacks_.on_stream_closed(stream);
  }
  if (!dropping) message.insert(message.end(), piece.begin(), piece.end());
  if (!end) return;
  std::vector<uint8_t> whole = std::move(message);
  bool dropped = dropping;
  partial_.erase(stream);
  oversized_.erase(stream);
  if (dropped) return;
  ++counters_.messages_in;
  if (callbacks_.on_message) callbacks_.on_message(stream, ppid, whole);
}

void SctpTransport::on_notification(std::span<const uint8_t> bytes) {
  if (bytes.size() < sizeof(std::declval<union sctp_notification>().sn_header)) return;
  // usrsctp malloc'd the buffer, so it is aligned for its own notification structs.
  const auto* n = reinterpret_cast<const union sctp_notification*>(bytes.data());
  if (n->sn_header.sn_length > bytes.size()) return;
  switch (n->sn_header.sn_type) {
    case SCTP_ASSOC_CHANGE: {
      if (bytes.size() < sizeof(struct sctp_assoc_change)) return;
      uint16_t state = n->sn_assoc_change.sac_state;
      if ((state == SCTP_COMM_UP || state == SCTP_RESTART) && !connected_) {
        connected_ = true;
        logger()->debug("sctp {}: association up ({} out, {} in streams)", id_,
                        n->sn_assoc_change.sac_outbound_streams, n->sn_assoc_change.sac_inbound_streams);
        flush_queue();
        if (callbacks_.on_connected) callbacks_.on_connected();
      } else if (state == SCTP_COMM_LOST || state == SCTP_SHUTDOWN_COMP || state == SCTP_CANT_STR_ASSOC) {
        close(state == SCTP_COMM_LOST ? "SCTP association lost" : "SCTP association closed");
      }
      break;
    }
    case SCTP_STREAM_RESET_EVENT: {
      const auto& e = n->sn_strreset_event;
      if (bytes.size() < sizeof(struct sctp_stream_reset_event)) return;
      size_t count = (std::min<size_t>(e.strreset_length, bytes.size()) - sizeof(struct sctp_stream_reset_event)) /
                     sizeof(uint16_t);
      bool failed = (e.strreset_flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)) != 0;
      if ((e.strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN) && !failed) {
        std::vector<uint16_t> streams(e.strreset_stream_list, e.strreset_stream_list + count);
        auto alive = alive_;
        for (uint16_t stream : streams) {
          partial_.erase(stream);
          oversized_.erase(stream);
          if (callbacks_.on_stream_closed) callbacks_.on_stream_closed(stream);
          if (!*alive || closed_) return;
        }
      }
      break;
    }
    case SCTP_SEND_FAILED_EVENT:
      ++counters_.send_dropped;  // abandoned under a partial reliability policy, or the association died
      break;
    case SCTP_SHUTDOWN_EVENT:
      close("SCTP shutdown by the peer");
      break;
    default:
      break;
  }
}

int SctpTransport::try_send(uint16_t stream, uint32_t ppid, std::span<const uint8_t> message,
                            const SctpSendOptions& options) {
  struct sctp_sendv_spa spa {};
  spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
  spa.sendv_sndinfo.snd_sid = stream;
  spa.sendv_sndinfo.snd_ppid = htonl(ppid);
  spa.sendv_sndinfo.snd_flags = SCTP_EOR | (options.unordered ? SCTP_UNORDERED : 0);
  if (options.reliability != dcep::Reliability::kReliable) {
    spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
    spa.sendv_prinfo.pr_policy =
        options.reliability == dcep::Reliability::kMaxRetransmits ? SCTP_PR_SCTP_RTX : SCTP_PR_SCTP_TTL;
    spa.sendv_prinfo.pr_value = options.parameter;
  }
  ssize_t n = usrsctp_sendv(socket_, message.data(), message.size(), nullptr, 0, &spa,
                            static_cast<socklen_t>(sizeof spa), SCTP_SENDV_SPA, 0);
  if (n >= 0) return 0;
  return errno;
}

bool SctpTransport::send(uint16_t stream, uint32_t ppid, std::span<const uint8_t> message,
                         const SctpSendOptions& options) {
  if (closed_ || socket_ == nullptr) return false;
  if (connected_ && queue_.empty()) {
    int error = try_send(stream, ppid, message, options);
    if (error == 0) {
      ++counters_.messages_out;
      return true;
    }
    if (error != EWOULDBLOCK && error != EAGAIN) {
      ++counters_.send_dropped;
      logger()->debug("sctp {}: send on stream {} failed: {}", id_, stream, std::strerror(error));
      return false;
    }
  }
  // Not connected yet, or usrsctp's buffer is full: wait, in order, within a bound.
  if (queued_bytes_ + message.size() > options_.max_queued_bytes) {
    ++counters_.send_dropped;
    return false;
  }
  queue_.push_back({stream, ppid, options, std::vector<uint8_t>(message.begin(), message.end())});
  queued_bytes_ += message.size();
  ++counters_.queued_sends;
  return true;
}

void SctpTransport::flush_queue() {
  while (connected_ && !closed_ && !queue_.empty()) {
    QueuedSend& next = queue_.front();
    int error = try_send(next.stream, next.ppid, next.bytes, next.options);
    if (error == EWOULDBLOCK || error == EAGAIN) return;  // the next send-space report resumes
    if (error == 0) ++counters_.messages_out;
    else ++counters_.send_dropped;
    queued_bytes_ -= next.bytes.size();
    queue_.pop_front();
  }
}

void SctpTransport::reset_stream(uint16_t stream) {
  if (closed_) return;
  if (std::find(pending_resets_.begin(), pending_resets_.end(), stream) == pending_resets_.end())
    pending_resets_.push_back(stream);
  flush_resets();
}

void SctpTransport::flush_resets() {
  if (!connected_ || pending_resets_.empty() || socket_ == nullptr) return;
  // Queued data first: a reset would cut off messages still waiting for the stream.
  for (const QueuedSend& q : queue_)
    if (std::find(pending_resets_.begin(), pending_resets_.end(), q.stream) != pending_resets_.end()) return;
  std::vector<uint8_t> request(sizeof(struct sctp_reset_streams) + pending_resets_.size() * sizeof(uint16_t));
  auto* srs = reinterpret_cast<struct sctp_reset_streams*>(request.data());
  srs->srs_assoc_id = SCTP_ALL_ASSOC;
  srs->srs_flags = SCTP_STREAM_RESET_OUTGOING;
  srs->srs_number_streams = static_cast<uint16_t>(pending_resets_.size());
  std::memcpy(srs->srs_stream_list, pending_resets_.data(), pending_resets_.size() * sizeof(uint16_t));
  if (usrsctp_setsockopt(socket_, IPPROTO_SCTP, SCTP_RESET_STREAMS, request.data(),
                         static_cast<socklen_t>(request.size())) == 0) {
    pending_resets_.clear();
  } else if (errno != EALREADY && errno != EBUSY && errno != EAGAIN && errno != EINPROGRESS) {
    logger()->debug("sctp {}: stream reset refused: {}", id_, std::strerror(errno));
    pending_resets_.clear();
  }
  // Otherwise another reset is running: retried after the next report from usrsctp.
}

void SctpTransport::close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  connected_ = false;
  logger()->debug("sctp {}: {}", id_, reason);
  if (callbacks_.on_closed) callbacks_.on_closed(reason);
}

}  // namespace junction::transports
