#include "transports/dtls_transport.h"

#include <openssl/err.h>
#include <openssl/srtp.h>

#include <algorithm>
#include <cctype>

#include "core/base/log.h"

namespace junction::transports {
namespace {

spdlog::logger& logger() {
  static auto l = log::get("dtls");
  return *l;
}

// RFC 5764 §4.2: the SRTP keying material is exported under this label, no context.
constexpr char kExporterLabel[] = "EXTRACTOR-dtls_srtp";
constexpr size_t kSrtpMasterKeyLength = 16;  // both profiles use AES-128
// A DTLS 1.2 record header is 13 bytes (RFC 6347 §4.1); anything shorter is not DTLS.
constexpr size_t kDtlsRecordHeaderSize = 13;
// Largest datagram we hand to OpenSSL; UDP cannot carry more.
constexpr size_t kMaxDatagram = 65535;
// A quick client's flights that arrive before start(): one flight is a handful of datagrams.
constexpr size_t kMaxEarlyDatagrams = 16;
// Largest DTLS plaintext record (RFC 6347 §4.1 via RFC 5246 §6.2.1).
constexpr size_t kMaxRecordPlaintext = 16384;

// ECDHE only (forward secrecy), AEAD first; ECDSA and RSA so that a loaded RSA certificate
// still works. Browsers offer all of the ECDSA ones.
constexpr char kCipherList[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA";

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  // Tolerate surrounding whitespace from SDP parsing.
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

std::string openssl_error_text(unsigned long code) {
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

std::chrono::milliseconds ceil_ms(std::chrono::microseconds us) {
  return std::chrono::ceil<std::chrono::milliseconds>(std::max(us, std::chrono::microseconds(0)));
}

// One SSL_CTX for the process: everything per-connection (certificate, verification, SRTP
// profiles, MTU, timer) is set on the SSL object, so the context is never modified after
// creation and SSL_new() on it is safe from any worker thread. Deliberately never freed.
SSL_CTX* shared_context(std::string& error) {
  static SSL_CTX* const ctx = []() -> SSL_CTX* {
    ERR_clear_error();
    SSL_CTX* c = SSL_CTX_new(DTLS_method());
    if (c == nullptr) return nullptr;
    // WebRTC peers speak DTLS 1.2; OpenSSL 3.0 has no DTLS 1.3.
    bool ok = SSL_CTX_set_min_proto_version(c, DTLS1_2_VERSION) == 1 &&
              SSL_CTX_set_max_proto_version(c, DTLS1_2_VERSION) == 1 &&
              SSL_CTX_set_cipher_list(c, kCipherList) == 1 &&
              SSL_CTX_set1_groups_list(c, "X25519:P-256:P-384") == 1;
    if (!ok) {
      SSL_CTX_free(c);
      return nullptr;
    }
    // No resumption (every PeerConnection is a fresh handshake), no renegotiation (a
    // mid-call re-handshake would change nothing we use and widens the attack surface).
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_QUERY_MTU);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_read_ahead(c, 1);
    // After the handshake most PeerConnections only use DTLS for its keys (media is SRTP):
    // idle read and write buffers (~17 kB each) go back instead of staying per connection.
    SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
    return c;
  }();
  if (ctx == nullptr) error = "cannot create the DTLS context";
  return ctx;
}

}  // namespace

// The OpenSSL callbacks, with access to the transport's private members. OpenSSL finds the
// transport through the SSL's app data (and the write BIO's data), both set in setup().
struct DtlsTransportAccess {
  static DtlsTransport* from(const SSL* ssl) {
    return ssl == nullptr ? nullptr : static_cast<DtlsTransport*>(SSL_get_app_data(ssl));
  }

  // Verification is the fingerprint, not PKI: the chain, issuer and validity period do not
  // matter (the certificate is self-signed); the leaf must hash to the a=fingerprint value.
  // Rejecting here, during the handshake, means we never derive keys with an impostor, and
  // the peer learns why through a bad_certificate alert.
  static int verify(int /*preverify_ok*/, X509_STORE_CTX* store) {
    auto* ssl =
        static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    DtlsTransport* t = from(ssl);
    if (t == nullptr) return 0;
    if (t->verify_peer_certificate(X509_STORE_CTX_get0_cert(store))) return 1;
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);  // -> bad_certificate alert
    return 0;
  }

