#include "transports/srtp_session.h"

#include <climits>

#include "core/base/log.h"
#include "transports/srtp_crypto.h"

namespace junction::transports {
namespace {

constexpr size_t kRtpHeaderSize = 12;
constexpr size_t kRtcpHeaderSize = 8;  // common header + sender SSRC
// Log the first failure of a kind on a session, then every Nth (STYLE.md "Logging").
constexpr uint64_t kLogEvery = 1000;

spdlog::logger& logger() {
  static auto l = log::get("srtp");
  return *l;
}

uint32_t load_be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 |
         p[3];
}

// The RTP header's length (fixed part, CSRCs, extension), or 0 when it does not fit in
// `length` bytes: the same test libsrtp makes (srtp_validate_rtp_header) on the whole packet.
size_t rtp_header_length(const uint8_t* packet, size_t length) {
  size_t header = kRtpHeaderSize + 4 * size_t{packet[0] & 0x0Fu};
  if ((packet[0] & 0x10) != 0) {
    if (length < header + 4) return 0;
    header += 4 + 4 * (size_t{packet[header + 2]} << 8 | packet[header + 3]);
  }
  return length < header ? 0 : header;
}

const char* failure_name(int failure) {
  static const char* const names[] = {"authentication failure", "replay",
                                      "malformed packet, short buffer or wrong direction", "cipher error"};
  return names[failure];
}

}  // namespace

size_t srtp_key_salt_length(SrtpProfile profile) {
  switch (profile) {
    case SrtpProfile::kAes128CmSha1_80:
    case SrtpProfile::kAes128CmSha1_32:
      return 16 + 14;
    case SrtpProfile::kAeadAes128Gcm:
      return 16 + 12;
    case SrtpProfile::kAeadAes256Gcm:
      return 32 + 12;
  }
  return 0;
}

std::string_view to_string(SrtpProfile profile) {
  switch (profile) {
    case SrtpProfile::kAes128CmSha1_80:
      return "SRTP_AES128_CM_SHA1_80";
    case SrtpProfile::kAes128CmSha1_32:
      return "SRTP_AES128_CM_SHA1_32";
    case SrtpProfile::kAeadAes128Gcm:
      return "SRTP_AEAD_AES_128_GCM";
    case SrtpProfile::kAeadAes256Gcm:
      return "SRTP_AEAD_AES_256_GCM";
  }
  return "?";
}

std::unique_ptr<SrtpSession> SrtpSession::create(SrtpProfile profile, std::span<const uint8_t> key_salt,
                                                 Direction direction) {
  const size_t expected = srtp_key_salt_length(profile);
  if (key_salt.size() != expected) {
    logger().error("SRTP {}: key+salt is {} bytes, expected {}", to_string(profile), key_salt.size(), expected);
    return nullptr;
  }
  auto crypto = SrtpCrypto::create(profile, key_salt, direction == Direction::kOutbound);
  if (!crypto) {
    logger().error("SRTP {} ({}): cipher set-up failed", to_string(profile),
                   direction == Direction::kInbound ? "inbound" : "outbound");
    return nullptr;
  }
  return std::make_unique<SrtpSession>(Private{}, std::move(crypto), profile, direction);
}

SrtpSession::SrtpSession(Private, std::unique_ptr<SrtpCrypto> crypto, SrtpProfile profile, Direction direction)
    : crypto_(std::move(crypto)), profile_(profile), direction_(direction) {}

SrtpSession::~SrtpSession() = default;

SrtpSession::Stream* SrtpSession::find(uint32_t ssrc) {
  if (last_stream_ < streams_.size() && streams_[last_stream_].ssrc == ssrc) return &streams_[last_stream_];
  for (size_t i = 0; i < streams_.size(); ++i) {
    if (streams_[i].ssrc == ssrc) {
      last_stream_ = i;
      return &streams_[i];
    }
  }
  return nullptr;
}

SrtpSession::Stream& SrtpSession::find_or_add(uint32_t ssrc) {
  if (Stream* s = find(ssrc)) return *s;
  streams_.push_back(Stream{ssrc, {}, {}});  // a new SSRC: the only allocation on this path
  last_stream_ = streams_.size() - 1;
  return streams_.back();
}

bool SrtpSession::precheck(Kind kind, const uint8_t* packet, size_t length, bool protecting) {
  const size_t min_size = kind == Kind::kRtcp ? kRtcpHeaderSize : kRtpHeaderSize;
  const Direction wanted = protecting ? Direction::kOutbound : Direction::kInbound;
  // First two bits of RTP and RTCP are the version, 2 (RFC 3550 §5.1, §6.4.1).
  return direction_ == wanted && packet != nullptr && length >= min_size && length <= INT_MAX / 2 &&
         (packet[0] >> 6) == 2;
}

