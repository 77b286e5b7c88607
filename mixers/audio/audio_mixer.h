#pragma once
// An audio MCU room: every participant sends one Opus stream and receives one mix, the mix of
// everyone else (mix-minus: nobody hears themselves).
//
// Shared encode. Per 20 ms tick the mixer decodes each participant's next frame, scales it by the
// participant's volume and sums the frames of everyone in the mix ONCE. Only the participants who
// are in the mix (their frame, or one of the last `gate_hold_frames`, is louder than
// `gate_level_dbov`) need a mix without themselves: each of them gets (sum - own) encoded by an
// encoder of its own. Everyone else (listeners, muted, quiet) hears the same thing, the whole sum:
// ONE encoder, ONE packet per tick, sent to each of them with their own RTP sequence numbers and
// timestamps. Encodes per tick = speakers + 1, however many listen. Quiet participants are left out
// of the sum (a noise gate), which is what keeps a listener's own faint background out of the
// shared frame it receives.
//
// Threads.
//   - control (the plugin's control loop): add / remove participants, settings, start / stop.
//   - media workers: MixerParticipant::push() hands an RTP payload to the participant's jitter
//     buffer (one small lock per participant, no allocation).
//   - the mixer thread (start()): tick() every 20 ms on absolute deadlines; decoding, mixing,
//     encoding and packetizing all happen there. Its output leaves through the PacketSink, once per
//     tick with every packet of that tick (the plugin hands them to the media workers).
// tick() may also be called directly, without start() (unit tests, benchmarks).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "mixers/participant_list.h"
#include "mixers/audio/jitter_buffer.h"
#include "mixers/audio/opus_codec.h"
#include "mixers/audio/talk_detector.h"

namespace junction::mixers {

struct MixerSettings {
  int sample_rate = 16000;  // 8000, 12000, 16000, 24000 or 48000
  int bitrate = 0;          // Opus bits per second; 0: a default for the rate
  int complexity = 4;       // Opus 0..10
  int expected_loss = 0;    // percent; > 0 turns in-band FEC on in the encoders
  uint8_t gate_level_dbov = 55;  // frames quieter than -55 dBov (after volume) stay out of the mix
  int gate_hold_frames = 20;     // ... unless one of the last 20 frames (400 ms) was louder
  // false: one encode per receiving participant, the way Janus's AudioBridge mixes (benchmarks).
  bool shared_encode = true;
  int audio_active_packets = 100;  // talking detection (TalkDetector)
  int audio_level_average = 25;
  JitterBuffer::Config jitter;
};

struct OutgoingPacket {
  uint64_t participant;
  std::span<const uint8_t> rtp;  // a whole RTP packet: 12-byte header + one Opus frame
};

// Where a participant's outgoing RTP stream stands, to carry it over to another room.
struct RtpState {
  uint16_t next_seq = 0;
  uint32_t next_timestamp = 0;
  std::chrono::steady_clock::time_point at{};  // when next_timestamp was due
};

class AudioMixer;

class MixerParticipant {
 public:
  MixerParticipant(uint64_t id, const MixerSettings& settings, std::optional<RtpState> continue_from);
  uint64_t id() const { return id_; }

  // --- any thread ---
  void set_muted(bool muted) { muted_ = muted; }
  bool muted() const { return muted_; }
  void set_volume(int percent) { volume_ = percent < 0 ? 0 : percent; }
  int volume() const { return volume_; }
  // The mixer sends this participant its mix only while sending is on (its PeerConnection is up),
  // with this payload type and SSRC.
  void set_send(bool on, uint8_t payload_type = 111, uint32_t ssrc = 0);
  bool talking() const { return talking_; }
  RtpState rtp_state() const;
  JitterBuffer::Stats jitter_stats() const { return jitter_.stats(); }

  // --- media worker: one incoming RTP packet's Opus payload ---
  void push(uint16_t seq, uint32_t timestamp, std::span<const uint8_t> payload,
            std::optional<uint8_t> level_dbov = std::nullopt) {
    jitter_.push(seq, timestamp, payload, level_dbov);
  }

 private:
  friend class AudioMixer;
  // Mixer thread: the participant's next frame (scaled) into contribution_; false if it has none.
  bool pull(int frame_samples);

