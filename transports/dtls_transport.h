#pragma once
// DTLS 1.2 (RFC 6347) for WebRTC: the handshake that authenticates the peer by its SDP
// fingerprint (RFC 8827 §6.5, RFC 8122) and derives the SRTP keys (DTLS-SRTP, RFC 5764), then
// carries application data (SCTP, for data channels).
//
// Layering (STYLE.md "Layered transports"): this class never touches a socket. The owner (the
// ICE layer, through the PeerConnection) hands it each DTLS datagram with incoming() and sends
// whatever comes out of Callbacks::send. OpenSSL reads from a memory BIO and writes through a
// small BIO of ours that collects its datagrams (at most `mtu` bytes each, OpenSSL packs a
// flight's records); they leave through `send` once the OpenSSL call has returned, so the owner
// is never called back from inside OpenSSL.
//
// Threading: not thread-safe. Every call, and every callback, happens on the owner's thread
// (the media worker the PeerConnection is pinned to). Callbacks run synchronously inside
// start(), incoming(), on_timeout(), send_data() and close(); a callback may destroy the
// transport (the call that invoked it notices and returns without touching it again).
//
// Never throws on input. Garbage datagrams are ignored and counted; any OpenSSL failure moves
// the transport to kFailed with a readable reason; kFailed and kClosed are final.
#include <openssl/ssl.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "transports/dtls_certificate.h"
#include "transports/srtp_session.h"

namespace junction::transports {

// Tunables of a DtlsTransport. The defaults are what production uses; tests override them
// (a narrower SRTP profile list, a shorter handshake budget, a fake clock).
struct DtlsOptions {
  // SRTP profiles offered (client) or accepted (server), most preferred first. The server picks
  // its most preferred profile among those the client offered.
  std::vector<SrtpProfile> srtp_profiles{SrtpProfile::kAeadAes128Gcm,
                                         SrtpProfile::kAes128CmSha1_80};
  // Largest datagram we send (UDP payload). 1200 fits every path WebRTC cares about, TURN
  // and IPv6 headers included.
  size_t mtu = 1200;
  // Handshake retransmission: first after `initial_retransmit`, then doubling up to
  // `max_retransmit` (OpenSSL's own default starts at 1 s, far too slow for call set-up).
  std::chrono::milliseconds initial_retransmit{100};
  std::chrono::milliseconds max_retransmit{3000};
  // From start() to kConnected; past this, on_timeout() fails with "handshake timeout". With the
  // defaults the client has retransmitted 7 times by then.
  std::chrono::milliseconds handshake_timeout{12000};
  // The clock for the handshake deadline (null = steady_clock). OpenSSL's retransmission timer
  // always runs on the real clock: only the deadline can be faked.
  std::function<std::chrono::steady_clock::time_point()> clock;
};

class DtlsTransport {
 public:
  enum class Role { kClient, kServer };  // client = "a=setup:active" side, server = "passive"
  enum class State { kNew, kConnecting, kConnected, kFailed, kClosed };
  using Options = DtlsOptions;

  // local = what WE protect with (the outbound SrtpSession), remote = what the peer protects
  // with (our inbound SrtpSession). Each is master key followed by master salt.
  struct SrtpKeys {
    SrtpProfile profile;
    std::vector<uint8_t> local_key_salt, remote_key_salt;
  };
  struct Callbacks {
    // One outgoing DTLS datagram (one or more records) for the ICE layer.
    std::function<void(std::span<const uint8_t>)> send;
    // Every state change. reason: "fingerprint mismatch", "DTLS alert: ...", "handshake
    // timeout", "closed by peer", "closed locally", or OpenSSL's error text.
    std::function<void(State, const std::string& reason)> on_state;
    // Decrypted application data, one DTLS record's worth (SCTP packets, later).
    std::function<void(std::span<const uint8_t>)> on_data;
  };
  struct Stats {
    uint64_t datagrams_in = 0;
    uint64_t datagrams_out = 0;
    uint64_t ignored_in = 0;  // not DTLS, arrived after kFailed/kClosed, or queue overflow
    uint64_t app_bytes_in = 0;
    uint64_t app_bytes_out = 0;
  };