  static void info(const SSL* ssl, int where, int ret) {
    if ((where & SSL_CB_ALERT) == 0) return;
    DtlsTransport* t = from(ssl);
    if (t == nullptr) return;
    const bool received = (where & SSL_CB_READ) != 0;
    const char* desc = SSL_alert_desc_string_long(ret);
    if (received && (ret & 0xff) != SSL_AD_CLOSE_NOTIFY) t->last_alert_ = desc;
    logger().debug("DTLS alert {}: {} {}", received ? "received" : "sent",
                   SSL_alert_type_string_long(ret), desc);
  }

  static unsigned int timer(SSL* ssl, unsigned int previous_us) {
    DtlsTransport* t = from(ssl);
    return t == nullptr ? 1000000 : t->next_retransmit_us(previous_us);
  }

  // Our write BIO. Each BIO_write from OpenSSL is one datagram: during the handshake OpenSSL
  // buffers a flight's records and flushes them in MTU-sized writes (several records per
  // datagram, RFC 6347 §4.1.1); afterwards each write is one record. Writes must not be merged:
  // OpenSSL decides what shares a datagram (merging a ClientHello retransmission with the next
  // flight, for one, stalls an OpenSSL server). Kept until flush() hands them to `send`.
  static int bio_write(BIO* bio, const char* data, int length) {
    auto* t = static_cast<DtlsTransport*>(BIO_get_data(bio));
    if (t == nullptr || length < 0) return -1;
    t->write_datagram(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(length));
    return length;
  }

  static long bio_ctrl(BIO*, int cmd, long, void*) {
    switch (cmd) {
      case BIO_CTRL_FLUSH:
        return 1;  // our flush() runs after the OpenSSL call returns
      // Nothing is buffered inside the BIO and it adds no headers: the link MTU set with
      // DTLS_set_link_mtu() is the record budget.
      case BIO_CTRL_WPENDING:
      case BIO_CTRL_PENDING:
      case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
      case BIO_CTRL_DGRAM_QUERY_MTU:
      default:
        return 0;
    }
  }

  static int bio_create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  }

  static BIO_METHOD* bio_method() {
    static BIO_METHOD* const method = [] {
      BIO_METHOD* m =
          BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "junction DTLS records");
      if (m != nullptr) {
        BIO_meth_set_write(m, &bio_write);
        BIO_meth_set_ctrl(m, &bio_ctrl);
        BIO_meth_set_create(m, &bio_create);
      }
      return m;
    }();
    return method;
  }
};

std::string_view to_string(DtlsTransport::State state) {
  switch (state) {
    case DtlsTransport::State::kNew:
      return "new";
    case DtlsTransport::State::kConnecting:
      return "connecting";
    case DtlsTransport::State::kConnected:
      return "connected";
    case DtlsTransport::State::kFailed:
      return "failed";
    case DtlsTransport::State::kClosed:
      return "closed";
  }
  return "?";
}

DtlsTransport::DtlsTransport(std::shared_ptr<const DtlsCertificate> certificate, Role role,
                             std::string remote_fingerprint, Callbacks callbacks, Options options)
    : certificate_(std::move(certificate)),
      role_(role),
      remote_fingerprint_(upper(std::move(remote_fingerprint))),
      callbacks_(std::move(callbacks)),
      options_(std::move(options)) {
  std::string error;
  if (!setup(error)) {
    setup_error_ = error.empty() ? "DTLS setup failed" : error;
    logger().error("DTLS transport setup failed: {}", setup_error_);
    if (ssl_ != nullptr) SSL_free(ssl_);
    ssl_ = nullptr;
    read_bio_ = nullptr;
  }
  ERR_clear_error();
}

DtlsTransport::~DtlsTransport() {
  *alive_ = false;
  if (ssl_ != nullptr) SSL_free(ssl_);  // frees both BIOs
  if (srtp_keys_) {
    OPENSSL_cleanse(srtp_keys_->local_key_salt.data(), srtp_keys_->local_key_salt.size());
    OPENSSL_cleanse(srtp_keys_->remote_key_salt.data(), srtp_keys_->remote_key_salt.size());
  }
}

