// The SFU hot path (DESIGN.md §4) on one thread, without sockets:
//   BM_RtpParseRewrite  parse one RTP packet (core/media/rtp_packet) and rewrite it for one
//                       subscriber (plugins/videoroom/forwarder: sequence, timestamp, payload
//                       type), on a copy as the videoroom's media router makes.
//   BM_FanOut           one incoming packet to N subscribers, each with its own forwarder and its
//                       own outbound SrtpSession: what MediaRouter + PeerConnection::send_rtp do
//                       per subscriber (copy, rewrite, parse, rebuild the header with the mid
//                       extension, set the SSRC, protect). The libnice send and the NACK cache are
//                       left out. Reported per incoming packet and per subscriber.
// Arguments: BM_FanOut: subscribers, profile (0 AES_CM_128_HMAC_SHA1_80, 1 AEAD_AES_128_GCM),
// packet size. Times are the thread's CPU time.
//
// Run: build/fanout_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <array>
#include <cstring>
#include <memory>
#include <vector>

#include "core/media/rtp_packet.h"
#include "plugins/videoroom/forwarder.h"
#include "transports/srtp_session.h"

namespace {

using junction::media::RtpPacket;
using junction::transports::SrtpProfile;
using junction::transports::SrtpSession;
using junction::videoroom::Forwarder;
using junction::videoroom::VideoCodec;

constexpr size_t kBufferSize = 1500 + SrtpSession::kRtcpTrailerRoom;

// A VP8 keyframe start (so the forwarder does not hold it back) of `size` bytes.
std::vector<uint8_t> vp8_packet(size_t size, uint16_t seq) {
  std::vector<uint8_t> p(size, 0x5A);
  p[0] = 0x80;
  p[1] = 0x80 | 100;  // marker, PT 100
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  p[4] = 0x01;
  p[8] = 0x11;
  p[9] = 0x22;
  p[10] = 0x33;
  p[11] = 0x44;
  // VP8 payload descriptor: S=1, PID 0; payload header: P=0 (keyframe), then the start code.
  p[12] = 0x10;
  p[13] = 0x00;
  p[16] = 0x9d;
  p[17] = 0x01;
  p[18] = 0x2a;
  return p;
}

void BM_RtpParseRewrite(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  auto source = vp8_packet(size, 1000);
  Forwarder forwarder(VideoCodec::kVp8, 96);  // the subscriber negotiated PT 96
  alignas(16) std::array<uint8_t, kBufferSize> scratch{};
  uint16_t seq = 1000;
  for (auto _ : state) {
    source[2] = static_cast<uint8_t>(seq >> 8);
    source[3] = static_cast<uint8_t>(seq);
    ++seq;
    auto rtp = RtpPacket::parse(source);
    if (!rtp) {
      state.SkipWithError("parse failed");
      return;
    }
    std::memcpy(scratch.data(), source.data(), size);
    bool sent = forwarder.rewrite(std::span<uint8_t>(scratch.data(), size), *rtp, Forwarder::Clock::now());
    benchmark::DoNotOptimize(sent);
    benchmark::DoNotOptimize(scratch.data());
  }
}
BENCHMARK(BM_RtpParseRewrite)->Arg(200)->Arg(1200);

struct Subscriber {
  Forwarder forwarder{VideoCodec::kVp8, 96};
  std::unique_ptr<SrtpSession> srtp;
  uint32_t ssrc;
  std::array<char, 2> mid{'1', 0};
};

void BM_FanOut(benchmark::State& state) {
  const size_t subscribers = static_cast<size_t>(state.range(0));
  const SrtpProfile profile = state.range(1) == 0 ? SrtpProfile::kAes128CmSha1_80 : SrtpProfile::kAeadAes128Gcm;
  const size_t size = static_cast<size_t>(state.range(2));
  std::vector<Subscriber> subs(subscribers);
  std::vector<uint8_t> key(junction::transports::srtp_key_salt_length(profile));
  for (size_t i = 0; i < subs.size(); ++i) {
    for (size_t k = 0; k < key.size(); ++k) key[k] = static_cast<uint8_t>(i + k);
    subs[i].srtp = SrtpSession::create(profile, key, SrtpSession::Direction::kOutbound);
    subs[i].ssrc = static_cast<uint32_t>(0x10000 + i);
    if (!subs[i].srtp) {
      state.SkipWithError("cannot create a session");
      return;
    }
  }
  auto source = vp8_packet(size, 1000);
  alignas(16) std::array<uint8_t, kBufferSize> scratch{};  // the router's copy
  alignas(16) std::array<uint8_t, kBufferSize> tx{};       // the PeerConnection's send buffer
  uint16_t seq = 1000;
  const uint8_t mid_id = 4;
  for (auto _ : state) {
    source[2] = static_cast<uint8_t>(seq >> 8);
    source[3] = static_cast<uint8_t>(seq);
    ++seq;
    auto rtp = RtpPacket::parse(source);
    if (!rtp) {
      state.SkipWithError("parse failed");
      return;
    }
    const auto now = Forwarder::Clock::now();  // MediaRouter reads the clock once per packet
    for (auto& sub : subs) {
      // MediaRouter: a copy, rewritten for this subscriber.
      std::memcpy(scratch.data(), source.data(), size);
      std::span<uint8_t> copy(scratch.data(), size);
      if (!sub.forwarder.rewrite(copy, *rtp, now)) continue;
      // PeerConnection::send_rtp: parse, fixed header + our mid extension + payload into tx.
      auto out = RtpPacket::parse(copy);
      if (!out) continue;
      size_t fixed = 12 + size_t{out->csrc_count()} * 4;
      std::memcpy(tx.data(), copy.data(), fixed);
      tx[0] = static_cast<uint8_t>((tx[0] & ~0x30) | 0x10);
      size_t length = fixed;
      tx[length++] = 0xBE;
      tx[length++] = 0xDE;
      tx[length++] = 0;
      tx[length++] = 1;
      tx[length++] = static_cast<uint8_t>(mid_id << 4);
      tx[length++] = static_cast<uint8_t>(sub.mid[0]);
      tx[length++] = 0;
      tx[length++] = 0;
      auto payload = out->payload();
      std::memcpy(tx.data() + length, payload.data(), payload.size());
      length += payload.size();
      junction::media::rtp_set_ssrc(std::span<uint8_t>(tx.data(), length), sub.ssrc);
      size_t n = sub.srtp->protect_rtp(tx.data(), length, tx.size());
      benchmark::DoNotOptimize(n);
    }
  }
  state.counters["per_subscriber_ns"] = benchmark::Counter(
      static_cast<double>(state.iterations() * subscribers), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["subscriber_packets_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * subscribers), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FanOut)->Args({100, 0, 1200})->Args({100, 1, 1200})->Args({100, 1, 200});

}  // namespace

BENCHMARK_MAIN();
