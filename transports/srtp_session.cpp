#include "transports/srtp_session.h"

#include <srtp2/srtp.h>

#include <array>
#include <climits>
#include <cstring>
#include <mutex>

#include "core/base/log.h"

namespace junction::transports {
namespace {

static_assert(SrtpSession::kRtpTrailerRoom == SRTP_MAX_TRAILER_LEN);
static_assert(SrtpSession::kRtcpTrailerRoom == SRTP_MAX_TRAILER_LEN + 4);

constexpr size_t kRtpHeaderSize = 12;
constexpr size_t kRtcpHeaderSize = 8;  // common header + sender SSRC
// Log the first failure of a kind on a session, then every Nth (STYLE.md "Logging").
constexpr uint64_t kLogEvery = 1000;

spdlog::logger& logger() {
  static auto l = log::get("srtp");
  return *l;
}

void on_libsrtp_log(srtp_log_level_t level, const char* msg, void*) {
  switch (level) {
    case srtp_log_level_error:
      logger().warn("libsrtp: {}", msg);
      break;
    case srtp_log_level_warning:
      logger().info("libsrtp: {}", msg);
      break;
    default:
      logger().debug("libsrtp: {}", msg);
      break;
  }
}

// srtp_init() sets up libsrtp's global crypto kernel: once per process, whichever media worker
// gets there first. Never srtp_shutdown(): sessions may live until exit.
bool ensure_srtp_initialized() {
  static std::once_flag once;
  static srtp_err_status_t status = srtp_err_status_fail;
  std::call_once(once, [] {
    status = srtp_init();
    if (status == srtp_err_status_ok) {
      srtp_install_log_handler(&on_libsrtp_log, nullptr);
    } else {
      logger().error("srtp_init failed: status {}", static_cast<int>(status));
    }
  });
  return status == srtp_err_status_ok;
}

// First two bits of RTP and RTCP are the version, 2 (RFC 3550 §5.1, §6.4.1).
bool version_ok(const uint8_t* packet) {
  return (packet[0] >> 6) == 2;
}

const char* kind_name(bool rtcp) {
  return rtcp ? "RTCP" : "RTP";
}

}  // namespace

size_t srtp_key_salt_length(SrtpProfile profile) {
  switch (profile) {
    case SrtpProfile::kAes128CmSha1_80:
      return SRTP_AES_ICM_128_KEY_LEN_WSALT;  // 16 + 14
    case SrtpProfile::kAeadAes128Gcm:
      return SRTP_AES_GCM_128_KEY_LEN_WSALT;  // 16 + 12
  }
  return 0;
}

std::string_view to_string(SrtpProfile profile) {
  switch (profile) {
    case SrtpProfile::kAes128CmSha1_80:
      return "SRTP_AES128_CM_SHA1_80";
    case SrtpProfile::kAeadAes128Gcm:
      return "SRTP_AEAD_AES_128_GCM";
  }
  return "?";
}

std::unique_ptr<SrtpSession> SrtpSession::create(SrtpProfile profile,
                                                 std::span<const uint8_t> key_salt,
                                                 Direction direction) {
  if (!ensure_srtp_initialized()) return nullptr;
  const size_t expected = srtp_key_salt_length(profile);
  if (key_salt.size() != expected) {
    logger().error("SRTP {}: key+salt is {} bytes, expected {}", to_string(profile),
                   key_salt.size(), expected);
    return nullptr;
  }

  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  switch (profile) {
    case SrtpProfile::kAes128CmSha1_80:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
      break;
    case SrtpProfile::kAeadAes128Gcm:
      // RFC 7714 §14.2: AEAD_AES_128_GCM with a 16-byte tag for both SRTP and SRTCP.
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
      break;
  }
  policy.ssrc.type = direction == Direction::kInbound ? ssrc_any_inbound : ssrc_any_outbound;
  policy.ssrc.value = 0;
  // libsrtp keys the session from this buffer during srtp_create() and keeps derived keys
  // only, so a stack copy (wiped afterwards) is enough.
  std::array<uint8_t, SRTP_MAX_KEY_LEN> key{};
  std::memcpy(key.data(), key_salt.data(), key_salt.size());
  policy.key = key.data();
  // 0 = libsrtp's default replay window (128 packets). RTX streams use their own SSRC, so a
  // retransmission is not a replay on the receiving side.
  policy.window_size = 0;
  // Outbound: a NACKed packet re-sent to a peer that did not negotiate RTX goes out again with
  // the same SSRC, sequence number and payload; without this libsrtp refuses it as a replay.
  // Re-encrypting identical plaintext under the same index leaks nothing new.
  policy.allow_repeat_tx = direction == Direction::kOutbound ? 1 : 0;
  policy.next = nullptr;

  srtp_t session = nullptr;
  srtp_err_status_t status = srtp_create(&session, &policy);
  std::memset(key.data(), 0, key.size());
  if (status != srtp_err_status_ok) {
    logger().error("srtp_create ({}, {}) failed: status {}", to_string(profile),
                   direction == Direction::kInbound ? "inbound" : "outbound",
                   static_cast<int>(status));
    return nullptr;
  }
  return std::make_unique<SrtpSession>(Private{}, session, profile, direction);
}

SrtpSession::SrtpSession(Private, srtp_ctx_t_* session, SrtpProfile profile, Direction direction)
    : session_(session), profile_(profile), direction_(direction) {}

SrtpSession::~SrtpSession() {
  if (session_ != nullptr) srtp_dealloc(session_);
}

size_t SrtpSession::protect_rtp(uint8_t* packet, size_t length, size_t capacity) {
  return protect(Kind::kRtp, packet, length, capacity);
}
size_t SrtpSession::protect_rtcp(uint8_t* packet, size_t length, size_t capacity) {
  return protect(Kind::kRtcp, packet, length, capacity);
}
size_t SrtpSession::unprotect_rtp(uint8_t* packet, size_t length) {
  return unprotect(Kind::kRtp, packet, length);
}
size_t SrtpSession::unprotect_rtcp(uint8_t* packet, size_t length) {
  return unprotect(Kind::kRtcp, packet, length);
}

size_t SrtpSession::protect(Kind kind, uint8_t* packet, size_t length, size_t capacity) {
  const bool rtcp = kind == Kind::kRtcp;
  const size_t room = rtcp ? kRtcpTrailerRoom : kRtpTrailerRoom;
  const size_t min_size = rtcp ? kRtcpHeaderSize : kRtpHeaderSize;
  if (direction_ != Direction::kOutbound || packet == nullptr || length < min_size ||
      !version_ok(packet) || length > INT_MAX - room || capacity < length + room) {
    count_failure(kind, true, -1);
    return 0;
  }
  int len = static_cast<int>(length);
  srtp_err_status_t status =
      rtcp ? srtp_protect_rtcp(session_, packet, &len) : srtp_protect(session_, packet, &len);
  if (status != srtp_err_status_ok || len <= 0 || static_cast<size_t>(len) > capacity) {
    count_failure(kind, true, status);
    return 0;
  }
  ++stats_.ok;
  return static_cast<size_t>(len);
}

size_t SrtpSession::unprotect(Kind kind, uint8_t* packet, size_t length) {
  const bool rtcp = kind == Kind::kRtcp;
  const size_t min_size = rtcp ? kRtcpHeaderSize : kRtpHeaderSize;
  if (direction_ != Direction::kInbound || packet == nullptr || length < min_size ||
      !version_ok(packet) || length > INT_MAX) {
    count_failure(kind, false, -1);
    return 0;
  }
  int len = static_cast<int>(length);
  srtp_err_status_t status =
      rtcp ? srtp_unprotect_rtcp(session_, packet, &len) : srtp_unprotect(session_, packet, &len);
  if (status != srtp_err_status_ok || len <= 0 || static_cast<size_t>(len) > length) {
    count_failure(kind, false, status);
    return 0;
  }
  ++stats_.ok;
  return static_cast<size_t>(len);
}

// `status` is a srtp_err_status_t, or -1 for a packet we refused before libsrtp saw it.
void SrtpSession::count_failure(Kind kind, bool protecting, int status) {
  uint64_t* counter = &stats_.other_errors;
  const char* what = "error";
  if (status == srtp_err_status_auth_fail) {
    counter = &stats_.auth_failures;
    what = "authentication failure";
  } else if (status == srtp_err_status_replay_fail || status == srtp_err_status_replay_old) {
    counter = &stats_.replays;
    what = "replay";
  } else if (status == -1) {
    what = "malformed packet, short buffer or wrong direction";
  }
  ++*counter;
  if (*counter == 1 || *counter % kLogEvery == 0) {
    logger().warn("SRTP {} {} ({}): {} (status {}), {} so far",
                  protecting ? "protect" : "unprotect", kind_name(kind == Kind::kRtcp),
                  to_string(profile_), what, status, *counter);
  }
}

}  // namespace junction::transports