bool DtlsTransport::setup(std::string& error) {
  ERR_clear_error();
  if (!certificate_ || certificate_->certificate() == nullptr ||
      certificate_->private_key() == nullptr) {
    error = "no DTLS certificate";
    return false;
  }
  if (options_.srtp_profiles.empty()) {
    error = "no SRTP profile configured";
    return false;
  }
  SSL_CTX* ctx = shared_context(error);
  if (ctx == nullptr) return false;
  BIO_METHOD* method = DtlsTransportAccess::bio_method();
  if (method == nullptr) {
    error = "cannot create the DTLS BIO method";
    return false;
  }

  ssl_ = SSL_new(ctx);
  if (ssl_ == nullptr) {
    error = "SSL_new failed";
    return false;
  }
  SSL_set_app_data(ssl_, this);

  if (SSL_use_certificate(ssl_, certificate_->certificate()) != 1 ||
      SSL_use_PrivateKey(ssl_, certificate_->private_key()) != 1 ||
      SSL_check_private_key(ssl_) != 1) {
    error = "cannot use the DTLS certificate: " + openssl_error_text(ERR_get_error());
    return false;
  }
  // The server asks for the client's certificate (CertificateRequest) and insists on one: both
  // sides are authenticated by fingerprint.
  SSL_set_verify(ssl_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                 &DtlsTransportAccess::verify);
  SSL_set_info_callback(ssl_, &DtlsTransportAccess::info);

  std::string profiles;
  for (SrtpProfile p : options_.srtp_profiles) {
    if (!profiles.empty()) profiles += ':';
    profiles += to_string(p);
  }
  if (SSL_set_tlsext_use_srtp(ssl_, profiles.c_str()) != 0) {  // 0 means success here
    error = "cannot set SRTP profiles '" + profiles + "'";
    return false;
  }

  read_bio_ = BIO_new(BIO_s_mem());
  BIO* write_bio = BIO_new(method);
  if (read_bio_ == nullptr || write_bio == nullptr) {
    BIO_free(read_bio_);
    BIO_free(write_bio);
    read_bio_ = nullptr;
    error = "cannot create DTLS BIOs";
    return false;
  }
  // An empty memory BIO means "no more data yet" (retry), not end of file.
  BIO_set_mem_eof_return(read_bio_, -1);
  BIO_set_data(write_bio, this);
  SSL_set_bio(ssl_, read_bio_, write_bio);  // ssl_ owns both from here

  // Never probe the path MTU (there is no socket to ask): records are sized for `mtu`.
  SSL_set_options(ssl_, SSL_OP_NO_QUERY_MTU);
  if (DTLS_set_link_mtu(ssl_, static_cast<long>(options_.mtu)) != 1) {
    error = "MTU " + std::to_string(options_.mtu) + " is too small for DTLS";
    return false;
  }
  DTLS_set_timer_cb(ssl_, &DtlsTransportAccess::timer);
  // No record we send is larger than a datagram (send_data refuses more than the data MTU), so
  // OpenSSL's write buffer needs room for one datagram, not the 16 kB of a TLS record it
  // allocates by default for each connection's life (kept with DTLS even under
  // SSL_MODE_RELEASE_BUFFERS). 512 is OpenSSL's least.
  if (options_.mtu >= 512) (void)SSL_set_max_send_fragment(ssl_, static_cast<long>(options_.mtu));

  if (role_ == Role::kClient) {
    SSL_set_connect_state(ssl_);
  } else {
    SSL_set_accept_state(ssl_);
  }
  out_bytes_.reserve(2 * options_.mtu);
  sending_bytes_.reserve(2 * options_.mtu);
  return true;
}

std::chrono::steady_clock::time_point DtlsTransport::now() const {
  return options_.clock ? options_.clock() : std::chrono::steady_clock::now();
}

unsigned int DtlsTransport::next_retransmit_us(unsigned int previous_us) const {
  using std::chrono::microseconds;
  // At least 1 ms each, at most max_retransmit; OpenSSL passes 0 when it starts a new flight.
  const int64_t cap_us = std::max<int64_t>(
      1000, std::chrono::duration_cast<microseconds>(options_.max_retransmit).count());
  const int64_t initial_us = std::clamp<int64_t>(
      std::chrono::duration_cast<microseconds>(options_.initial_retransmit).count(), 1000, cap_us);
  const int64_t next_us =
      previous_us == 0 ? initial_us : std::min<int64_t>(int64_t{previous_us} * 2, cap_us);
  return static_cast<unsigned int>(next_us);
}

