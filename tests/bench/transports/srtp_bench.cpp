// SRTP cost per packet on one thread: protect and unprotect of one RTP packet for each DTLS-SRTP
// profile we negotiate, at 200 bytes (audio, a small video packet) and 1200 bytes (a full video
// packet), through three implementations:
//   Session    transports/srtp_session (what the server runs);
//   Libsrtp    Debian's libsrtp2 called directly (the implementation the server ran before; on
//              Debian it is built against NSS);
//   Primitives the OpenSSL calls one packet needs and nothing else: AES-128-CTR + HMAC-SHA1-80
//              over the same bytes, or AES-128-GCM with the RTP header as AAD. No ROC, no replay
//              window, no key derivation: the floor an SRTP implementation on OpenSSL can reach.
// Time is the thread's CPU time (Google Benchmark's default "CPU" column), so other load on the
// machine counts less than in wall time; pin with taskset anyway (BENCHMARKS.md).
// Arguments: packet size in bytes (the RTP packet before protection: 12-byte header + payload).
//
// Unprotect needs a fresh sequence number for each packet (the replay window refuses a repeat):
// a batch of kBatch packets is protected beforehand, and the receiving session is re-created
// (outside the timed region) each time the batch has been used up. Each unprotect works on a
// copy of the protected packet; the copy (about 40 ns for 1200 bytes) is inside the figure.
//
// Run: build/srtp_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <cstring>
#include <memory>
#include <vector>

#include "tests/support/libsrtp_session.h"
#include "transports/srtp_session.h"

