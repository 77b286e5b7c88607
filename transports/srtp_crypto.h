#pragma once
// The cryptographic transforms of SRTP and SRTCP on OpenSSL, for one direction of one session:
// key derivation (RFC 3711 §4.3, AES-CM PRF; RFC 7714 §11 for GCM), AES-CM encryption with
// HMAC-SHA1 authentication (RFC 3711 §4.1.1, §4.2.1) and AEAD_AES_128/256_GCM (RFC 7714 §8, §9).
// Packet indexes, replay windows and header parsing live in SrtpSession (srtp_session.cpp) and
// srtp_replay.h; this class only turns a packet with a known index into its protected form and
// back.
//
// Every OpenSSL context is made once per session and re-initialised per packet with the new IV
// (no allocation of ours per packet); the derived keys exist only inside those contexts and the
// session salts here, which the destructor wipes.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "transports/srtp_session.h"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct evp_mac_ctx_st EVP_MAC_CTX;

namespace junction::transports {

class SrtpCrypto {
  struct Private {};

 public:
  // key_salt: master key then master salt (srtp_key_salt_length(profile) bytes). `encrypt`:
  // an outbound session (protect) or an inbound one (unprotect). nullptr on an OpenSSL failure.
  static std::unique_ptr<SrtpCrypto> create(SrtpProfile profile, std::span<const uint8_t> key_salt, bool encrypt);
  SrtpCrypto(Private, SrtpProfile profile, bool encrypt);
  ~SrtpCrypto();
  SrtpCrypto(const SrtpCrypto&) = delete;
  SrtpCrypto& operator=(const SrtpCrypto&) = delete;

  bool aead() const { return aead_; }
  // Bytes appended to an RTP packet (the tag), and to an RTCP packet (tag + 4-byte E|index).
  size_t rtp_overhead() const { return rtp_tag_; }
  size_t rtcp_overhead() const { return rtcp_tag_ + 4; }

  // RTP. `header` = bytes of fixed header + CSRCs + extension (authenticated, not encrypted),
  // `length` = the plaintext packet. Appends the tag; false on an OpenSSL failure.
  bool protect_rtp(uint8_t* packet, size_t header, size_t length, uint32_t ssrc, uint64_t index);
  // `length` includes the tag. Verifies (constant time), then decrypts the payload in place.
  // false: the packet did not authenticate (or an OpenSSL failure).
  bool unprotect_rtp(uint8_t* packet, size_t header, size_t length, uint32_t ssrc, uint64_t index);

  // RTCP. Encrypts everything after the 8-byte header and appends the E-bit + `index` and the
  // tag, in the order of the profile (AES-CM: E|index then tag; GCM: tag then E|index).
  bool protect_rtcp(uint8_t* packet, size_t length, uint32_t index);
  // `length` includes the trailer; `encrypted` is the E-bit and `index` the SRTCP index, both
  // already read from it by the caller. Verifies, then decrypts in place.
  bool unprotect_rtcp(uint8_t* packet, size_t length, bool encrypted, uint32_t index);

 private:
  bool init(std::span<const uint8_t> key_salt);
  bool ctr(EVP_CIPHER_CTX* ctx, const uint8_t* iv, uint8_t* data, size_t length);
  bool hmac(EVP_MAC_CTX* ctx, const uint8_t* data, size_t length, const uint8_t* suffix, size_t suffix_length,
            uint8_t* tag20);
  bool gcm_seal(EVP_CIPHER_CTX* ctx, const uint8_t* iv, const uint8_t* aad, size_t aad_length, const uint8_t* aad2,
                size_t aad2_length, uint8_t* data, size_t length, uint8_t* tag);
  bool gcm_open(EVP_CIPHER_CTX* ctx, const uint8_t* iv, const uint8_t* aad, size_t aad_length, const uint8_t* aad2,
                size_t aad2_length, uint8_t* data, size_t length, const uint8_t* tag);

  SrtpProfile profile_;
  bool encrypt_;
  bool aead_;
  size_t rtp_tag_;
  size_t rtcp_tag_;
  EVP_CIPHER_CTX* rtp_cipher_ = nullptr;
  EVP_CIPHER_CTX* rtcp_cipher_ = nullptr;
  EVP_MAC_CTX* rtp_mac_ = nullptr;   // AES-CM only
  EVP_MAC_CTX* rtcp_mac_ = nullptr;  // AES-CM only
  std::array<uint8_t, 14> rtp_salt_{};  // AES-CM 14 bytes, GCM 12
  std::array<uint8_t, 14> rtcp_salt_{};
};

}  // namespace junction::transports