bool DtlsTransport::verify_peer_certificate(X509* cert) {
  const std::string actual = fingerprint_sha256(cert);
  if (!actual.empty() && actual == remote_fingerprint_) return true;
  if (!fingerprint_mismatch_) {
    logger().warn("DTLS peer certificate fingerprint {} does not match the SDP's {}",
                  actual.empty() ? "(none)" : actual, remote_fingerprint_);
  }
  fingerprint_mismatch_ = true;
  return false;
}

void DtlsTransport::write_datagram(const uint8_t* data, size_t length) {
  out_bytes_.insert(out_bytes_.end(), data, data + length);
  out_sizes_.push_back(length);
}

void DtlsTransport::start() {
  if (state_ != State::kNew) return;
  if (ssl_ == nullptr) {
    fail(setup_error_);
    return;
  }
  handshake_deadline_ = now() + options_.handshake_timeout;
  if (!set_state(State::kConnecting, "")) return;
  if (role_ == Role::kClient && !continue_handshake()) return;  // sends the ClientHello
  auto early = std::move(early_datagrams_);
  early_datagrams_.clear();
  for (const auto& datagram : early) {
    if (!process(datagram)) return;
  }
}

void DtlsTransport::incoming(std::span<const uint8_t> datagram) {
  // RFC 7983 §7: DTLS is first byte 20..63. The ICE layer demultiplexes already; this guards
  // against a confused caller and against feeding OpenSSL what cannot be a record.
  const bool looks_like_dtls = datagram.size() >= kDtlsRecordHeaderSize &&
                               datagram.size() <= kMaxDatagram && datagram[0] >= 20 &&
                               datagram[0] <= 63;
  if (!looks_like_dtls || state_ == State::kFailed || state_ == State::kClosed) {
    ++stats_.ignored_in;
    return;
  }
  if (state_ == State::kNew) {
    // Upper layer not started yet: queue, do not drop (STYLE.md "Layered transports").
    if (early_datagrams_.size() >= kMaxEarlyDatagrams) {
      ++stats_.ignored_in;
      return;
    }
    early_datagrams_.emplace_back(datagram.begin(), datagram.end());
    return;
  }
  process(datagram);
}

bool DtlsTransport::process(std::span<const uint8_t> datagram) {
  if (state_ != State::kConnecting && state_ != State::kConnected) return false;
  ++stats_.datagrams_in;
  ERR_clear_error();
  if (BIO_write(read_bio_, datagram.data(), static_cast<int>(datagram.size())) !=
      static_cast<int>(datagram.size())) {
    return fail("DTLS input buffer error");
  }
  auto alive = alive_;
  const bool go_on = handshake_done_ ? read_application_data() : continue_handshake();
  if (!*alive) return false;
  // OpenSSL reads a whole datagram at a time; drop any remainder it did not want so that it
  // cannot be glued to the front of the next datagram.
  (void)BIO_reset(read_bio_);
  ERR_clear_error();
  return go_on;
}

bool DtlsTransport::continue_handshake() {
  ERR_clear_error();
  const int result = SSL_do_handshake(ssl_);
  const int error = result == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, result);
  const bool blocked = error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE;
  // Read OpenSSL's error queue now: flush() runs callbacks that may use OpenSSL too.
  std::string reason = (result == 1 || blocked) ? std::string() : ssl_failure_reason(error);
  ERR_clear_error();
  if (!flush()) return false;  // the next flight, or the alert that reports a failure
  if (result == 1) return on_handshake_complete();
  if (blocked) return true;
  return fail(reason);
}

