#include "transports/dtls_certificate.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace junction::transports {
namespace {

// The oldest queued OpenSSL error as text (and clears the queue), for exception messages.
std::string openssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("DTLS certificate: " + what + ": " + openssl_error());
}

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};

constexpr long kOneDay = 24L * 60 * 60;

}  // namespace

std::string fingerprint_sha256(X509* cert) {
  if (cert == nullptr) return {};
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &md_len) != 1) {
    ERR_clear_error();
    return {};
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(md_len * 3);
  for (unsigned int i = 0; i < md_len; ++i) {
    if (i != 0) out.push_back(':');
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0x0f]);
  }
  return out;
}

DtlsCertificate::DtlsCertificate(Private, X509* certificate, EVP_PKEY* private_key)
    : certificate_(certificate),
      private_key_(private_key),
      fingerprint_(transports::fingerprint_sha256(certificate)) {}

DtlsCertificate::~DtlsCertificate() {
  X509_free(certificate_);
  EVP_PKEY_free(private_key_);
}

std::shared_ptr<DtlsCertificate> DtlsCertificate::generate() {
  ERR_clear_error();
  // P-256 ECDSA: every browser accepts it and it keeps the Certificate message small enough
  // for one datagram (RSA-2048 certificates are larger and slower to sign with).
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(EVP_EC_gen("P-256"));
  if (!key) fail("EC key generation failed");

  std::unique_ptr<X509, X509Deleter> cert(X509_new());
  if (!cert) fail("X509_new failed");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) fail("X509_set_version failed");

  // Random positive serial: two certificates of ours never share issuer+serial, which some
  // stacks use as a cache key.
  unsigned char serial_bytes[8];
  if (RAND_bytes(serial_bytes, sizeof(serial_bytes)) != 1) fail("RAND_bytes failed");
  serial_bytes[0] &= 0x7f;
  std::unique_ptr<BIGNUM, BnDeleter> serial(BN_bin2bn(serial_bytes, sizeof(serial_bytes), nullptr));
  if (!serial || BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    fail("cannot set serial number");
  }

  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kOneDay) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 30 * kOneDay) == nullptr) {
    fail("cannot set validity");
  }

  X509_NAME* name = X509_get_subject_name(cert.get());
  const auto* cn = reinterpret_cast<const unsigned char*>("junction");
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1) {
    fail("cannot set subject/issuer name");
  }
  if (X509_set_pubkey(cert.get(), key.get()) != 1) fail("X509_set_pubkey failed");
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) fail("X509_sign failed");

  return std::make_shared<DtlsCertificate>(Private{}, cert.release(), key.release());
}

std::shared_ptr<DtlsCertificate> DtlsCertificate::load(const std::string& cert_pem_path,
                                                       const std::string& key_pem_path) {
  ERR_clear_error();
  auto open = [](const std::string& path, const char* what) {
    std::unique_ptr<BIO, BioDeleter> bio(BIO_new_file(path.c_str(), "r"));
    if (!bio) {
      int err = errno;
      ERR_clear_error();
      throw std::runtime_error(std::string("DTLS certificate: cannot open ") + what + " file '" +
                               path + "': " + std::strerror(err));
    }
    return bio;
  };

  auto cert_bio = open(cert_pem_path, "certificate");
  std::unique_ptr<X509, X509Deleter> cert(
      PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!cert) fail("no PEM certificate in '" + cert_pem_path + "'");

  auto key_bio = open(key_pem_path, "private key");
  // An empty passphrase callback: an encrypted key fails with a clear error instead of
  // prompting on the terminal.
  pem_password_cb* no_prompt = [](char*, int, int, void*) { return 0; };
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_prompt, nullptr));
  if (!key) fail("no (unencrypted) PEM private key in '" + key_pem_path + "'");

  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    fail("private key '" + key_pem_path + "' does not match certificate '" + cert_pem_path + "'");
  }
  return std::make_shared<DtlsCertificate>(Private{}, cert.release(), key.release());
}

}  // namespace junction::transports
