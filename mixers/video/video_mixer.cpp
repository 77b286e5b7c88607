#include "mixers/video/video_mixer.h"

#include <openssl/rand.h>

#include <algorithm>

extern "C" {
#include <libavutil/frame.h>
}

#include "core/media/rtp_packet.h"

namespace junction::mixers {
namespace {

template <typename T>
T random_value() {
  T value{};
  RAND_bytes(reinterpret_cast<unsigned char*>(&value), sizeof value);
  return value;
}

constexpr uint32_t kVideoClock = 90000;

}  // namespace

// --- participant ---

VideoParticipant::VideoParticipant(uint64_t id) : id_(id), next_seq_(random_value<uint16_t>()) {}

void VideoParticipant::set_view(const View& view) {
  std::lock_guard lock(mutex_);
  view_ = view;
}

View VideoParticipant::view() const {
  std::lock_guard lock(mutex_);
  return view_;
}

void VideoParticipant::set_send(bool on, uint8_t payload_type, uint32_t ssrc, VideoCodec codec) {
  payload_type_ = payload_type;
  ssrc_ = ssrc;
  output_codec_ = codec;
  if (on && !send_) keyframe_requested_ = true;
  send_ = on;
}

VideoParticipant::Stats VideoParticipant::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool VideoParticipant::push(uint16_t seq, uint32_t timestamp, bool marker, std::span<const uint8_t> payload,
                            Clock::time_point now) {
  bool want = decoder_wants_keyframe_.load(std::memory_order_relaxed);
  const VideoCodec codec = input_codec_;
  if (!depacketizer_ || depacketizer_->codec() != codec) depacketizer_ = make_depacketizer(codec);
  switch (depacketizer_->push(seq, timestamp, marker, payload)) {
    case Depacketizer::Result::kNeedKeyframe:
      want = true;
      break;
    case Depacketizer::Result::kFrame: {
      std::lock_guard lock(mutex_);
      ++stats_.frames_in;
      if (queue_.size() >= kMaxQueue) {
        // The mixer is far behind: what is queued is useless without its predecessors.
        queue_.clear();
        want = true;
        if (!depacketizer_->frame().keyframe) break;
      }
      queue_.push_back(depacketizer_->frame());
      break;
    }
    case Depacketizer::Result::kNone:
      break;
  }
  if (!want || now - last_pli_ < std::chrono::milliseconds(500)) return false;
  last_pli_ = now;
  decoder_wants_keyframe_ = false;
  std::lock_guard lock(mutex_);
  ++stats_.keyframe_requests;
  return true;
}

bool VideoParticipant::decode_pending(Clock::time_point now) {
  std::deque<EncodedFrame> frames;
  {
    std::lock_guard lock(mutex_);
    frames.swap(queue_);
  }
  if (frames.empty()) return false;
  bool got = false;
  uint64_t decoded = 0, errors = 0;
  for (const EncodedFrame& f : frames) {
    if (!decoder_ || decoder_->codec() != f.codec) {
      // The first frame, or a renegotiation changed the codec: a new decoder starts on a keyframe.
      decoder_ = std::make_unique<VideoDecoder>(f.codec);
      decode_broken_ = true;
    }
    if (decode_broken_ && !f.keyframe) continue;
    if (!decoder_->decode(f.data)) {
      ++errors;
      decode_broken_ = true;
      decoder_wants_keyframe_ = true;
      continue;
    }
    decode_broken_ = false;
    ++decoded;
    got = true;
  }
  if (got) {
    if (!picture_) picture_ = make_frame();
    av_frame_unref(picture_.get());
    if (av_frame_ref(picture_.get(), decoder_->picture()) == 0) picture_at_ = now;
  }
  std::lock_guard lock(mutex_);
  stats_.frames_decoded += decoded;
  stats_.decode_errors += errors;
  return got;
}

// --- mixer ---

struct VideoMixer::Group {
  std::vector<Tile> tiles;
  VideoCodec codec;
  bool low = false;  // the low-bitrate group of this layout
  Canvas canvas;
  std::unique_ptr<VideoEncoder> encoder;
  std::vector<VideoParticipant*> receivers;  // this tick
  uint16_t picture_id = 0;
  bool keyframe_wanted = true;
  bool had_keyframe = false;
  Clock::time_point last_keyframe{};
  Clock::time_point last_rate_change{};
  Group(std::vector<Tile> t, VideoCodec c, bool is_low, int bitrate, const VideoMixerSettings& s)
      : tiles(std::move(t)),
        codec(c),
        low(is_low),
        canvas(s.width, s.height),
        encoder(std::make_unique<VideoEncoder>(EncoderSettings{s.width, s.height, s.fps, bitrate, s.speed, c})),
        picture_id(random_value<uint16_t>() & 0x7FFF) {}
};

VideoMixer::VideoMixer(VideoMixerSettings settings, PacketSink packets)
    : settings_(std::move(settings)),
      sink_(std::move(packets)),
      epoch_(Clock::now()),
      ts_base_(random_value<uint32_t>()) {
  // Fail here, where the plugin can answer an error, rather than on the first tick.
  for (VideoCodec codec : settings_.codecs) {
    VideoEncoder probe(EncoderSettings{settings_.width, settings_.height, settings_.fps, settings_.bitrate,
                                       settings_.speed, codec});
    VideoDecoder decoder(codec);
  }
}

VideoMixer::~VideoMixer() { stop(); }

std::shared_ptr<VideoParticipant> VideoMixer::add(uint64_t id) {
  auto p = std::make_shared<VideoParticipant>(id);
  {
    std::lock_guard lock(mutex_);
    list_ = replaced(*list_, id, p);
  }
  wake_.notify_all();
  return p;
}

void VideoMixer::remove(uint64_t id) {
  std::lock_guard lock(mutex_);
  list_ = replaced(*list_, id);
}

std::shared_ptr<VideoParticipant> VideoMixer::find(uint64_t id) const {
  std::lock_guard lock(mutex_);
  return find_participant(*list_, id);
}

std::vector<uint64_t> VideoMixer::order() const {
  std::lock_guard lock(mutex_);
  std::vector<uint64_t> ids;
  for (const auto& p : *list_) ids.push_back(p->id());
  return ids;
}

size_t VideoMixer::size() const {
  std::lock_guard lock(mutex_);
  return list_->size();
}

std::vector<Tile> VideoMixer::layout_for(uint64_t receiver) const {
  std::shared_ptr<VideoParticipant> self = find(receiver);
  View view = self ? self->view() : View{};
  return compute_layout(settings_.width, settings_.height, order(), receiver, view, speaker_);
}

VideoMixer::Stats VideoMixer::stats() const {
  std::lock_guard lock(stats_mutex_);
  return stats_;
}

void VideoMixer::compose(Group& group, Clock::time_point now) {
  Canvas& canvas = group.canvas;
  // Outside the tiles (an incomplete grid row, no one to show): black.
  canvas.fill_all(Yuv{16, 128, 128});
  std::shared_ptr<const List> list;
  {
    std::lock_guard lock(mutex_);
    list = list_;
  }
  for (const Tile& tile : group.tiles) {
    VideoParticipant* p = nullptr;
    for (const auto& q : *list)
      if (q->id() == tile.participant) p = q.get();
    if (p != nullptr && p->picture_ && now - p->picture_at_ < settings_.stale_after)
      canvas.draw(tile, p->picture_.get(), p->scalers_);
    else
      canvas.fill(tile, settings_.placeholder);
  }
}

int VideoMixer::target_bitrate(uint64_t lowest_estimate) const {
  if (lowest_estimate == 0) return settings_.bitrate;
  return static_cast<int>(std::clamp<uint64_t>(lowest_estimate, static_cast<uint64_t>(settings_.min_bitrate),
                                               static_cast<uint64_t>(settings_.bitrate)));
}

// Each group's bitrate follows the lowest estimate among its receivers (receivers without one
// do not count), with hysteresis: re-making the encoder costs a keyframe.
void VideoMixer::adapt_bitrates(Clock::time_point now) {
  for (auto& g : groups_) {
    uint64_t lowest = 0;
    for (VideoParticipant* r : g->receivers) {
      uint64_t e = r->estimate_;
      if (e > 0 && (lowest == 0 || e < lowest)) lowest = e;
    }
    const int target = target_bitrate(lowest), current = g->encoder->bitrate();
    if (std::abs(target - current) * 5 <= current || now - g->last_rate_change < settings_.bitrate_hold) continue;
    try {
      g->encoder->set_bitrate(target);
    } catch (const std::exception&) {
      continue;  // keeps the old encoder (set_bitrate replaces it only once the new one opened)
    }
    g->last_rate_change = now;
    g->keyframe_wanted = true;
    g->had_keyframe = false;  // the new encoder starts with one anyway: let it through at once
  }
}

void VideoMixer::tick() {
  const auto started = Clock::now();
  std::shared_ptr<const List> list;
  {
    std::lock_guard lock(mutex_);
    list = list_;
  }
  uint64_t decoded = 0;
  for (const auto& p : *list) {
    uint64_t before = p->stats().frames_decoded;
    p->decode_pending(started);
    decoded += p->stats().frames_decoded - before;
  }

  // Receivers into groups of equal compositions.
  std::vector<uint64_t> ids;
  ids.reserve(list->size());
  for (const auto& p : *list) ids.push_back(p->id());
  const uint64_t speaker = speaker_;
  for (auto& g : groups_) g->receivers.clear();
  for (const auto& p : *list) {
    if (!p->send_) {
      p->group_ = nullptr;
      continue;
    }
    std::vector<Tile> tiles = compute_layout(settings_.width, settings_.height, ids, p->id(), p->view(), speaker);
    const uint64_t estimate = p->estimate_;
    const bool low = estimate > 0 && static_cast<double>(estimate) < settings_.low_share * settings_.bitrate;
    const VideoCodec codec = p->output_codec_;
    auto it = std::find_if(groups_.begin(), groups_.end(),
                           [&](const auto& g) { return g->codec == codec && g->low == low && g->tiles == tiles; });
    if (it == groups_.end()) {
      try {
        groups_.push_back(std::make_unique<Group>(std::move(tiles), codec, low, target_bitrate(estimate), settings_));
      } catch (const std::exception&) {
        p->group_ = nullptr;  // a codec the constructor did not check: this receiver gets nothing
        continue;
      }
      groups_.back()->last_rate_change = started;
      it = groups_.end() - 1;
    }
    Group& g = **it;
    if (p->group_ != &g) {
      // A new picture stream for this receiver: it can only start on a keyframe.
      p->group_ = &g;
      p->waiting_keyframe_ = true;
      g.keyframe_wanted = true;
    }
    if (p->keyframe_requested_.exchange(false)) {
      p->waiting_keyframe_ = true;  // its decoder is broken: deltas are useless until then
      g.keyframe_wanted = true;
    }
    g.receivers.push_back(p.get());
  }
  groups_.erase(std::remove_if(groups_.begin(), groups_.end(), [](const auto& g) { return g->receivers.empty(); }),
                groups_.end());
  adapt_bitrates(started);

  const uint32_t ts = ts_base_ + static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(started - epoch_).count() * kVideoClock / 1000000);
  arena_.clear();
  pending_.clear();
  uint64_t encodes = 0, keyframes = 0;
  for (auto& gp : groups_) {
    Group& g = *gp;
    compose(g, started);
    bool force = g.keyframe_wanted && (!g.had_keyframe || started - g.last_keyframe >= settings_.keyframe_interval);
    bool key = false;
    std::span<const uint8_t> frame = g.encoder->encode(g.canvas.frame(), force, &key);
    if (frame.empty()) continue;
    ++encodes;
    if (key) {
      ++keyframes;
      g.had_keyframe = true;
      g.keyframe_wanted = false;
      g.last_keyframe = started;
    }
    payloads_.clear();
    sizes_.clear();
    packetize(g.codec, frame, g.picture_id, settings_.max_payload, payloads_, sizes_);
    g.picture_id = (g.picture_id + 1) & 0x7FFF;
    for (VideoParticipant* r : g.receivers) {
      if (r->waiting_keyframe_ && !key) continue;
      r->waiting_keyframe_ = false;
      const uint8_t pt = r->payload_type_;
      const uint32_t ssrc = r->ssrc_;
      size_t offset = 0;
      for (size_t k = 0; k < sizes_.size(); ++k) {
        size_t at = arena_.size();
        arena_.resize(at + media::kRtpFixedHeaderSize + sizes_[k]);
        size_t n = media::rtp_write({arena_.data() + at, arena_.size() - at}, pt, r->next_seq_++, ts, ssrc,
                                    k + 1 == sizes_.size(), {payloads_.data() + offset, sizes_[k]});
        arena_.resize(at + n);
        pending_.push_back({r->id(), at, n});
        offset += sizes_[k];
      }
      std::lock_guard lock(r->mutex_);
      ++r->stats_.frames_out;
    }
  }
  out_.clear();
  for (const Pending& p : pending_) out_.push_back({p.receiver, {arena_.data() + p.offset, p.size}});
  if (!out_.empty() && sink_) sink_(out_);

