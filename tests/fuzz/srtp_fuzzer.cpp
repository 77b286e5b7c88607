// libFuzzer target for SRTP/SRTCP unprotect (transports/srtp_session on our OpenSSL transforms),
// differential against libsrtp2: every datagram a peer sends goes through unprotect first.
//
// Input: [control][mutation][position][length][bytes...]. control selects the profile (bits 0-1),
// RTP or RTCP (bit 2) and the mode (bit 3):
// - raw: the bytes are unprotected as they are by both implementations (fresh inbound sessions
//   with the same key);
// - protected: the bytes (version forced to 2) are a plaintext packet; both outbound sessions
//   protect it and must produce the same bytes; then, per `mutation`, a bit is flipped at
//   `position` and/or the packet is cut to `length`, and both inbound sessions unprotect it.
// Checks, on every input: both accept or both refuse; when they accept, the same plaintext; an
// unmutated protected packet is accepted and gives back the original plaintext. A random packet
// cannot carry a valid tag, so the protected mode is what lets the fuzzer reach the paths after
// authentication (decryption, the replay windows, the lengths returned).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "tests/support/libsrtp_session.h"
#include "transports/srtp_session.h"

namespace {

using junction::testing::LibsrtpSession;
using junction::transports::SrtpProfile;
using junction::transports::SrtpSession;
using Direction = SrtpSession::Direction;

#define FUZZ_CHECK(cond)                                                                    \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "srtp_fuzzer: check failed: %s (line %d)\n", #cond, __LINE__); \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)

constexpr SrtpProfile kProfiles[] = {SrtpProfile::kAes128CmSha1_80, SrtpProfile::kAes128CmSha1_32,
                                     SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAeadAes256Gcm};
constexpr size_t kRoom = SrtpSession::kRtcpTrailerRoom;

template <typename Session>
std::vector<uint8_t> apply(Session& s, bool rtcp, bool protect, const std::vector<uint8_t>& in) {
  std::vector<uint8_t> buf(in.size() + kRoom);
  if (!in.empty()) std::memcpy(buf.data(), in.data(), in.size());
  size_t n;
  if (protect) {
    n = rtcp ? s.protect_rtcp(buf.data(), in.size(), buf.size()) : s.protect_rtp(buf.data(), in.size(), buf.size());
  } else {
    n = rtcp ? s.unprotect_rtcp(buf.data(), in.size()) : s.unprotect_rtp(buf.data(), in.size());
  }
  buf.resize(n);  // 0: refused
  return buf;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint8_t control = data[0], mutation = data[1], position = data[2], cut = data[3];
  const SrtpProfile profile = kProfiles[control & 3];
  const bool rtcp = (control & 4) != 0;
  const bool protected_mode = (control & 8) != 0;
  std::vector<uint8_t> packet(data + 4, data + size);
  if (packet.size() > 1500) return 0;

  std::vector<uint8_t> key(junction::transports::srtp_key_salt_length(profile));
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 11 + 1);
  auto ours_in = SrtpSession::create(profile, key, Direction::kInbound);
  auto ref_in = LibsrtpSession::create(profile, key, Direction::kInbound);
  FUZZ_CHECK(ours_in && ref_in);

  std::vector<uint8_t> plain;
  bool mutated = false;
  if (protected_mode) {
    if (!packet.empty()) packet[0] = static_cast<uint8_t>(0x80 | (packet[0] & 0x3F));
    auto ours_out = SrtpSession::create(profile, key, Direction::kOutbound);
    auto ref_out = LibsrtpSession::create(profile, key, Direction::kOutbound);
    FUZZ_CHECK(ours_out && ref_out);
    auto ours = apply(*ours_out, rtcp, true, packet);
    auto ref = apply(*ref_out, rtcp, true, packet);
    FUZZ_CHECK(ours == ref);
    if (ours.empty()) return 0;  // both refused to protect (malformed header)
    plain = packet;
    packet = ours;
    if ((mutation & 1) != 0) {
      packet[position % packet.size()] ^= static_cast<uint8_t>(1u << (mutation >> 5));
      mutated = true;
    }
    if ((mutation & 2) != 0 && cut < packet.size()) {
      packet.resize(cut);
      mutated = true;
    }
  }

  auto ours = apply(*ours_in, rtcp, false, packet);
  auto ref = apply(*ref_in, rtcp, false, packet);
  FUZZ_CHECK(ours.empty() == ref.empty());
  FUZZ_CHECK(ours == ref);
  if (protected_mode && !mutated) FUZZ_CHECK(ours == plain);
  // A second delivery of an accepted packet is a replay for both.
  if (!ours.empty()) {
    FUZZ_CHECK(apply(*ours_in, rtcp, false, packet).empty());
    FUZZ_CHECK(apply(*ref_in, rtcp, false, packet).empty());
  }
  return 0;
}