  // remote_fingerprint: the peer's a=fingerprint:sha-256 value ("AB:CD:..", compared
  // case-insensitively). The peer's certificate is checked against it during the handshake
  // (and again once it completes); a mismatch is kFailed with reason "fingerprint mismatch".
  DtlsTransport(std::shared_ptr<const DtlsCertificate> certificate, Role role,
                std::string remote_fingerprint, Callbacks callbacks, Options options = {});
  ~DtlsTransport();
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;

  // kNew -> kConnecting. The client sends its ClientHello; the server waits for one. Datagrams
  // that arrived before start() (a quick client) were queued and are processed now.
  void start();
  // One DTLS datagram from the peer (RFC 7983 demux: first byte 20..63).
  void incoming(std::span<const uint8_t> datagram);

  // When the owner should call on_timeout(), relative to now; nullopt when nothing is pending.
  // Ask again after every call into this object: any of them may re-arm the timer.
  std::optional<std::chrono::milliseconds> next_timeout() const;
  // Retransmits the last handshake flight if its timer expired; fails with "handshake timeout"
  // once the handshake budget is spent. Harmless when called early.
  void on_timeout();

  // Application data after kConnected, as one record (at most mtu minus record overhead, about
  // 1150 bytes with the defaults). False when not connected or OpenSSL refused it.
  bool send_data(std::span<const uint8_t> data);
  // Sends close_notify (when a session exists) and moves to kClosed ("closed locally").
  void close();

  State state() const { return state_; }
  Role role() const { return role_; }
  // Set on kConnected.
  const std::optional<SrtpKeys>& srtp_keys() const { return srtp_keys_; }
  const Stats& stats() const { return stats_; }
  const std::string& local_fingerprint() const { return certificate_->fingerprint_sha256(); }

 private:
  friend struct DtlsTransportAccess;  // OpenSSL callbacks (dtls_transport.cpp)

  std::chrono::steady_clock::time_point now() const;
  bool setup(std::string& error);
  // Each returns false when the transport was destroyed (by a callback) or is finished.
  bool process(std::span<const uint8_t> datagram);
  bool continue_handshake();
  bool read_application_data();
  bool on_handshake_complete();
  void release_idle_buffers();  // after the handshake: what only a handshake needed
  bool flush();
  bool set_state(State state, const std::string& reason);
  bool fail(const std::string& reason);
  std::string ssl_failure_reason(int ssl_error);
  void write_datagram(const uint8_t* data, size_t length);  // from our BIO
  unsigned int next_retransmit_us(unsigned int previous_us) const;
  bool verify_peer_certificate(X509* cert);

  std::shared_ptr<const DtlsCertificate> certificate_;
  const Role role_;
  const std::string remote_fingerprint_;  // upper-cased
  Callbacks callbacks_;
  const Options options_;

  State state_ = State::kNew;
  SSL* ssl_ = nullptr;       // owned; owns both BIOs
  BIO* read_bio_ = nullptr;  // memory BIO, owned by ssl_
  std::string setup_error_;  // non-empty when the constructor could not build ssl_
  bool handshake_done_ = false;
  bool fingerprint_mismatch_ = false;
  std::string last_alert_;  // last fatal alert received, for the failure reason
  std::chrono::steady_clock::time_point handshake_deadline_{};
  std::vector<std::vector<uint8_t>> early_datagrams_;  // before start(), bounded
  // Datagrams written by OpenSSL, not yet sent: bytes back to back, and each one's size.
  std::vector<uint8_t> out_bytes_;
  std::vector<size_t> out_sizes_;
  // The batch flush() is sending (swapped with the above).
  std::vector<uint8_t> sending_bytes_;
  std::vector<size_t> sending_sizes_;
  bool flushing_ = false;
  std::optional<SrtpKeys> srtp_keys_;
  Stats stats_;
  // Cleared by the destructor: lets a call that invoked a callback notice that the callback
  // destroyed this object.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

std::string_view to_string(DtlsTransport::State state);

}  // namespace junction::transports
