#pragma once
// The process's DTLS identity: one key pair and one self-signed certificate, shared by every
// DtlsTransport. WebRTC does not use PKI for DTLS: each side puts the SHA-256 fingerprint of its
// certificate in the SDP (a=fingerprint, RFC 8122 §5 / RFC 8827 §6.5) and checks the peer's
// certificate against that value after the handshake, so a self-signed certificate is the norm.
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace junction::transports {

// "AB:CD:..." — the SHA-256 digest of the DER certificate, upper-case hex pairs joined by
// colons, the form SDP's a=fingerprint:sha-256 carries. Empty on failure (null certificate).
std::string fingerprint_sha256(X509* cert);

// Immutable once made; safe to share across threads (OpenSSL reference-counts the certificate
// and key when an SSL object takes them).
class DtlsCertificate {
  struct Private {};

 public:
  // A fresh ECDSA P-256 key and a self-signed X.509 v3 certificate: CN "junction", random 64-bit
  // serial, valid from one day ago (peers with a slow clock) for 30 days. Throws
  // std::runtime_error if OpenSSL fails (startup path, not media path).
  static std::shared_ptr<DtlsCertificate> generate();
  // PEM certificate and private key from files. Throws std::runtime_error with a readable reason
  // (file missing, not PEM, key does not match the certificate).
  static std::shared_ptr<DtlsCertificate> load(const std::string& cert_pem_path,
                                               const std::string& key_pem_path);

  // Takes ownership of one reference to each.
  DtlsCertificate(Private, X509* certificate, EVP_PKEY* private_key);
  ~DtlsCertificate();
  DtlsCertificate(const DtlsCertificate&) = delete;
  DtlsCertificate& operator=(const DtlsCertificate&) = delete;

  const std::string& fingerprint_sha256() const { return fingerprint_; }
  // Borrowed pointers, valid for the lifetime of this object. OpenSSL's setters are not
  // const-correct; callers must not modify them.
  X509* certificate() const { return certificate_; }
  EVP_PKEY* private_key() const { return private_key_; }

 private:
  X509* certificate_;      // owned
  EVP_PKEY* private_key_;  // owned
  std::string fingerprint_;
};

}  // namespace junction::transports
