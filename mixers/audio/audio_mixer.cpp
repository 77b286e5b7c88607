#include "mixers/audio/audio_mixer.h"

#include <openssl/rand.h>

#include <algorithm>

#include "core/media/rtp_packet.h"
#include "mixers/audio/mix_math.h"

namespace junction::mixers {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTick = std::chrono::milliseconds(20);
constexpr uint32_t kTimestampStep = kOpusRtpClock / 50;  // 20 ms on the 48 kHz RTP clock
constexpr size_t kMaxRtp = media::kRtpFixedHeaderSize + JitterBuffer::kMaxPayload;

template <typename T>
T random_value() {
  T value{};
  RAND_bytes(reinterpret_cast<unsigned char*>(&value), sizeof value);
  return value;
}

int64_t ns_of(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

// --- participant ---

MixerParticipant::MixerParticipant(uint64_t id, const MixerSettings& settings, std::optional<RtpState> from)
    : id_(id),
      settings_(settings),
      jitter_(settings.jitter),
      talk_(settings.audio_active_packets, settings.audio_level_average) {
  const size_t n = static_cast<size_t>(settings.sample_rate / 50);
  frame_.resize(n);
  contribution_.resize(n);
  decoded_.reserve(n * 8);
  if (from) {
    // Carry the stream over: same sequence, timestamps advanced by the time that passed.
    auto now = Clock::now();
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - from->at).count();
    next_seq_ = from->next_seq;
    next_ts_ = from->next_timestamp + static_cast<uint32_t>(std::max<int64_t>(elapsed, 0) * (kOpusRtpClock / 1000));
  } else {
    next_seq_ = random_value<uint16_t>();
    next_ts_ = random_value<uint32_t>();
  }
  ts_due_ns_ = ns_of(Clock::now());
}

void MixerParticipant::set_send(bool on, uint8_t payload_type, uint32_t ssrc) {
  payload_type_ = payload_type;
  ssrc_ = ssrc;
  send_ = on;
}

RtpState MixerParticipant::rtp_state() const {
  return {next_seq_.load(), next_ts_.load(), Clock::time_point(std::chrono::nanoseconds(ts_due_ns_.load()))};
}

bool MixerParticipant::pull(int frame_samples) {
  const size_t n = static_cast<size_t>(frame_samples);
  const bool muted = muted_;
  while (decoded_.size() < n) {
    JitterBuffer::Result r = jitter_.pop(packet_);
    if (r == JitterBuffer::Result::kEmpty) break;
    if (muted) {
      // Drained and dropped: a muted participant is not decoded, and is not talking.
      if (r == JitterBuffer::Result::kPacket && talk_.add(127)) talking_ = talk_.talking();
      continue;
    }
    if (r == JitterBuffer::Result::kLost) {
      if (decoder_) decoder_->conceal(decoded_);
      continue;
    }
    if (packet_.level_dbov) {
      level_ext_seen_ = true;
      if (talk_.add(*packet_.level_dbov)) talking_ = talk_.talking();
      // The sender says this packet is quieter than the gate, and the participant is out of the
      // mix: it would not be mixed, so it is not decoded (most of a large room, most of the time).
      if (*packet_.level_dbov >= settings_.gate_level_dbov && hold_ == 0) {
        int samples = opus_packet_samples(packet_.bytes()) * settings_.sample_rate / kOpusRtpClock;
        decoded_.resize(decoded_.size() + static_cast<size_t>(samples > 0 ? samples : frame_samples), 0);
        continue;
      }
    }
    if (!decoder_) {
      try {
        decoder_ = std::make_unique<OpusDecoder>(settings_.sample_rate);
      } catch (const std::exception&) {
        return false;  // no decoder available: this participant cannot be heard
      }
    }
    decoder_->decode(packet_.bytes(), decoded_);
  }
  if (muted || decoded_.empty()) {
    decoded_.clear();
    return false;
  }
  size_t take = std::min(n, decoded_.size());
  std::copy_n(decoded_.begin(), take, frame_.begin());
  std::fill(frame_.begin() + static_cast<std::ptrdiff_t>(take), frame_.end(), int16_t{0});
  decoded_.erase(decoded_.begin(), decoded_.begin() + static_cast<std::ptrdiff_t>(take));
  scale(frame_, volume_, contribution_);
  return true;
}

// --- mixer ---

AudioMixer::AudioMixer(MixerSettings settings, PacketSink packets, TalkingSink talking)
    : settings_(settings),
      packets_sink_(std::move(packets)),
      talking_sink_(std::move(talking)),
      shared_encoder_({settings.sample_rate, settings.bitrate, settings.complexity, settings.expected_loss}) {
  frame_samples_ = settings_.sample_rate / 50;
  sum_.resize(static_cast<size_t>(frame_samples_));
  mix_.resize(sum_.size());
  minus_.resize(sum_.size());
}

AudioMixer::~AudioMixer() { stop(); }

std::shared_ptr<MixerParticipant> AudioMixer::add(uint64_t id, std::optional<RtpState> continue_from) {
  auto p = std::make_shared<MixerParticipant>(id, settings_, continue_from);
  {
    std::lock_guard lock(mutex_);
    list_ = replaced(*list_, id, p);
  }
  wake_.notify_all();
  return p;
}

void AudioMixer::remove(uint64_t id) {
  std::lock_guard lock(mutex_);
  list_ = replaced(*list_, id);
}

std::shared_ptr<MixerParticipant> AudioMixer::find(uint64_t id) const {
  std::lock_guard lock(mutex_);
  return find_participant(*list_, id);
}

size_t AudioMixer::size() const {
  std::lock_guard lock(mutex_);
  return list_->size();
}

void AudioMixer::set_mix_tap(MixTap tap) {
  std::lock_guard lock(mutex_);
  tap_ = std::move(tap);
}

AudioMixer::Stats AudioMixer::stats() const {
  std::lock_guard lock(stats_mutex_);
  return stats_;
}

void AudioMixer::emit(MixerParticipant& p, std::span<const uint8_t> payload) {
  if (payload.empty()) return;
  const bool marker = !p.sending_;  // the first packet after a silence
  p.sending_ = true;
  size_t offset = arena_.size();
  arena_.resize(offset + kMaxRtp);
  uint16_t seq = p.next_seq_;
  uint32_t ts = p.next_ts_;
  size_t size = media::rtp_write({arena_.data() + offset, kMaxRtp}, p.payload_type_, seq, ts, p.ssrc_, marker, payload);
  arena_.resize(offset + size);
  if (size > 0) pending_.push_back({p.id(), offset, size});
  p.next_seq_ = static_cast<uint16_t>(seq + 1);
}

void AudioMixer::tick() {
  const auto started = Clock::now();
  std::shared_ptr<const List> list;
  MixTap tap;
  {
    std::lock_guard lock(mutex_);
    list = list_;
    tap = tap_;
  }
  // 1. Everyone's next frame; who is in the mix; the sum of those who are.
  std::fill(sum_.begin(), sum_.end(), 0);
  int mixed = 0;
  for (const auto& p : *list) {
    p->has_frame_ = p->pull(frame_samples_);
    bool loud = p->has_frame_ && level_dbov(std::span<const int32_t>(p->contribution_)) < settings_.gate_level_dbov;
    if (loud) p->hold_ = settings_.gate_hold_frames;
    else if (p->hold_ > 0) --p->hold_;
    p->in_mix_ = p->has_frame_ && (loud || p->hold_ > 0);
    if (p->has_frame_ && !p->level_ext_seen_) {
      // No audio-level extension from this sender: talking detection from the decoded frame.
      if (p->talk_.add(level_dbov(std::span<const int16_t>(p->frame_)))) p->talking_ = p->talk_.talking();
    }
    if (p->in_mix_) {
      accumulate(sum_, p->contribution_);
      ++mixed;
    }
  }
  saturate(sum_, mix_);
  if (tap) tap(mix_);

  // 2. Encode: one frame per speaker (without itself), one shared frame for everyone else.
  arena_.clear();
  pending_.clear();
  arena_.reserve(list->size() * kMaxRtp);  // no reallocation while this tick's packets are written
  int encodes = 0;
  std::span<const uint8_t> shared;
  bool shared_done = false;
  const auto due = Clock::now();
  for (const auto& p : *list) {
    const bool send = p->send_;
    if (send && (p->in_mix_ || !settings_.shared_encode)) {
      if (!p->encoder_) {
        try {
          p->encoder_ = std::make_unique<OpusEncoder>(
              OpusEncoder::Settings{settings_.sample_rate, settings_.bitrate, settings_.complexity, settings_.expected_loss});
        } catch (const std::exception&) {
          continue;
        }
      }
      if (p->in_mix_) mix_minus(sum_, p->contribution_, minus_);
      else minus_ = mix_;  // per-participant encoding (shared_encode off) of someone not in the mix
      emit(*p, p->encoder_->encode(minus_));
      ++encodes;
    } else if (send) {
      if (!shared_done) {
        shared = shared_encoder_.encode(mix_);
        shared_done = true;
        ++encodes;
      }
      emit(*p, shared);
    } else {
      p->sending_ = false;
    }
    // The stream's clock runs whether or not a packet went out, so it stays continuous.
    p->next_ts_ = p->next_ts_ + kTimestampStep;
    p->ts_due_ns_ = ns_of(due + kTick);
  }
  out_.clear();
  for (const Pending& q : pending_) out_.push_back({q.participant, {arena_.data() + q.offset, q.size}});
  if (!out_.empty() && packets_sink_) packets_sink_(out_);

  // 3. Talking events.
  if (talking_sink_)
    for (const auto& p : *list)
      if (p->talking_ != p->talking_reported_) {
        p->talking_reported_ = p->talking_;
        talking_sink_(p->id(), p->talking_reported_, p->talk_.last_average());
      }

  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count();
  std::lock_guard lock(stats_mutex_);
  ++stats_.ticks;
  stats_.encodes += static_cast<uint64_t>(encodes);
  stats_.packets += out_.size();
  stats_.last_tick_encodes = encodes;
  stats_.last_tick_mixed = mixed;
  stats_.last_tick_us = us;
  stats_.max_tick_us = std::max(stats_.max_tick_us, us);
  stats_.busy_us += us;
}

void AudioMixer::start() {
  std::lock_guard lock(mutex_);
  if (running_) return;
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void AudioMixer::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!running_) return;
    running_ = false;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AudioMixer::run() {
  auto next = Clock::now();
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (list_->empty()) {
        // An empty room does not tick.
        wake_.wait(lock, [this] { return !running_ || !list_->empty(); });
        next = Clock::now();
      }
      if (!running_) return;
    }
    tick();
    next += kTick;
    auto now = Clock::now();
    if (now > next) {
      std::lock_guard lock(stats_mutex_);
      ++stats_.overruns;
      if (now - next > 5 * kTick) next = now;  // far behind (suspended?): do not try to catch up
    }
    std::unique_lock lock(mutex_);
    wake_.wait_until(lock, next, [this] { return !running_; });
    if (!running_) return;
  }
}

}  // namespace junction::mixers
