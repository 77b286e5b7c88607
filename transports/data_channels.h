#pragma once
// WebRTC data channels (RFC 8831) on one SCTP association: which stream carries which channel,
// DCEP (RFC 8832) open/ack for channels opened by either side, text/binary/empty messages by
// payload protocol id, and closing by stream reset (RFC 8831 §6.7). It knows nothing of usrsctp:
// the owner (the PeerConnection) feeds it whole SCTP messages and carries out its sends and
// resets, which keeps it testable on its own.
//
// Stream ids: the DTLS client opens channels on even streams, the server on odd ones
// (RFC 8832 §6), so both sides can open at once without colliding.
//
// Threading: not thread-safe; the owner's media worker only. Never throws on network input:
// an invalid DCEP message closes the stream it came on; data on a stream with no channel is
// dropped; both are counted.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "transports/dcep.h"

namespace junction::transports {

// How a message goes out on SCTP: ordered or not, and the partial reliability policy
// (RFC 3758 PR-SCTP: a retransmission count or a lifetime in ms).
struct SctpSendOptions {
  bool unordered = false;
  dcep::Reliability reliability = dcep::Reliability::kReliable;
  uint32_t parameter = 0;
};

class DataChannels {
 public:
  static constexpr uint16_t kMaxStreams = 1024;  // streams we negotiate each way

  struct Channel {
    uint16_t stream = 0;
    std::string label, protocol;
    SctpSendOptions options;
    bool local = false;  // opened by us (we sent the OPEN)
    bool acked = false;  // the ACK went out (remote) or came in (local)
  };
  struct Callbacks {
    // One SCTP user message; false when it could not be queued.
    std::function<bool(uint16_t stream, uint32_t ppid, std::span<const uint8_t> data, const SctpSendOptions&)> send;
    // Resets our outgoing side of `stream` (the peer then resets its side).
    std::function<void(uint16_t stream)> reset_stream;
    std::function<void(const Channel&)> on_open;   // a channel is usable (opened by either side)
    std::function<void(const Channel&, bool binary, std::span<const uint8_t> data)> on_message;
    std::function<void(const Channel&)> on_close;
  };
  struct Counters {
    uint64_t messages_in = 0, messages_out = 0, bytes_in = 0, bytes_out = 0;
    uint64_t invalid_dcep = 0, no_channel = 0, send_failures = 0;
  };

  DataChannels(bool dtls_client, Callbacks callbacks);

  // A complete SCTP message from the peer.
  void on_sctp_message(uint16_t stream, uint32_t ppid, std::span<const uint8_t> data);
  // The peer reset its outgoing side of `stream`: the channel is closed.
  void on_stream_reset(uint16_t stream);

  // Opens a channel (sends DCEP OPEN); data may follow at once (sent ordered until the ACK).
  // Nullopt when no stream is free.
  std::optional<uint16_t> open(std::string_view label, std::string_view protocol, const SctpSendOptions& options = {});
  // Sends on the channel labelled `label` ("" = the first channel), opening one with that label
  // (or "JanusDataChannel" for "") when there is none.
  bool send(std::string_view label, std::string_view protocol, bool binary, std::span<const uint8_t> data);
  bool send_on(uint16_t stream, bool binary, std::span<const uint8_t> data);
  void close(uint16_t stream);

  const Channel* find(uint16_t stream) const;
  const Channel* find_label(std::string_view label) const;
  const std::map<uint16_t, Channel>& channels() const { return channels_; }
  const Counters& counters() const { return counters_; }

 private:
  void on_dcep(uint16_t stream, std::span<const uint8_t> data);
  void refuse(uint16_t stream);

  Callbacks callbacks_;
  std::map<uint16_t, Channel> channels_;
  uint16_t next_stream_;
  Counters counters_;
};

}  // namespace junction::transports
