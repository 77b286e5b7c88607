#include "transports/srtp_crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <climits>
#include <cstring>

namespace junction::transports {
namespace {

// RFC 3711 §4.3.1 key derivation labels.
enum Label : uint8_t {
  kRtpEncryption = 0x00,
  kRtpAuthentication = 0x01,
  kRtpSalt = 0x02,
  kRtcpEncryption = 0x03,
  kRtcpAuthentication = 0x04,
  kRtcpSalt = 0x05,
};

constexpr size_t kAuthKeyLength = 20;  // HMAC-SHA1 key, RFC 3711 §8.2 (n_a = 160)
constexpr size_t kGcmTagLength = 16;   // RFC 7714 §14.2: the DTLS-SRTP GCM profiles use 16 bytes

bool is_gcm(SrtpProfile p) {
  return p == SrtpProfile::kAeadAes128Gcm || p == SrtpProfile::kAeadAes256Gcm;
}
size_t master_key_length(SrtpProfile p) {
  return p == SrtpProfile::kAeadAes256Gcm ? 32 : 16;
}
size_t salt_length(SrtpProfile p) {
  return is_gcm(p) ? 12 : 14;
}

void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// The AES-CM PRF (RFC 3711 §4.3.3): the keystream of AES-CTR under the master key, from the
// counter block (master salt XOR label << 48) * 2^16, with key_derivation_rate 0 (r = 0). A GCM
// master salt (12 bytes) is taken as 14 with two zero bytes after it (RFC 7714 §11, and what
// libsrtp does).
bool derive(SrtpProfile profile, std::span<const uint8_t> master_key, std::span<const uint8_t> master_salt, Label label,
            uint8_t* out, size_t length) {
  uint8_t iv[16] = {};
  std::memcpy(iv, master_salt.data(), master_salt.size());
  iv[7] ^= label;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return false;
  const EVP_CIPHER* cipher = master_key_length(profile) == 32 ? EVP_aes_256_ctr() : EVP_aes_128_ctr();
  std::memset(out, 0, length);
  int n = 0;
  bool ok = EVP_EncryptInit_ex(ctx, cipher, nullptr, master_key.data(), iv) == 1 &&
            EVP_EncryptUpdate(ctx, out, &n, out, static_cast<int>(length)) == 1;
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

EVP_MAC* hmac_algorithm() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);  // once per process, never freed
  return mac;
}

EVP_MAC_CTX* make_hmac(const uint8_t* key) {
  EVP_MAC* alg = hmac_algorithm();
  if (alg == nullptr) return nullptr;
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(alg);
  if (ctx == nullptr) return nullptr;
  char digest[] = "SHA1";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx, key, kAuthKeyLength, params) != 1) {
    EVP_MAC_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

// AES-CM IV (RFC 3711 §4.1.1): (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16), 16 bytes.
void cm_iv(const std::array<uint8_t, 14>& salt, uint32_t ssrc, uint64_t index, uint8_t* iv) {
  std::memcpy(iv, salt.data(), 14);
  iv[14] = 0;
  iv[15] = 0;
  uint8_t s[4];
  store_be32(s, ssrc);
  for (int i = 0; i < 4; ++i) iv[4 + i] ^= s[i];
  for (int i = 0; i < 6; ++i) iv[8 + i] ^= static_cast<uint8_t>(index >> (8 * (5 - i)));
}

// GCM IV (RFC 7714 §8.1, §9.1): 00 00 | SSRC | ROC | SEQ for SRTP, 00 00 | SSRC | 00 00 | 0 +
// SRTCP index (31 bits) for SRTCP; XOR the 12-byte session salt.
void gcm_iv(const std::array<uint8_t, 14>& salt, uint32_t ssrc, uint32_t middle, uint16_t low, bool rtcp,
            uint8_t* iv) {
  uint8_t block[12] = {};
  store_be32(block + 2, ssrc);
  if (rtcp) {
    store_be32(block + 8, middle);
  } else {
    store_be32(block + 6, middle);
    block[10] = static_cast<uint8_t>(low >> 8);
    block[11] = static_cast<uint8_t>(low);
  }
  for (int i = 0; i < 12; ++i) iv[i] = block[i] ^ salt[static_cast<size_t>(i)];
}

}  // namespace