  std::lock_guard lock(stats_mutex_);
  ++stats_.ticks;
  stats_.encodes += encodes;
  stats_.keyframes += keyframes;
  stats_.packets += out_.size();
  stats_.decoded += decoded;
  stats_.last_tick_groups = static_cast<int>(groups_.size());
  stats_.last_tick_low_groups = static_cast<int>(std::count_if(groups_.begin(), groups_.end(), [](const auto& g) { return g->low; }));
  stats_.last_tick_min_bitrate = 0;
  for (const auto& g : groups_)
    if (stats_.last_tick_min_bitrate == 0 || g->encoder->bitrate() < stats_.last_tick_min_bitrate)
      stats_.last_tick_min_bitrate = g->encoder->bitrate();
  stats_.busy_us += std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count();
}

void VideoMixer::start() {
  std::lock_guard lock(mutex_);
  if (running_) return;
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void VideoMixer::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!running_) return;
    running_ = false;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void VideoMixer::run() {
  const auto period = std::chrono::microseconds(1000000 / std::max(1, settings_.fps));
  auto next = Clock::now();
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (list_->empty()) {
        wake_.wait(lock, [this] { return !running_ || !list_->empty(); });
        next = Clock::now();
      }
      if (!running_) return;
    }
    tick();
    next += period;
    auto now = Clock::now();
    if (now > next) {
      std::lock_guard lock(stats_mutex_);
      ++stats_.overruns;
      if (now - next > 5 * period) next = now;  // far behind: do not try to catch up
    }
    std::unique_lock lock(mutex_);
    wake_.wait_until(lock, next, [this] { return !running_; });
    if (!running_) return;
  }
}

}  // namespace junction::mixers