size_t SrtpSession::protect_rtp(uint8_t* packet, size_t length, size_t capacity) {
  if (!precheck(Kind::kRtp, packet, length, true) || capacity < length + kRtpTrailerRoom) {
    return fail(Kind::kRtp, true, Failure::kMalformed);
  }
  const size_t header = rtp_header_length(packet, length);
  if (header == 0) return fail(Kind::kRtp, true, Failure::kMalformed);
  const uint32_t ssrc = load_be32(packet + 8);
  Stream& stream = find_or_add(ssrc);
  int64_t delta = 0;
  const uint64_t index = stream.rtp.estimate(static_cast<uint16_t>(packet[2] << 8 | packet[3]), &delta);
  switch (stream.rtp.check(delta)) {
    case ReplayCheck::kOk:
      stream.rtp.add(delta);
      break;
    case ReplayCheck::kReplay:
      break;  // a re-send: same index, same keystream (see the header)
    case ReplayCheck::kTooOld:
      return fail(Kind::kRtp, true, Failure::kReplay);
  }
  if (!crypto_->protect_rtp(packet, header, length, ssrc, index)) return fail(Kind::kRtp, true, Failure::kCrypto);
  ++stats_.ok;
  return length + crypto_->rtp_overhead();
}

size_t SrtpSession::unprotect_rtp(uint8_t* packet, size_t length) {
  if (!precheck(Kind::kRtp, packet, length, false)) return fail(Kind::kRtp, false, Failure::kMalformed);
  const size_t header = rtp_header_length(packet, length);
  if (header == 0 || length < header + crypto_->rtp_overhead()) return fail(Kind::kRtp, false, Failure::kMalformed);
  const uint32_t ssrc = load_be32(packet + 8);
  // An SSRC not seen yet is a blank stream; it is kept only if the packet authenticates.
  Stream* known = find(ssrc);
  Stream blank{ssrc, {}, {}};
  Stream& stream = known != nullptr ? *known : blank;
  int64_t delta = 0;
  const uint64_t index = stream.rtp.estimate(static_cast<uint16_t>(packet[2] << 8 | packet[3]), &delta);
  if (stream.rtp.check(delta) != ReplayCheck::kOk) return fail(Kind::kRtp, false, Failure::kReplay);
  if (!crypto_->unprotect_rtp(packet, header, length, ssrc, index)) {
    return fail(Kind::kRtp, false, Failure::kAuthentication);
  }
  if (known != nullptr) {
    known->rtp.add(delta);
  } else {
    find_or_add(ssrc).rtp.add(delta);
  }
  ++stats_.ok;
  return length - crypto_->rtp_overhead();
}

size_t SrtpSession::protect_rtcp(uint8_t* packet, size_t length, size_t capacity) {
  if (!precheck(Kind::kRtcp, packet, length, true) || capacity < length + kRtcpTrailerRoom) {
    return fail(Kind::kRtcp, true, Failure::kMalformed);
  }
  Stream& stream = find_or_add(load_be32(packet + 4));
  uint32_t index = 0;
  // 2^31 - 1 SRTCP packets under one key: refuse, as libsrtp does (the key is spent).
  if (!stream.rtcp.next(&index)) return fail(Kind::kRtcp, true, Failure::kCrypto);
  if (!crypto_->protect_rtcp(packet, length, index)) return fail(Kind::kRtcp, true, Failure::kCrypto);
  ++stats_.ok;
  return length + crypto_->rtcp_overhead();
}

size_t SrtpSession::unprotect_rtcp(uint8_t* packet, size_t length) {
  if (!precheck(Kind::kRtcp, packet, length, false) || length < kRtcpHeaderSize + crypto_->rtcp_overhead()) {
    return fail(Kind::kRtcp, false, Failure::kMalformed);
  }
  const uint32_t word = load_be32(packet + length - 4 - (crypto_->aead() ? 0 : crypto_->rtcp_overhead() - 4));
  const bool encrypted = (word & 0x80000000u) != 0;
  const uint32_t index = word & 0x7FFFFFFFu;
  // RFC 3711 §3.4: an unencrypted SRTCP packet is allowed, but the AES-CM profiles here always
  // encrypt, and libsrtp refuses E = 0 for them; RFC 7714 §9.3 GCM accepts it (authenticated).
  if (!encrypted && !crypto_->aead()) return fail(Kind::kRtcp, false, Failure::kMalformed);
  const uint32_t ssrc = load_be32(packet + 4);
  Stream* known = find(ssrc);
  if (known != nullptr && known->rtcp.check(index) != ReplayCheck::kOk) {
    return fail(Kind::kRtcp, false, Failure::kReplay);
  }
  if (!crypto_->unprotect_rtcp(packet, length, encrypted, index)) {
    return fail(Kind::kRtcp, false, Failure::kAuthentication);
  }
  (known != nullptr ? *known : find_or_add(ssrc)).rtcp.add(index);
  ++stats_.ok;
  return length - crypto_->rtcp_overhead();
}

size_t SrtpSession::fail(Kind kind, bool protecting, Failure failure) {
  uint64_t* counter = failure == Failure::kAuthentication ? &stats_.auth_failures
                      : failure == Failure::kReplay       ? &stats_.replays
                                                          : &stats_.other_errors;
  ++*counter;
  if (*counter == 1 || *counter % kLogEvery == 0) {
    logger().warn("SRTP {} {} ({}): {}, {} so far", protecting ? "protect" : "unprotect",
                  kind == Kind::kRtcp ? "RTCP" : "RTP", to_string(profile_), failure_name(static_cast<int>(failure)),
                  *counter);
  }
  return 0;
}

}  // namespace junction::transports