std::unique_ptr<SrtpCrypto> SrtpCrypto::create(SrtpProfile profile, std::span<const uint8_t> key_salt, bool encrypt) {
  if (key_salt.size() != srtp_key_salt_length(profile)) return nullptr;
  auto crypto = std::make_unique<SrtpCrypto>(Private{}, profile, encrypt);
  if (!crypto->init(key_salt)) return nullptr;
  return crypto;
}

SrtpCrypto::SrtpCrypto(Private, SrtpProfile profile, bool encrypt)
    : profile_(profile),
      encrypt_(encrypt),
      aead_(is_gcm(profile)),
      rtp_tag_(is_gcm(profile) ? kGcmTagLength : profile == SrtpProfile::kAes128CmSha1_32 ? 4 : 10),
      // SRTCP keeps the 80-bit tag under AES_CM_128_HMAC_SHA1_32 (RFC 5764 §4.1.2).
      rtcp_tag_(is_gcm(profile) ? kGcmTagLength : 10) {}

SrtpCrypto::~SrtpCrypto() {
  // EVP_CIPHER_CTX_free and EVP_MAC_CTX_free cleanse the keys they hold.
  EVP_CIPHER_CTX_free(rtp_cipher_);
  EVP_CIPHER_CTX_free(rtcp_cipher_);
  EVP_MAC_CTX_free(rtp_mac_);
  EVP_MAC_CTX_free(rtcp_mac_);
  OPENSSL_cleanse(rtp_salt_.data(), rtp_salt_.size());
  OPENSSL_cleanse(rtcp_salt_.data(), rtcp_salt_.size());
}

bool SrtpCrypto::init(std::span<const uint8_t> key_salt) {
  const size_t key_length = master_key_length(profile_);
  auto master_key = key_salt.first(key_length);
  auto master_salt = key_salt.subspan(key_length, salt_length(profile_));
  std::array<uint8_t, 32> key{};
  std::array<uint8_t, kAuthKeyLength> auth{};
  const EVP_CIPHER* cipher = aead_ ? (key_length == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm()) : EVP_aes_128_ctr();
  auto make_cipher = [&](Label enc, Label salt_label, std::array<uint8_t, 14>& salt, EVP_CIPHER_CTX*& out) {
    if (!derive(profile_, master_key, master_salt, enc, key.data(), key_length)) return false;
    if (!derive(profile_, master_key, master_salt, salt_label, salt.data(), salt_length(profile_))) return false;
    out = EVP_CIPHER_CTX_new();
    if (out == nullptr) return false;
    // AES-CTR is the same both ways; GCM needs the direction fixed at key set-up.
    if (aead_ && !encrypt_) return EVP_DecryptInit_ex(out, cipher, nullptr, key.data(), nullptr) == 1;
    return EVP_EncryptInit_ex(out, cipher, nullptr, key.data(), nullptr) == 1;
  };
  auto make_mac = [&](Label label, EVP_MAC_CTX*& out) {
    if (!derive(profile_, master_key, master_salt, label, auth.data(), auth.size())) return false;
    out = make_hmac(auth.data());
    return out != nullptr;
  };
  bool ok = make_cipher(kRtpEncryption, kRtpSalt, rtp_salt_, rtp_cipher_) &&
            make_cipher(kRtcpEncryption, kRtcpSalt, rtcp_salt_, rtcp_cipher_) &&
            (aead_ || (make_mac(kRtpAuthentication, rtp_mac_) && make_mac(kRtcpAuthentication, rtcp_mac_)));
  OPENSSL_cleanse(key.data(), key.size());
  OPENSSL_cleanse(auth.data(), auth.size());
  return ok;
}

