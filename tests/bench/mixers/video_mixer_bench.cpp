// One video MCU room's cost on one thread: N participants each send 640x360 VP8 (a moving,
// textured picture, about 500 kbit/s, as a webcam would); every participant receives the
// 1280x720 grid composite (the default view: one group, one encode per tick). Each iteration is
// one tick: every participant's frame is pushed (RTP depacketizing, which the media workers do in
// the server), then VideoMixer::tick() decodes the N inputs, scales them into the canvas, encodes
// the composite (libvpx realtime, cpu-used 8, one thread) and packetizes it for N receivers.
//
// Counters (from the thread's CPU time, so other load on the machine does not count): CPU
// microseconds per tick, and the composite frame rate one core could sustain at that cost
// (fps_one_core = 1e6 / us_per_tick); the second argument adds receivers in the speaker layout
// (a second group: a second compose + encode per tick). The third and fourth make that many
// participants send H.264 instead of VP8 (640x360 from libx264, the same pictures: the cost of an
// H.264 input is the libavcodec h264 decode) and receive H.264 instead of VP8 (a libx264 group
// of the grid beside the VP8 one: the cost of an H.264 output group).
//
// Run: taskset -c 1 build/video_mixer_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <time.h>

#include <memory>
#include <vector>

extern "C" {
#include <libavutil/frame.h>
}

#include "core/media/rtp_packet.h"
#include "mixers/video/video_mixer.h"

namespace {

using namespace junction::mixers;

constexpr int kLoop = 50;  // two seconds of frames, looped (the first is a keyframe)

struct Packetized {
  std::vector<uint8_t> bytes;
  std::vector<size_t> sizes;
};

// A moving diagonal texture with a bright square travelling across: enough detail and motion
// that neither the decoder nor the encoder gets an easy ride.
std::vector<Packetized> encode_loop(int seed, VideoCodec codec) {
  const int w = 640, h = 360;
  VideoEncoder encoder({w, h, 25, 500000, 8, codec});
  Canvas canvas(w, h);
  AVFrame* f = canvas.frame();
  std::vector<Packetized> out;
  for (int t = 0; t < kLoop; ++t) {
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        f->data[0][y * f->linesize[0] + x] = static_cast<uint8_t>(((x * 3 + y * 5 + t * 4 + seed * 40) & 0x7F) + 40);
    for (int y = 0; y < h / 2; ++y)
      for (int x = 0; x < w / 2; ++x) {
        f->data[1][y * f->linesize[1] + x] = static_cast<uint8_t>(100 + ((x + seed * 13) & 0x3F));
        f->data[2][y * f->linesize[2] + x] = static_cast<uint8_t>(100 + ((y + t) & 0x3F));
      }
    canvas.fill({0, (t * 11 + seed * 50) % (w - 80), 140, 80, 80}, Yuv::from_rgb(250, 250, 250));
    bool key = false;
    auto frame = encoder.encode(f, t == 0, &key);
    Packetized p;
    packetize(codec, frame, static_cast<uint16_t>(t), 1200, p.bytes, p.sizes);
    out.push_back(std::move(p));
  }
  return out;
}

double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

void BM_VideoRoom(benchmark::State& state) {
  const int participants = static_cast<int>(state.range(0));
  const int speaker_viewers = static_cast<int>(state.range(1));
  const int h264_in = static_cast<int>(state.range(2)), h264_out = static_cast<int>(state.range(3));
  uint64_t packets_out = 0;
  VideoMixerSettings settings;  // 1280x720, 25 fps, 1 Mbit/s, cpu-used 8
  settings.codecs = {VideoCodec::kVp8, VideoCodec::kH264};
  VideoMixer mixer(settings, [&](std::span<const VideoPacket> packets) { packets_out += packets.size(); });
  std::vector<std::vector<Packetized>> loops, h264_loops;
  for (int i = 0; i < 4; ++i) loops.push_back(encode_loop(i, VideoCodec::kVp8));
  if (h264_in > 0)
    for (int i = 0; i < 4; ++i) h264_loops.push_back(encode_loop(i, VideoCodec::kH264));
  std::vector<std::shared_ptr<VideoParticipant>> people;
  for (int i = 0; i < participants; ++i) {
    people.push_back(mixer.add(static_cast<uint64_t>(i + 1)));
    people.back()->set_input_codec(i < h264_in ? VideoCodec::kH264 : VideoCodec::kVp8);
    // The H.264 receivers are the last ones: a participant may send one codec and receive the other.
    people.back()->set_send(true, 96, static_cast<uint32_t>(i + 1),
                            i >= participants - h264_out ? VideoCodec::kH264 : VideoCodec::kVp8);
    if (i < speaker_viewers) people.back()->set_view({LayoutKind::kSpeaker, true, 0});
  }
  mixer.set_speaker(1);
  std::vector<uint16_t> seqs(static_cast<size_t>(participants), 0);  // one RTP stream each
  int t = 0;
  auto feed = [&] {
    const int n = t % kLoop;
    for (int i = 0; i < participants; ++i) {
      const Packetized& p = (i < h264_in ? h264_loops : loops)[static_cast<size_t>(i % 4)][static_cast<size_t>(n)];
      size_t at = 0;
      for (size_t k = 0; k < p.sizes.size(); ++k) {
        people[static_cast<size_t>(i)]->push(seqs[static_cast<size_t>(i)]++, static_cast<uint32_t>(t * 3600), k + 1 == p.sizes.size(),
                                             {p.bytes.data() + at, p.sizes[k]});
        at += p.sizes[k];
      }
    }
    ++t;
  };
  for (int i = 0; i < 10; ++i) {
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
  state.counters["us_per_tick"] = us_per_tick;
  state.counters["fps_one_core"] = 1e6 / us_per_tick;
  state.counters["core_at_25fps"] = us_per_tick * 25 / 1e6;
  state.counters["encodes_per_tick"] = static_cast<double>(after.encodes - before.encodes) / ticks;
  state.counters["decoded_per_tick"] = static_cast<double>(after.decoded - before.decoded) / ticks;
  benchmark::DoNotOptimize(packets_out);
}

// {participants, of whom in the speaker layout, of whom send H.264, of whom receive H.264}
BENCHMARK(BM_VideoRoom)
    ->Args({4, 0, 0, 0})
    ->Args({9, 0, 0, 0})
    ->Args({16, 0, 0, 0})
    ->Args({9, 1, 0, 0})
    ->Args({9, 0, 1, 0})
    ->Args({9, 0, 9, 0})
    ->Args({9, 0, 0, 1})
    ->Args({9, 0, 0, 9})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3.0);

}  // namespace

BENCHMARK_MAIN();