namespace {

using junction::transports::SrtpProfile;
using junction::transports::SrtpSession;
using junction::testing::LibsrtpSession;

// 512 packets of up to 1.2 kB stay in the 1 MiB L2 cache, as a packet just received would be.
constexpr size_t kBatch = 512;
constexpr size_t kBufferSize = 1500 + SrtpSession::kRtcpTrailerRoom;

std::vector<uint8_t> key_salt(SrtpProfile profile) {
  std::vector<uint8_t> k(junction::transports::srtp_key_salt_length(profile));
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(i * 7 + 3);
  return k;
}

// A version-2 RTP packet of `size` bytes with sequence number `seq`.
void make_rtp(uint8_t* out, size_t size, uint16_t seq) {
  std::memset(out, 0, size);
  out[0] = 0x80;
  out[1] = 96;
  out[2] = static_cast<uint8_t>(seq >> 8);
  out[3] = static_cast<uint8_t>(seq);
  out[4] = 0x12;
  out[8] = 0xCA;
  out[9] = 0xFE;
  out[10] = 0xBA;
  out[11] = 0xBE;
  for (size_t i = 12; i < size; ++i) out[i] = static_cast<uint8_t>(i);
}

// Either implementation behind one interface, so each benchmark is written once.
template <typename Impl>
struct Pair {
  static std::unique_ptr<Impl> make(SrtpProfile profile, typename Impl::Direction d) {
    auto k = key_salt(profile);
    return Impl::create(profile, k, d);
  }
};

template <typename Impl>
void protect_bench(benchmark::State& state, SrtpProfile profile) {
  const size_t size = static_cast<size_t>(state.range(0));
  auto out = Pair<Impl>::make(profile, Impl::Direction::kOutbound);
  if (!out) {
    state.SkipWithError("cannot create the session");
    return;
  }
  alignas(16) std::array<uint8_t, kBufferSize> buffer{};
  uint16_t seq = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    // The header is rewritten each time (as the forwarder does); the payload is encrypted in
    // place again and again, which costs the same as fresh plaintext.
    buffer[2] = static_cast<uint8_t>(seq >> 8);
    buffer[3] = static_cast<uint8_t>(seq);
    buffer[0] = 0x80;
    ++seq;
    size_t n = out->protect_rtp(buffer.data(), size, buffer.size());
    if (n == 0) {
      state.SkipWithError("protect failed");
      return;
    }
    bytes += n;
    benchmark::DoNotOptimize(buffer.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

template <typename Impl>
void unprotect_bench(benchmark::State& state, SrtpProfile profile) {
  const size_t size = static_cast<size_t>(state.range(0));
  auto out = Pair<Impl>::make(profile, Impl::Direction::kOutbound);
  auto in = Pair<Impl>::make(profile, Impl::Direction::kInbound);
  if (!out || !in) {
    state.SkipWithError("cannot create the sessions");
    return;
  }
  std::vector<std::vector<uint8_t>> batch(kBatch);
  for (size_t i = 0; i < kBatch; ++i) {
    std::vector<uint8_t> p(kBufferSize);
    make_rtp(p.data(), size, static_cast<uint16_t>(i));
    size_t n = out->protect_rtp(p.data(), size, p.size());
    p.resize(n);
    batch[i] = std::move(p);
  }
  alignas(16) std::array<uint8_t, kBufferSize> buffer{};
  size_t next = 0;
  for (auto _ : state) {
    if (next == kBatch) {
      state.PauseTiming();
      in = Pair<Impl>::make(profile, Impl::Direction::kInbound);
      next = 0;
      state.ResumeTiming();
    }
    const auto& p = batch[next++];
    std::memcpy(buffer.data(), p.data(), p.size());
    size_t n = in->unprotect_rtp(buffer.data(), p.size());
    if (n != size) {
      state.SkipWithError("unprotect failed");
      return;
    }
    benchmark::DoNotOptimize(buffer.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}

void BM_SessionProtect_AesCmSha1_80(benchmark::State& s) { protect_bench<SrtpSession>(s, SrtpProfile::kAes128CmSha1_80); }
void BM_SessionProtect_AeadAes128Gcm(benchmark::State& s) { protect_bench<SrtpSession>(s, SrtpProfile::kAeadAes128Gcm); }
void BM_SessionUnprotect_AesCmSha1_80(benchmark::State& s) { unprotect_bench<SrtpSession>(s, SrtpProfile::kAes128CmSha1_80); }
void BM_SessionUnprotect_AeadAes128Gcm(benchmark::State& s) { unprotect_bench<SrtpSession>(s, SrtpProfile::kAeadAes128Gcm); }
void BM_LibsrtpProtect_AesCmSha1_80(benchmark::State& s) { protect_bench<LibsrtpSession>(s, SrtpProfile::kAes128CmSha1_80); }
void BM_LibsrtpProtect_AeadAes128Gcm(benchmark::State& s) { protect_bench<LibsrtpSession>(s, SrtpProfile::kAeadAes128Gcm); }
void BM_LibsrtpUnprotect_AesCmSha1_80(benchmark::State& s) { unprotect_bench<LibsrtpSession>(s, SrtpProfile::kAes128CmSha1_80); }
void BM_LibsrtpUnprotect_AeadAes128Gcm(benchmark::State& s) { unprotect_bench<LibsrtpSession>(s, SrtpProfile::kAeadAes128Gcm); }

BENCHMARK(BM_SessionProtect_AesCmSha1_80)->Arg(200)->Arg(1200);
BENCHMARK(BM_SessionUnprotect_AesCmSha1_80)->Arg(200)->Arg(1200);
BENCHMARK(BM_SessionProtect_AeadAes128Gcm)->Arg(200)->Arg(1200);
BENCHMARK(BM_SessionUnprotect_AeadAes128Gcm)->Arg(200)->Arg(1200);
BENCHMARK(BM_LibsrtpProtect_AesCmSha1_80)->Arg(200)->Arg(1200);
BENCHMARK(BM_LibsrtpUnprotect_AesCmSha1_80)->Arg(200)->Arg(1200);
BENCHMARK(BM_LibsrtpProtect_AeadAes128Gcm)->Arg(200)->Arg(1200);
BENCHMARK(BM_LibsrtpUnprotect_AeadAes128Gcm)->Arg(200)->Arg(1200);

// The reference line: AES-128-CTR over the payload, then HMAC-SHA1 over header + ciphertext +
// a 4-byte ROC, 10 bytes of tag kept. Contexts made once; per packet only re-initialised.
void BM_PrimitivesAesCtrHmacSha1(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  std::array<uint8_t, 16> key{};
  std::array<uint8_t, 20> auth_key{};
  std::array<uint8_t, 16> iv{};
  EVP_CIPHER_CTX* cipher = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(cipher, EVP_aes_128_ctr(), nullptr, key.data(), iv.data());
  EVP_MAC* mac_alg = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* mac = EVP_MAC_CTX_new(mac_alg);
  char digest[] = "SHA1";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  EVP_MAC_init(mac, auth_key.data(), auth_key.size(), params);
  alignas(16) std::array<uint8_t, kBufferSize> buffer{};
  make_rtp(buffer.data(), size, 0);
  uint32_t counter = 0;
  for (auto _ : state) {
    iv[15] = static_cast<uint8_t>(++counter);
    int len = 0;
    EVP_EncryptInit_ex(cipher, nullptr, nullptr, nullptr, iv.data());
    EVP_EncryptUpdate(cipher, buffer.data() + 12, &len, buffer.data() + 12, static_cast<int>(size - 12));
    EVP_MAC_init(mac, nullptr, 0, nullptr);
    EVP_MAC_update(mac, buffer.data(), size);
    uint8_t roc[4] = {0, 0, 0, 0};
    EVP_MAC_update(mac, roc, 4);
    uint8_t tag[20];
    size_t tag_len = 0;
    EVP_MAC_final(mac, tag, &tag_len, sizeof(tag));
    std::memcpy(buffer.data() + size, tag, 10);
    benchmark::DoNotOptimize(buffer.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
  EVP_MAC_CTX_free(mac);
  EVP_MAC_free(mac_alg);
  EVP_CIPHER_CTX_free(cipher);
}
BENCHMARK(BM_PrimitivesAesCtrHmacSha1)->Arg(200)->Arg(1200);

// AES-128-GCM, 12-byte IV, the 12-byte RTP header as AAD, 16-byte tag.
void BM_PrimitivesAes128Gcm(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  std::array<uint8_t, 16> key{};
  std::array<uint8_t, 12> iv{};
  EVP_CIPHER_CTX* cipher = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(cipher, EVP_aes_128_gcm(), nullptr, key.data(), iv.data());
  alignas(16) std::array<uint8_t, kBufferSize> buffer{};
  make_rtp(buffer.data(), size, 0);
  uint32_t counter = 0;
  for (auto _ : state) {
    iv[11] = static_cast<uint8_t>(++counter);
    int len = 0;
    EVP_EncryptInit_ex(cipher, nullptr, nullptr, nullptr, iv.data());
    EVP_EncryptUpdate(cipher, nullptr, &len, buffer.data(), 12);
    EVP_EncryptUpdate(cipher, buffer.data() + 12, &len, buffer.data() + 12, static_cast<int>(size - 12));
    EVP_EncryptFinal_ex(cipher, buffer.data() + size, &len);
    EVP_CIPHER_CTX_ctrl(cipher, EVP_CTRL_GCM_GET_TAG, 16, buffer.data() + size);
    benchmark::DoNotOptimize(buffer.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
  EVP_CIPHER_CTX_free(cipher);
}
BENCHMARK(BM_PrimitivesAes128Gcm)->Arg(200)->Arg(1200);

}  // namespace

BENCHMARK_MAIN();