bool SrtpCrypto::ctr(EVP_CIPHER_CTX* ctx, const uint8_t* iv, uint8_t* data, size_t length) {
  int n = 0;
  if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv) != 1) return false;
  return length == 0 || EVP_EncryptUpdate(ctx, data, &n, data, static_cast<int>(length)) == 1;
}

bool SrtpCrypto::hmac(EVP_MAC_CTX* ctx, const uint8_t* data, size_t length, const uint8_t* suffix,
                      size_t suffix_length, uint8_t* tag20) {
  size_t out = 0;
  // A NULL key re-initialises the context with the key it already holds.
  return EVP_MAC_init(ctx, nullptr, 0, nullptr) == 1 && EVP_MAC_update(ctx, data, length) == 1 &&
         (suffix_length == 0 || EVP_MAC_update(ctx, suffix, suffix_length) == 1) &&
         EVP_MAC_final(ctx, tag20, &out, 20) == 1 && out == 20;
}

bool SrtpCrypto::gcm_seal(EVP_CIPHER_CTX* ctx, const uint8_t* iv, const uint8_t* aad, size_t aad_length,
                          const uint8_t* aad2, size_t aad2_length, uint8_t* data, size_t length, uint8_t* tag) {
  int n = 0;
  return EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv) == 1 &&
         EVP_EncryptUpdate(ctx, nullptr, &n, aad, static_cast<int>(aad_length)) == 1 &&
         (aad2_length == 0 || EVP_EncryptUpdate(ctx, nullptr, &n, aad2, static_cast<int>(aad2_length)) == 1) &&
         (length == 0 || EVP_EncryptUpdate(ctx, data, &n, data, static_cast<int>(length)) == 1) &&
         EVP_EncryptFinal_ex(ctx, data + length, &n) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kGcmTagLength, tag) == 1;
}

bool SrtpCrypto::gcm_open(EVP_CIPHER_CTX* ctx, const uint8_t* iv, const uint8_t* aad, size_t aad_length,
                          const uint8_t* aad2, size_t aad2_length, uint8_t* data, size_t length, const uint8_t* tag) {
  int n = 0;
  uint8_t expected[kGcmTagLength];
  std::memcpy(expected, tag, kGcmTagLength);  // the tag may sit where the plaintext is written
  // OpenSSL compares the tag in constant time in EVP_DecryptFinal_ex.
  return EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, iv) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kGcmTagLength, expected) == 1 &&
         EVP_DecryptUpdate(ctx, nullptr, &n, aad, static_cast<int>(aad_length)) == 1 &&
         (aad2_length == 0 || EVP_DecryptUpdate(ctx, nullptr, &n, aad2, static_cast<int>(aad2_length)) == 1) &&
         (length == 0 || EVP_DecryptUpdate(ctx, data, &n, data, static_cast<int>(length)) == 1) &&
         EVP_DecryptFinal_ex(ctx, data + length, &n) == 1;
}

bool SrtpCrypto::protect_rtp(uint8_t* packet, size_t header, size_t length, uint32_t ssrc, uint64_t index) {
  if (!encrypt_ || header > length || length > INT_MAX) return false;
  uint8_t iv[16];
  if (aead_) {
    gcm_iv(rtp_salt_, ssrc, static_cast<uint32_t>(index >> 16), static_cast<uint16_t>(index), false, iv);
    return gcm_seal(rtp_cipher_, iv, packet, header, nullptr, 0, packet + header, length - header, packet + length);
  }
  cm_iv(rtp_salt_, ssrc, index, iv);
  if (!ctr(rtp_cipher_, iv, packet + header, length - header)) return false;
  uint8_t roc[4];
  store_be32(roc, static_cast<uint32_t>(index >> 16));
  uint8_t tag[20];
  if (!hmac(rtp_mac_, packet, length, roc, sizeof(roc), tag)) return false;
  std::memcpy(packet + length, tag, rtp_tag_);
  return true;
}

