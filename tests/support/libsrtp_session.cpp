#include "tests/support/libsrtp_session.h"

#include <srtp2/srtp.h>

#include <array>
#include <climits>
#include <cstring>
#include <mutex>

namespace junction::testing {

using transports::SrtpProfile;

std::unique_ptr<LibsrtpSession> LibsrtpSession::create(SrtpProfile profile, std::span<const uint8_t> key_salt,
                                                       Direction direction) {
  static std::once_flag once;
  static srtp_err_status_t init = srtp_err_status_fail;
  std::call_once(once, [] { init = srtp_init(); });
  if (init != srtp_err_status_ok || key_salt.size() != transports::srtp_key_salt_length(profile)) return nullptr;

  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  switch (profile) {
    case SrtpProfile::kAes128CmSha1_80:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
      break;
    case SrtpProfile::kAes128CmSha1_32:
      // RFC 5764 §4.1.2: SRTCP keeps the 80-bit tag under this profile.
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
      break;
    case SrtpProfile::kAeadAes128Gcm:
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
      break;
    case SrtpProfile::kAeadAes256Gcm:
      srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy.rtp);
      srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy.rtcp);
      break;
  }
  policy.ssrc.type = direction == Direction::kInbound ? ssrc_any_inbound : ssrc_any_outbound;
  std::array<uint8_t, SRTP_MAX_KEY_LEN> key{};
  std::memcpy(key.data(), key_salt.data(), key_salt.size());
  policy.key = key.data();
  policy.window_size = 0;
  policy.allow_repeat_tx = direction == Direction::kOutbound ? 1 : 0;
  srtp_t session = nullptr;
  srtp_err_status_t status = srtp_create(&session, &policy);
  if (status != srtp_err_status_ok) return nullptr;
  return std::make_unique<LibsrtpSession>(session);
}

LibsrtpSession::~LibsrtpSession() {
  if (session_ != nullptr) srtp_dealloc(session_);
}

size_t LibsrtpSession::finish(int status, int length) {
  switch (status) {
    case srtp_err_status_ok:
      last_ = Result::kOk;
      return static_cast<size_t>(length);
    case srtp_err_status_auth_fail:
      last_ = Result::kAuthFailure;
      return 0;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
      last_ = Result::kReplay;
      return 0;
    default:
      last_ = Result::kOtherError;
      return 0;
  }
}

// The same checks SrtpSession makes before the packet reaches the cipher, so that both refuse
// the same packets (libsrtp itself does not look at the version bits).
static bool precheck(const uint8_t* packet, size_t length, size_t min_size) {
  return packet != nullptr && length >= min_size && length <= INT_MAX / 2 && (packet[0] >> 6) == 2;
}

size_t LibsrtpSession::protect_rtp(uint8_t* packet, size_t length, size_t capacity) {
  if (!precheck(packet, length, 12) || capacity < length + transports::SrtpSession::kRtpTrailerRoom) return finish(-1, 0);
  int len = static_cast<int>(length);
  const int status = srtp_protect(session_, packet, &len);  // before len is read
  return finish(status, len);
}
size_t LibsrtpSession::protect_rtcp(uint8_t* packet, size_t length, size_t capacity) {
  if (!precheck(packet, length, 8) || capacity < length + transports::SrtpSession::kRtcpTrailerRoom) return finish(-1, 0);
  int len = static_cast<int>(length);
  const int status = srtp_protect_rtcp(session_, packet, &len);  // before len is read
  return finish(status, len);
}
size_t LibsrtpSession::unprotect_rtp(uint8_t* packet, size_t length) {
  if (!precheck(packet, length, 12)) return finish(-1, 0);
  int len = static_cast<int>(length);
  const int status = srtp_unprotect(session_, packet, &len);  // before len is read
  return finish(status, len);
}
size_t LibsrtpSession::unprotect_rtcp(uint8_t* packet, size_t length) {
  if (!precheck(packet, length, 8)) return finish(-1, 0);
  int len = static_cast<int>(length);
  const int status = srtp_unprotect_rtcp(session_, packet, &len);  // before len is read
  return finish(status, len);
}

}  // namespace junction::testing
