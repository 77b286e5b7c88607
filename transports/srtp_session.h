#pragma once
// One direction of SRTP/SRTCP (RFC 3711, RFC 7714) on OpenSSL, keyed from DTLS-SRTP (RFC 5764).
//
// A PeerConnection holds two: an outbound session keyed with the local key/salt (what we
// protect with) and an inbound one keyed with the remote key/salt. Each covers every SSRC of its
// direction (a stream's rollover counter and replay window appear with its first packet; on the
// inbound side only once that packet authenticated), so new streams need no set-up. Sits on the
// media path: it never throws and allocates only when a new SSRC appears; a packet that fails is
// counted in stats() and reported as length 0.
//
// The transforms are ours (srtp_crypto.h, srtp_replay.h), kept byte-identical with libsrtp2 —
// the same ciphertext, the same packets accepted and refused — by the differential tests in
// tests/unit/transports/srtp_differential_test.cpp and the srtp fuzz target. Why not libsrtp:
// Debian builds it against NSS, which costs ~5x the OpenSSL primitives (docs/design-notes.md).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "transports/srtp_replay.h"

namespace junction::transports {

// DTLS-SRTP protection profiles (RFC 5764 §4.1.2, RFC 7714 §14.2). The DTLS layer negotiates
// kAeadAes128Gcm (preferred) and kAes128CmSha1_80; the other two are implemented and tested
// against libsrtp but not offered (kAeadAes256Gcm would need a 32-byte key export there).
enum class SrtpProfile { kAes128CmSha1_80, kAes128CmSha1_32, kAeadAes128Gcm, kAeadAes256Gcm };

// Master key + master salt length in bytes: 30 (16 + 14) for AES-CM, 28 (16 + 12) for
// AES-128-GCM, 44 (32 + 12) for AES-256-GCM.
size_t srtp_key_salt_length(SrtpProfile profile);
// "SRTP_AES128_CM_SHA1_80", "SRTP_AEAD_AES_128_GCM"... (the OpenSSL / IANA names).
std::string_view to_string(SrtpProfile profile);

class SrtpCrypto;

class SrtpSession {
  struct Private {};

 public:
  enum class Direction { kInbound, kOutbound };

  // Room a caller's buffer must have after the packet for protect_rtp() / protect_rtcp(). The
  // actual growth is the tag (4, 10 or 16 bytes) plus 4 for the SRTCP index; the figures are
  // libsrtp's SRTP_MAX_TRAILER_LEN (+4), kept so that a buffer sized for either still fits.
  static constexpr size_t kRtpTrailerRoom = 144;
  static constexpr size_t kRtcpTrailerRoom = 148;

  // key_salt = master key followed by master salt, srtp_key_salt_length(profile) bytes. Returns
  // nullptr (and logs) on a wrong length or an OpenSSL failure.
  static std::unique_ptr<SrtpSession> create(SrtpProfile profile, std::span<const uint8_t> key_salt,
                                             Direction direction);
  SrtpSession(Private, std::unique_ptr<SrtpCrypto> crypto, SrtpProfile profile, Direction direction);
  ~SrtpSession();
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  // In place. `capacity` is the writable size of the buffer at `packet` and must be at least
  // length + k{Rtp,Rtcp}TrailerRoom. Returns the protected length, or 0 on failure (counted in
  // other_errors). Only valid on an outbound session. A packet re-sent with a sequence number
  // already used (a NACKed packet to a peer without RTX) is protected again with the same
  // index, as libsrtp's allow_repeat_tx does: identical plaintext under the same keystream
  // leaks nothing new.
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
  enum class Failure { kAuthentication, kReplay, kMalformed, kCrypto };
  // Per SSRC: the RTP rollover counter / replay window and the SRTCP index / replay window.
  struct Stream {
    uint32_t ssrc;
    RtpReplayWindow rtp;
    RtcpReplayWindow rtcp;
  };
  bool precheck(Kind kind, const uint8_t* packet, size_t length, bool protecting);
  Stream* find(uint32_t ssrc);
  Stream& find_or_add(uint32_t ssrc);
  size_t fail(Kind kind, bool protecting, Failure failure);

  std::unique_ptr<SrtpCrypto> crypto_;
  std::vector<Stream> streams_;
  size_t last_stream_ = 0;  // streams_ index of the last hit: most packets repeat the SSRC
  SrtpProfile profile_;
  Direction direction_;
  Stats stats_;
};

}  // namespace junction::transports