bool SrtpCrypto::unprotect_rtp(uint8_t* packet, size_t header, size_t length, uint32_t ssrc, uint64_t index) {
  if (encrypt_ || length > INT_MAX || length < header + rtp_tag_) return false;
  const size_t body = length - rtp_tag_;
  uint8_t iv[16];
  if (aead_) {
    gcm_iv(rtp_salt_, ssrc, static_cast<uint32_t>(index >> 16), static_cast<uint16_t>(index), false, iv);
    return gcm_open(rtp_cipher_, iv, packet, header, nullptr, 0, packet + header, body - header, packet + body);
  }
  uint8_t roc[4];
  store_be32(roc, static_cast<uint32_t>(index >> 16));
  uint8_t tag[20];
  if (!hmac(rtp_mac_, packet, body, roc, sizeof(roc), tag)) return false;
  if (CRYPTO_memcmp(tag, packet + body, rtp_tag_) != 0) return false;
  cm_iv(rtp_salt_, ssrc, index, iv);
  return ctr(rtp_cipher_, iv, packet + header, body - header);
}

bool SrtpCrypto::protect_rtcp(uint8_t* packet, size_t length, uint32_t index) {
  if (!encrypt_ || length < 8 || length > INT_MAX) return false;
  const uint32_t ssrc = static_cast<uint32_t>(packet[4]) << 24 | packet[5] << 16 | packet[6] << 8 | packet[7];
  uint8_t trailer[4];
  store_be32(trailer, 0x80000000u | index);  // E = 1: we always encrypt
  uint8_t iv[16];
  if (aead_) {
    // RFC 7714 §9.2: ciphertext, tag, then E|index; the AAD is the 8-byte header and E|index.
    gcm_iv(rtcp_salt_, ssrc, index, 0, true, iv);
    if (!gcm_seal(rtcp_cipher_, iv, packet, 8, trailer, 4, packet + 8, length - 8, packet + length)) return false;
    std::memcpy(packet + length + kGcmTagLength, trailer, 4);
    return true;
  }
  cm_iv(rtcp_salt_, ssrc, index, iv);
  if (!ctr(rtcp_cipher_, iv, packet + 8, length - 8)) return false;
  std::memcpy(packet + length, trailer, 4);
  uint8_t tag[20];
  if (!hmac(rtcp_mac_, packet, length + 4, nullptr, 0, tag)) return false;
  std::memcpy(packet + length + 4, tag, rtcp_tag_);
  return true;
}

bool SrtpCrypto::unprotect_rtcp(uint8_t* packet, size_t length, bool encrypted, uint32_t index) {
  if (encrypt_ || length > INT_MAX || length < 8 + rtcp_overhead()) return false;
  const uint32_t ssrc = static_cast<uint32_t>(packet[4]) << 24 | packet[5] << 16 | packet[6] << 8 | packet[7];
  const size_t plain = length - rtcp_overhead();
  uint8_t iv[16];
  if (aead_) {
    const uint8_t* trailer = packet + length - 4;
    const uint8_t* tag = packet + plain;
    gcm_iv(rtcp_salt_, ssrc, index, 0, true, iv);
    if (encrypted) return gcm_open(rtcp_cipher_, iv, packet, 8, trailer, 4, packet + 8, plain - 8, tag);
    // E = 0 (RFC 7714 §9.3): nothing encrypted, the whole packet is AAD.
    return gcm_open(rtcp_cipher_, iv, packet, plain, trailer, 4, nullptr, 0, tag);
  }
  uint8_t tag[20];
  if (!hmac(rtcp_mac_, packet, plain + 4, nullptr, 0, tag)) return false;
  if (CRYPTO_memcmp(tag, packet + plain + 4, rtcp_tag_) != 0) return false;
  if (!encrypted) return true;
  cm_iv(rtcp_salt_, ssrc, index, iv);
  return ctr(rtcp_cipher_, iv, packet + 8, plain - 8);
}

}  // namespace junction::transports
