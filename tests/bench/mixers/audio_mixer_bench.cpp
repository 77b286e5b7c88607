// One audio room's mixing cost on one thread: N participants of whom T talk (tones), the rest
// send Opus-encoded near-silence (as a browser with an open, quiet microphone does). Each
// iteration is one 20 ms tick: every participant's packet goes into its jitter buffer, then
// AudioMixer::tick() decodes, mixes, encodes and packetizes for everyone.
//
// Counters: encodes per tick; microseconds per tick; microseconds per participant; and the
// participants one core could mix in real time at this cost (20 ms of CPU per 20 ms tick).
// `shared` 1 is Junction's shared encode; 0 encodes once per participant, the way Janus's
// AudioBridge does (same decoder, same mixer, only the encoding strategy differs).
//
// Run: build/audio_mixer_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>
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

void BM_AudioRoom(benchmark::State& state) {
  const int participants = static_cast<int>(state.range(0));
  const int talkers = static_cast<int>(state.range(1));
  MixerSettings settings;
  settings.shared_encode = state.range(2) != 0;
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
      people[static_cast<size_t>(i)]->push(seq, seq * 960u, packet);
    }
    ++seq;
  };
  for (int i = 0; i < 30; ++i) {  // past the jitter prefill and the gate's hold
    feed();
    mixer.tick();
  }
  auto before = mixer.stats();
  for (auto _ : state) {
    feed();
    mixer.tick();
  }
  auto after = mixer.stats();
  const double ticks = static_cast<double>(after.ticks - before.ticks);
  const double us_per_tick = static_cast<double>(after.busy_us - before.busy_us) / ticks;
  state.counters["encodes_per_tick"] = static_cast<double>(after.encodes - before.encodes) / ticks;
  state.counters["us_per_tick"] = us_per_tick;
  state.counters["us_per_participant"] = us_per_tick / participants;
  state.counters["participants_per_core"] = participants * 20000.0 / us_per_tick;
  state.counters["mixed"] = after.last_tick_mixed;
  benchmark::DoNotOptimize(packets_out);
}

// {participants, talkers, shared encode}
BENCHMARK(BM_AudioRoom)
    ->Args({50, 5, 1})
    ->Args({100, 5, 1})
    ->Args({300, 5, 1})
    ->Args({500, 5, 1})
    ->Args({20, 20, 1})
    ->Args({100, 20, 1})
    ->Args({50, 5, 0})
    ->Args({100, 5, 0})
    ->Args({300, 5, 0})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
