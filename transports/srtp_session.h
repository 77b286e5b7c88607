#pragma once
// One direction of SRTP/SRTCP (RFC 3711) on libsrtp2, keyed from DTLS-SRTP (RFC 5764).
//
// A PeerConnection holds two: an outbound session keyed with the local key/salt (what we
// protect with) and an inbound one keyed with the remote key/salt. Each covers every SSRC of its
// direction (libsrtp's ssrc_any_inbound / ssrc_any_outbound templates), so new streams need no
// set-up. Sits on the media path: it never throws and never allocates per packet; a packet that
// fails is counted in stats() and reported as length 0.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

struct srtp_ctx_t_;  // libsrtp's session, kept opaque so that users need not include libsrtp

namespace junction::transports {

// The DTLS-SRTP protection profiles we negotiate (RFC 5764 §4.1.2, RFC 7714 §14.2).
enum class SrtpProfile { kAes128CmSha1_80, kAeadAes128Gcm };

// Master key + master salt length in bytes: 30 (16 + 14) for AES-CM, 28 (16 + 12) for GCM.
size_t srtp_key_salt_length(SrtpProfile profile);
// "SRTP_AES128_CM_SHA1_80" / "SRTP_AEAD_AES_128_GCM" (the OpenSSL / IANA names).
std::string_view to_string(SrtpProfile profile);

class SrtpSession {
  struct Private {};

 public:
  enum class Direction { kInbound, kOutbound };

  // Bytes protect_rtp() / protect_rtcp() may write past the end of the packet: libsrtp's
  // documented SRTP_MAX_TRAILER_LEN (tag + MKI), plus the 4-byte SRTCP index for RTCP. The
  // actual growth is smaller (10 or 16 bytes of tag, +4 for RTCP) but libsrtp reserves the
  // right, so a caller's buffer must have this much room after the packet.
  static constexpr size_t kRtpTrailerRoom = 144;
  static constexpr size_t kRtcpTrailerRoom = 148;

  // key_salt = master key followed by master salt, srtp_key_salt_length(profile) bytes. Returns
  // nullptr (and logs) on a wrong length or a libsrtp failure. Runs srtp_init() once per
  // process on first use (thread-safe).
  static std::unique_ptr<SrtpSession> create(SrtpProfile profile, std::span<const uint8_t> key_salt,
                                             Direction direction);
  SrtpSession(Private, srtp_ctx_t_* session, SrtpProfile profile, Direction direction);
  ~SrtpSession();
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  // In place. `capacity` is the writable size of the buffer at `packet` and must be at least
  // length + k{Rtp,Rtcp}TrailerRoom. Returns the protected length, or 0 on failure (counted in
  // other_errors). Only valid on an outbound session. The buffer should be 4-byte aligned.
  size_t protect_rtp(uint8_t* packet, size_t length, size_t capacity);
  size_t protect_rtcp(uint8_t* packet, size_t length, size_t capacity);

  // In place. Returns the plaintext length, or 0 when the packet is dropped (authentication
  // failure, replay, malformed); each drop is counted in stats(). Only valid on an inbound
  // session.
  size_t unprotect_rtp(uint8_t* packet, size_t length);
  size_t unprotect_rtcp(uint8_t* packet, size_t length);

  struct Stats {
    uint64_t ok = 0;
    uint64_t auth_failures = 0;
    uint64_t replays = 0;
    uint64_t other_errors = 0;  // malformed, too short, no room, wrong direction, cipher errors
  };
  const Stats& stats() const { return stats_; }
  SrtpProfile profile() const { return profile_; }
  Direction direction() const { return direction_; }

 private:
  enum class Kind { kRtp, kRtcp };
  size_t protect(Kind kind, uint8_t* packet, size_t length, size_t capacity);
  size_t unprotect(Kind kind, uint8_t* packet, size_t length);
  void count_failure(Kind kind, bool protecting, int status);

  srtp_ctx_t_* session_;  // owned; srtp_dealloc'd in the destructor
  SrtpProfile profile_;
  Direction direction_;
  Stats stats_;
};

}  // namespace junction::transports