bool DtlsTransport::on_handshake_complete() {
  handshake_done_ = true;
  // Verified during the handshake already; checked again here so that no path to kConnected
  // skips it (for instance a peer that sent no certificate).
  X509* peer = SSL_get0_peer_certificate(ssl_);
  if (peer == nullptr) return fail("no peer certificate");
  if (!verify_peer_certificate(peer)) return fail("fingerprint mismatch");

  const SRTP_PROTECTION_PROFILE* selected = SSL_get_selected_srtp_profile(ssl_);
  if (selected == nullptr) return fail("no SRTP profile negotiated");
  SrtpProfile profile;
  switch (selected->id) {
    case SRTP_AES128_CM_SHA1_80:
      profile = SrtpProfile::kAes128CmSha1_80;
      break;
    case SRTP_AEAD_AES_128_GCM:
      profile = SrtpProfile::kAeadAes128Gcm;
      break;
    default:
      return fail(std::string("unsupported SRTP profile ") + selected->name);
  }

  // RFC 5764 §4.2: client_write_key | server_write_key | client_write_salt | server_write_salt.
  const size_t key_len = kSrtpMasterKeyLength;
  const size_t salt_len = srtp_key_salt_length(profile) - key_len;
  std::vector<uint8_t> material(2 * (key_len + salt_len));
  ERR_clear_error();
  if (SSL_export_keying_material(ssl_, material.data(), material.size(), kExporterLabel,
                                 sizeof(kExporterLabel) - 1, nullptr, 0, 0) != 1) {
    return fail("SRTP key export failed: " + openssl_error_text(ERR_get_error()));
  }
  auto key_salt = [&](bool client) {
    std::vector<uint8_t> out;
    out.reserve(key_len + salt_len);
    const uint8_t* key = material.data() + (client ? 0 : key_len);
    const uint8_t* salt = material.data() + 2 * key_len + (client ? 0 : salt_len);
    out.insert(out.end(), key, key + key_len);
    out.insert(out.end(), salt, salt + salt_len);
    return out;
  };
  const bool we_are_client = role_ == Role::kClient;
  srtp_keys_ = SrtpKeys{profile, key_salt(we_are_client), key_salt(!we_are_client)};
  OPENSSL_cleanse(material.data(), material.size());

  logger().debug("DTLS connected as {} ({}, {})", role_ == Role::kClient ? "client" : "server",
                 SSL_get_cipher_name(ssl_), to_string(profile));
  if (!set_state(State::kConnected, "")) return false;
  // The datagram that finished the handshake may also carry application data.
  if (!read_application_data()) return false;
  release_idle_buffers();
  return true;
}

void DtlsTransport::release_idle_buffers() {
  // Most PeerConnections send no DTLS record after the handshake (media is SRTP): our flight
  // buffers, reserved for 2 x MTU each, go back; a later record (data channels, an alert, our
  // last flight again) allocates them again once. They are flushed, so empty, here.
  // (Not SSL_free_buffers() for OpenSSL's own: its DTLS write path does not allocate them again,
  // an SSL_write after it crashed. Its write buffer is kept small instead, see setup().)
  if (!flushing_ && out_sizes_.empty()) {
    std::vector<uint8_t>().swap(out_bytes_);
    std::vector<uint8_t>().swap(sending_bytes_);
    std::vector<size_t>().swap(out_sizes_);
    std::vector<size_t>().swap(sending_sizes_);
  }
}

bool DtlsTransport::read_application_data() {
  auto alive = alive_;
  uint8_t buffer[kMaxRecordPlaintext];  // on the stack: a re-entrant call gets its own
  for (;;) {
    ERR_clear_error();
    const int n = SSL_read(ssl_, buffer, sizeof(buffer));
    if (n > 0) {
      stats_.app_bytes_in += static_cast<uint64_t>(n);
      if (callbacks_.on_data) {
        callbacks_.on_data(std::span<const uint8_t>(buffer, static_cast<size_t>(n)));
        if (!*alive || state_ != State::kConnected) return false;
      }
      continue;
    }
    const int error = SSL_get_error(ssl_, n);
    const bool blocked = error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE;
    const bool closed = error == SSL_ERROR_ZERO_RETURN;
    std::string reason = (blocked || closed) ? std::string() : ssl_failure_reason(error);
    ERR_clear_error();
    // SSL_read may have written: our last flight again (the peer's Finished retransmitted
    // because ours was lost), or an alert.
    if (!flush()) return false;
    if (blocked) return true;
    if (closed) {
      set_state(State::kClosed, "closed by peer");
      return false;
    }
    return fail(reason);
  }
}

bool DtlsTransport::flush() {
  // Re-entered from a send callback (which called send_data): the loop below sends the new
  // datagrams once the current batch is out, in order.
  if (out_sizes_.empty() || flushing_) return true;
  flushing_ = true;
  auto alive = alive_;
  while (!out_sizes_.empty()) {
    // Send from the other pair of buffers so that a re-entrant write cannot move the bytes
    // under a span we handed out; swapping keeps both capacities (no allocation per packet).
    std::swap(out_bytes_, sending_bytes_);
    std::swap(out_sizes_, sending_sizes_);
    size_t offset = 0;
    for (size_t size : sending_sizes_) {
      ++stats_.datagrams_out;
      if (callbacks_.send) {
        callbacks_.send(std::span<const uint8_t>(sending_bytes_.data() + offset, size));
        if (!*alive) return false;
      }
      offset += size;
    }
    sending_bytes_.clear();
    sending_sizes_.clear();
  }
  flushing_ = false;
  return true;
}

