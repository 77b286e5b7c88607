// One audio room's mixing cost on one thread: N participants of whom T talk (tones), the rest
// send Opus-encoded near-silence (as a browser with an open, quiet microphone does). Each
// iteration is one 20 ms tick: every participant's packet goes into its jitter buffer, then
// AudioMixer::tick() decodes, mixes, encodes and packetizes for everyone.
//
// Counters (from the thread's CPU time, so other load on the machine does not count): encodes
// per tick; CPU microseconds per tick and per participant; and the participants one core could
// mix in real time at this cost (20 ms of CPU per 20 ms tick).
// Arguments: participants, talkers, shared encode (1: Junction's; 0: one encode per participant,
// the way Janus's AudioBridge mixes: same decoder, same mixer, only the encoding differs), audio
// levels (1: every packet carries its RFC 6464 level, as browsers send it when negotiated, which
// lets the mixer skip decoding listeners' quiet packets; 0: no levels, everything is decoded).
//
// Run: build/audio_mixer_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <time.h>

#include <cmath>
#include <memory>
#include <optional>
#include <vector>

#include "mixers/audio/audio_mixer.h"
#include "mixers/audio/opus_codec.h"

namespace {

using namespace junction::mixers;

constexpr int kRate = 48000;  // what browsers send
constexpr int kFrames = 50;   // a second of packets, looped

std::vector<std::vector<uint8_t>> encode_loop(double hz, double amplitude) {
  OpusEncoder encoder({kRate, 32000, 4, 0});
  std::vector<std::vector<uint8_t>> out;
  std::vector<int16_t> pcm(static_cast<size_t>(encoder.frame_samples()));
  uint32_t noise = 12345;
  long n = 0;
  for (int f = 0; f < kFrames; ++f) {
    for (auto& s : pcm) {
      noise = noise * 1664525u + 1013904223u;
      double hiss = (static_cast<int>(noise >> 16) % 7) - 3;  // about -80 dBov of noise
      s = static_cast<int16_t>(amplitude * std::sin(2 * M_PI * hz * static_cast<double>(n++) / kRate) + hiss);
    }
    auto packet = encoder.encode(pcm);
    out.emplace_back(packet.begin(), packet.end());
  }
  return out;
}

double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

void BM_AudioRoom(benchmark::State& state) {
  const int participants = static_cast<int>(state.range(0));
  const int talkers = static_cast<int>(state.range(1));
  MixerSettings settings;
  settings.shared_encode = state.range(2) != 0;
  const bool levels = state.range(3) != 0;  // senders send the RFC 6464 audio level (browsers do)
  uint64_t packets_out = 0;
  AudioMixer mixer(settings, [&](std::span<const OutgoingPacket> packets) { packets_out += packets.size(); });
  std::vector<std::vector<std::vector<uint8_t>>> loops;
  for (int t = 0; t < talkers; ++t) loops.push_back(encode_loop(300.0 + 110.0 * t, 6000));
  loops.push_back(encode_loop(0, 0));  // the listeners' near-silence
  std::vector<std::shared_ptr<MixerParticipant>> people;
  for (int i = 0; i < participants; ++i) {
    people.push_back(mixer.add(static_cast<uint64_t>(i + 1)));
    people.back()->set_send(true, 111, static_cast<uint32_t>(i + 1));
  }
  uint16_t seq = 0;
  auto feed = [&] {
    for (int i = 0; i < participants; ++i) {
      const auto& loop = loops[static_cast<size_t>(i < talkers ? i : talkers)];
      const auto& packet = loop[seq % kFrames];
      std::optional<uint8_t> level;
      if (levels) level = static_cast<uint8_t>(i < talkers ? 18 : 80);  // the tone / the hiss, -dBov
      people[static_cast<size_t>(i)]->push(seq, seq * 960u, packet, level);
    }
    ++seq;
  };
  for (int i = 0; i < 30; ++i) {  // past the jitter prefill and the gate's hold
    feed();
    mixer.tick();
  }
  auto before = mixer.stats();
  const double cpu_before = thread_cpu_us();
  for (auto _ : state) {
    feed();
    mixer.tick();
  }
  const double cpu_us = thread_cpu_us() - cpu_before;  // CPU, not wall: the machine is shared
  auto after = mixer.stats();
  const double ticks = static_cast<double>(after.ticks - before.ticks);
  const double us_per_tick = cpu_us / ticks;
  state.counters["encodes_per_tick"] = static_cast<double>(after.encodes - before.encodes) / ticks;
  state.counters["us_per_tick"] = us_per_tick;
  state.counters["us_per_participant"] = us_per_tick / participants;
  state.counters["participants_per_core"] = participants * 20000.0 / us_per_tick;
  state.counters["mixed"] = after.last_tick_mixed;
  benchmark::DoNotOptimize(packets_out);
}

// {participants, talkers, shared encode, audio levels sent}
BENCHMARK(BM_AudioRoom)
    ->Args({100, 5, 1, 0})
    ->Args({300, 5, 1, 0})
    ->Args({100, 5, 1, 1})
    ->Args({300, 5, 1, 1})
    ->Args({1000, 5, 1, 1})
    ->Args({20, 20, 1, 1})
    ->Args({100, 20, 1, 1})
    ->Args({100, 5, 0, 0})
    ->Args({300, 5, 0, 0})
    ->Args({300, 5, 0, 1})
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