  const uint64_t id_;
  const MixerSettings settings_;
  std::atomic<bool> muted_{false};
  std::atomic<int> volume_{100};
  std::atomic<bool> send_{false};
  std::atomic<uint8_t> payload_type_{111};
  std::atomic<uint32_t> ssrc_{0};
  std::atomic<bool> talking_{false};
  JitterBuffer jitter_;

  // Mixer thread only.
  std::unique_ptr<OpusDecoder> decoder_;
  std::unique_ptr<OpusEncoder> encoder_;  // made the first time it is in the mix
  JitterBuffer::Packet packet_;
  std::vector<int16_t> decoded_;       // decoded samples not mixed yet
  std::vector<int16_t> frame_;         // this tick's frame
  std::vector<int32_t> contribution_;  // frame_ * volume
  bool has_frame_ = false;
  bool in_mix_ = false;
  int hold_ = 0;
  bool level_ext_seen_ = false;
  TalkDetector talk_;
  bool talking_reported_ = false;
  bool sending_ = false;  // sent a packet last tick (marker bit on the first of a run)
  // The outgoing stream, readable from any thread for rtp_state().
  std::atomic<uint16_t> next_seq_;
  std::atomic<uint32_t> next_ts_;
  std::atomic<int64_t> ts_due_ns_{0};
};

class AudioMixer {
 public:
  using PacketSink = std::function<void(std::span<const OutgoingPacket>)>;
  // Mixer thread: a participant's talking state changed; `level` is the window's average -dBov.
  using TalkingSink = std::function<void(uint64_t participant, bool talking, int level)>;
  // Mixer thread: the whole mix of one tick (everyone in it), for recording.
  using MixTap = std::function<void(std::span<const int16_t>)>;

  struct Stats {
    uint64_t ticks = 0;
    uint64_t overruns = 0;   // ticks that ended after the next one was due
    uint64_t encodes = 0;    // Opus encodes, all ticks
    uint64_t packets = 0;    // RTP packets handed to the sink
    int last_tick_encodes = 0;
    int last_tick_mixed = 0;  // participants in the mix
    int64_t last_tick_us = 0, max_tick_us = 0;
    int64_t busy_us = 0;      // time spent inside tick(), all ticks
  };

  AudioMixer(MixerSettings settings, PacketSink packets, TalkingSink talking = {});
  ~AudioMixer();  // stops the thread
  AudioMixer(const AudioMixer&) = delete;
  AudioMixer& operator=(const AudioMixer&) = delete;

  const MixerSettings& settings() const { return settings_; }
  int frame_samples() const { return frame_samples_; }

  // Control thread. `continue_from` keeps a moving participant's RTP stream continuous.
  std::shared_ptr<MixerParticipant> add(uint64_t id, std::optional<RtpState> continue_from = std::nullopt);
  void remove(uint64_t id);
  std::shared_ptr<MixerParticipant> find(uint64_t id) const;
  size_t size() const;
  void set_mix_tap(MixTap tap);

  void start();  // the 20 ms thread; it sleeps while the room is empty
  void stop();
  void tick();
  Stats stats() const;

 private:
  using List = ParticipantList<MixerParticipant>;
  void run();
  void emit(MixerParticipant& p, std::span<const uint8_t> payload);

  const MixerSettings settings_;
  const PacketSink packets_sink_;
  const TalkingSink talking_sink_;
  int frame_samples_ = 0;

  mutable std::mutex mutex_;  // guards list_, tap_, running_
  std::condition_variable wake_;
  std::shared_ptr<const List> list_ = std::make_shared<List>();
  MixTap tap_;
  bool running_ = false;
  std::thread thread_;

  // Mixer thread only.
  OpusEncoder shared_encoder_;
  std::vector<int32_t> sum_;
  std::vector<int16_t> mix_, minus_;
  std::vector<uint8_t> arena_;  // this tick's RTP packets
  std::vector<OutgoingPacket> out_;
  struct Pending {
    uint64_t participant;
    size_t offset, size;
  };
  std::vector<Pending> pending_;

  mutable std::mutex stats_mutex_;
  Stats stats_;
};

}  // namespace junction::mixers