bool DtlsTransport::set_state(State state, const std::string& reason) {
  if (state_ == state) return true;
  state_ = state;
  if (state == State::kFailed) {
    logger().warn("DTLS {} failed: {}", role_ == Role::kClient ? "client" : "server", reason);
  } else {
    logger().debug("DTLS {} -> {}{}{}", role_ == Role::kClient ? "client" : "server",
                   to_string(state), reason.empty() ? "" : ": ", reason);
  }
  if (!callbacks_.on_state) return true;
  auto alive = alive_;
  callbacks_.on_state(state, reason);
  return *alive && state_ == state;
}

bool DtlsTransport::fail(const std::string& reason) {
  if (state_ == State::kFailed || state_ == State::kClosed) return false;
  set_state(State::kFailed, reason);
  return false;
}

std::string DtlsTransport::ssl_failure_reason(int ssl_error) {
  // Most specific first: our own verdict on the certificate, then what the peer told us, then
  // OpenSSL's error queue.
  if (fingerprint_mismatch_) return "fingerprint mismatch";
  if (!last_alert_.empty()) return "DTLS alert: " + last_alert_;
  const unsigned long code = ERR_peek_error();
  if (code != 0) return "DTLS error: " + openssl_error_text(code);
  return "DTLS error (SSL_get_error " + std::to_string(ssl_error) + ")";
}

std::optional<std::chrono::milliseconds> DtlsTransport::next_timeout() const {
  if (ssl_ == nullptr || (state_ != State::kConnecting && state_ != State::kConnected)) {
    return std::nullopt;
  }
  std::optional<std::chrono::milliseconds> result;
  timeval tv{};
  if (DTLSv1_get_timeout(ssl_, &tv) == 1) {
    result = ceil_ms(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
  }
  if (state_ == State::kConnecting) {
    auto left =
        ceil_ms(std::chrono::duration_cast<std::chrono::microseconds>(handshake_deadline_ - now()));
    if (!result || left < *result) result = left;
  }
  return result;
}

void DtlsTransport::on_timeout() {
  if (ssl_ == nullptr || (state_ != State::kConnecting && state_ != State::kConnected)) return;
  if (state_ == State::kConnecting && now() >= handshake_deadline_) {
    fail("handshake timeout");
    return;
  }
  ERR_clear_error();
  // Retransmits the last flight if its timer expired (and re-arms it through our timer
  // callback); does nothing when called early.
  const int result = DTLSv1_handle_timeout(ssl_);
  ERR_clear_error();
  if (!flush()) return;
  if (result < 0) fail("handshake timeout");  // OpenSSL's own retry limit
}

bool DtlsTransport::send_data(std::span<const uint8_t> data) {
  if (state_ != State::kConnected || data.empty()) return false;
  const size_t limit = std::min(DTLS_get_data_mtu(ssl_), kMaxRecordPlaintext);
  if (limit != 0 && data.size() > limit) {
    logger().debug("DTLS send_data: {} bytes exceed the {}-byte record budget", data.size(), limit);
    return false;
  }
  ERR_clear_error();
  const int n = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
  if (n <= 0) {
    const int error = SSL_get_error(ssl_, n);
    std::string reason = ssl_failure_reason(error);
    ERR_clear_error();
    if (!flush()) return false;
    // A write can only fail this way if the connection is broken (a fatal alert was sent).
    if (error == SSL_ERROR_SSL || error == SSL_ERROR_SYSCALL) fail(reason);
    return false;
  }
  stats_.app_bytes_out += static_cast<uint64_t>(n);
  flush();
  return true;
}

void DtlsTransport::close() {
  if (state_ == State::kClosed || state_ == State::kFailed) return;
  if (state_ == State::kConnected && ssl_ != nullptr) {
    // close_notify (RFC 5246 §7.2.1). We do not wait for the peer's: the transport is done.
    ERR_clear_error();
    (void)SSL_shutdown(ssl_);
    ERR_clear_error();
    if (!flush()) return;
  }
  set_state(State::kClosed, "closed locally");
}

}  // namespace junction::transports
