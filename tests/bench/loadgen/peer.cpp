#include "tests/bench/loadgen/peer.h"

#include <openssl/rand.h>

#include <algorithm>
#include <optional>

#include "core/media/rtp_packet.h"
#include "core/media/sdp.h"
#include "core/media/sdp_answer.h"

namespace junction::loadgen {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint32_t kMaxTracked = 1u << 16;  // sequence numbers tracked per source (~10 min of video)
constexpr size_t kMaxGapEvents = 64;        // per peer: enough to see when and where loss happened
constexpr size_t kMaxMissingListed = 4096;  // per receiver and source: for the split of the loss
constexpr size_t kMaxSkipRanges = 256;      // per receiver and source
constexpr uint32_t kMixSource = 0x80000000;  // sources_ key for untagged streams: | m-line
constexpr std::string_view kAudioLevelUri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";

uint32_t random_ssrc() {
  uint32_t v = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v);
  return v == 0 ? 1 : v;
}

}  // namespace

std::atomic<bool> Peer::measuring{false};

void ReceiveTotals::add(const ReceiveTotals& o) {
  packets += o.packets;
  window_packets += o.window_packets;
  expected += o.expected;
  lost += o.lost;
  seq_gaps += o.seq_gaps;
  untagged += o.untagged;
  latency_us.insert(latency_us.end(), o.latency_us.begin(), o.latency_us.end());
  gaps.insert(gaps.end(), o.gaps.begin(), o.gaps.end());
  spans.insert(spans.end(), o.spans.begin(), o.spans.end());
}

Peer::Peer(transports::MediaWorker& worker, uint64_t id, const transports::PeerConnectionConfig& config,
           PeerOptions options)
    : worker_(worker), options_(std::move(options)), audio_ssrc_(random_ssrc()), video_ssrc_(random_ssrc()) {
  transports::PeerConnection::Events e;
  e.gathering_done = [this] {
    std::lock_guard lock(mutex_);
    gathered_ = true;
    changed_.notify_all();
  };
  e.connected = [this] {
    std::lock_guard lock(mutex_);
    connected_ = true;
    changed_.notify_all();
  };
  e.closed = [this](const std::string& reason) {
    std::lock_guard lock(mutex_);
    if (!closed_) close_reason_ = reason;
    closed_ = true;
    changed_.notify_all();
  };
  e.rtp = [this](const media::IncomingRtp& p) { on_rtp(p); };
  e.keyframe_request = [this](int mindex) {
    if (mindex == video_mindex_ && video_) video_->request_keyframe();
  };
  worker_.run_sync([&] { pc_ = std::make_unique<transports::PeerConnection>(worker_, id, config, std::move(e)); });
}

Peer::~Peer() {
  worker_.run_sync([&] {
    if (!pc_->closed()) pc_->close("load generator done");
    pc_.reset();
  });
}

std::string Peer::make_offer(std::chrono::milliseconds timeout) {
  worker_.run_sync([&] { pc_->prepare_offer(); });
  {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return gathered_ || closed_; }) || closed_) return "";
  }
  std::string audio_dir = options_.receive ? "sendrecv" : "sendonly";
  std::string sdp =
      "v=0\r\no=- " + std::to_string(random_ssrc()) + " 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
      (options_.send_video ? "a=group:BUNDLE 0 1\r\n" : "a=group:BUNDLE 0\r\n") +
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=" + audio_dir +
      "\r\na=rtcp-mux\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
      "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
      "a=msid:lg a0\r\na=ssrc:" + std::to_string(audio_ssrc_) + " cname:lg\r\n";
  if (options_.send_video)
    sdp += "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\na=rtcp-mux\r\n"
           "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=rtcp-fb:96 ccm fir\r\n"
           "a=msid:lg v0\r\na=ssrc:" + std::to_string(video_ssrc_) + " cname:lg\r\n";
  std::string error;
  auto offer = media::parse_sdp(sdp, &error);
  if (!offer) return "";
  std::string text;
  worker_.run_sync([&] {
    pc_->set_local_description(*offer);
    pc_->fill_transport(*offer, /*is_offer=*/true);
    text = media::write_sdp(*offer);
    audio_mindex_ = 0;
    if (options_.send_video) video_mindex_ = 1;
  });
  return text;
}

std::string Peer::accept_answer(const std::string& sdp) {
  std::string error;
  auto answer = media::parse_sdp(sdp, &error);
  if (!answer) return "unparseable answer: " + error;
  int level_id = 0;
  for (const auto& m : answer->media)
    if (m.kind == "audio") level_id = m.extmap_id(kAudioLevelUri);
  std::string failure;
  worker_.run_sync([&] {
    failure = pc_->set_remote_description(*answer, /*is_offer=*/false);
    if (!failure.empty()) return;
    if (options_.send_audio && options_.opus_frames)
      audio_ = std::make_unique<OpusSource>(111, audio_ssrc_, options_.opus_frames, level_id, options_.audio_level);
    if (options_.send_video) video_ = std::make_unique<Vp8Source>(96, video_ssrc_, std::chrono::seconds(3));
  });
  return failure;
}

std::string Peer::answer_offer(const std::string& sdp, std::chrono::milliseconds timeout, std::string* error) {
  auto offer = media::parse_sdp(sdp, error);
  if (!offer) return "";
  std::string failure;
  worker_.run_sync([&] {
    failure = pc_->set_remote_description(*offer, /*is_offer=*/true);
    if (failure.empty()) pc_->gather();
  });
  if (!failure.empty()) {
    *error = failure;
    return "";
  }
  {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return gathered_ || closed_; }) || closed_) {
      *error = closed_ ? "closed: " + close_reason_ : "gathering timed out";
      return "";
    }
  }
  media::AnswerOptions options;
  options.send = false;
  options.video_codecs = {"vp8"};
  std::string text;
  worker_.run_sync([&] {
    media::SessionDescription answer = media::make_answer(*offer, options);
    pc_->set_local_description(answer);
    pc_->fill_transport(answer, /*is_offer=*/false);
    text = media::write_sdp(answer);
  });
  return text;
}

void Peer::remote_candidate(const std::string& candidate) {
  worker_.post([this, candidate] {
    if (candidate.empty()) pc_->remote_candidates_done();
    else pc_->add_remote_candidate(candidate);
  });
}

bool Peer::wait_connected(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return connected_ || closed_; }) && connected_ && !closed_;
}

void Peer::start_sending(Pacer& pacer) {
  if (options_.send_audio || options_.send_video) pacer.add(this);
}

void Peer::send_due(Clock::time_point now) {
  if (pc_->closed()) return;
  pending_.clear();
  if (audio_) audio_->due(now, pending_);
  size_t audio_count = pending_.size();
  if (video_) video_->due(now, pending_);
  for (size_t i = 0; i < pending_.size(); ++i) {
    OutPacket& p = pending_[i];
    bool is_audio = i < audio_count;
    Trailer t{options_.source_index * 2 + (is_audio ? 0u : 1u), is_audio ? audio_seq_++ : video_seq_++, now_ns()};
    t.write(p.bytes.data() + p.trailer_offset);
    // The transport rebuilds header extensions: the level goes as its own argument.
    std::optional<uint8_t> level;
    if (is_audio) level = static_cast<uint8_t>(options_.audio_level & 0x7F);
    if (pc_->send_rtp(is_audio ? audio_mindex_ : video_mindex_, p.bytes, level)) sent_.fetch_add(1, std::memory_order_relaxed);
    else send_failures_.fetch_add(1, std::memory_order_relaxed);
  }
}

uint32_t Peer::track(SourceTrack& t, uint32_t seq) {
  if (t.seen.empty()) {
    t.first = t.highest = seq;
    t.seen.assign(1024, false);
  }
  if (seq < t.first) return 0;  // from before the first packet we saw: not counted either way
  uint32_t offset = seq - t.first;
  if (offset >= kMaxTracked) return 0;
  uint32_t skipped = seq > t.highest + 1 ? seq - t.highest - 1 : 0;
  if (offset >= t.seen.size()) t.seen.resize(std::min<size_t>(kMaxTracked, std::max<size_t>(offset + 1, t.seen.size() * 2)), false);
  if (!t.seen[offset]) {
    t.seen[offset] = true;
    ++t.distinct;
  }
  t.highest = std::max(t.highest, seq);
  return skipped;
}

void Peer::on_rtp(const media::IncomingRtp& p) {
  uint64_t now = now_ns();
  uint64_t expected_zero = 0;
  first_media_ns_.compare_exchange_strong(expected_zero, now);
  bool window = measuring.load(std::memory_order_relaxed);
  ++received_.packets;
  if (window) ++received_.window_packets;

  // Continuity of what the server numbered (forward jumps only; retransmissions come back
  // with an old number and are not gaps).
  uint16_t seq = p.rtp.sequence();
  auto [it, fresh] = last_seq_.try_emplace(p.mindex, seq);
  uint16_t prev_seq = it->second;
  if (!fresh) {
    auto diff = static_cast<int16_t>(seq - it->second);
    if (diff > 1) received_.seq_gaps += static_cast<uint64_t>(diff - 1);
    if (diff > 0) it->second = seq;
  }

  auto trailer = Trailer::read(p.rtp.payload());
  if (trailer) {
    SourceTrack& t = sources_[trailer->source];
    if (uint32_t skipped = track(t, trailer->sequence); skipped > 0) {
      if (!fresh && static_cast<uint16_t>(seq - prev_seq) == 1 && t.skipped.size() < kMaxSkipRanges)
        t.skipped.emplace_back(trailer->sequence - skipped, skipped);
      if (received_.gaps.size() < kMaxGapEvents)
        received_.gaps.push_back({trailer->source, trailer->sequence - skipped, skipped, now, seq, prev_seq});
    }
    if (window && now > trailer->sent_ns) received_.latency_us.push_back(static_cast<uint32_t>((now - trailer->sent_ns) / 1000));
  } else {
    // A mixer's output: track by m-line and the server's sequence, unwrapped.
    ++received_.untagged;
    SourceTrack& t = sources_[kMixSource | static_cast<uint32_t>(p.mindex)];
    uint32_t extended = seq;
    if (!t.seen.empty()) {
      uint32_t base = t.highest & 0xFFFF0000u;
      extended = base | seq;
      auto d = static_cast<int32_t>(extended - t.highest);
      if (d < -32768) extended += 0x10000;
      else if (d > 32768 && extended >= 0x10000) extended -= 0x10000;
    } else {
      extended = 0x10000u | seq;  // room to unwrap downwards
    }
    track(t, extended);
  }
}

ReceiveTotals Peer::totals() {
  ReceiveTotals out;
  worker_.run_sync([&] {
    out = received_;
    for (const auto& [source, t] : sources_) {
      if (t.seen.empty()) continue;
      uint64_t expected = std::min<uint64_t>(uint64_t{t.highest} - t.first + 1, kMaxTracked);
      out.expected += expected;
      out.lost += expected - t.distinct;
      if (source & kMixSource) continue;
      SourceSpan span{source, t.first, static_cast<uint32_t>(t.first + expected - 1), {}, {}};
      auto skipped = [&t](uint32_t seq) {
        return std::any_of(t.skipped.begin(), t.skipped.end(),
                           [seq](const auto& r) { return seq >= r.first && seq - r.first < r.second; });
      };
      for (uint32_t i = 0; i < expected; ++i) {
        if (t.seen[i]) continue;
        auto& list = skipped(t.first + i) ? span.skipped : span.missing;
        if (list.size() < kMaxMissingListed) list.push_back(t.first + i);
      }
      out.spans.push_back(std::move(span));
    }
  });
  return out;
}

Pacer::Pacer(transports::MediaWorker& worker) : worker_(worker) {
  worker_.run_sync([&] {
    GSource* source = g_timeout_source_new(5);
    g_source_set_callback(
        source,
        [](gpointer data) -> gboolean {
          auto* self = static_cast<Pacer*>(data);
          auto now = std::chrono::steady_clock::now();
          for (Peer* p : self->peers_) p->send_due(now);
          return G_SOURCE_CONTINUE;
        },
        this, nullptr);
    timer_ = g_source_attach(source, worker_.context());
    g_source_unref(source);
  });
}

Pacer::~Pacer() {
  worker_.run_sync([&] {
    if (GSource* s = g_main_context_find_source_by_id(worker_.context(), timer_)) g_source_destroy(s);
    peers_.clear();
  });
}

void Pacer::add(Peer* peer) {
  worker_.run_sync([&] { peers_.push_back(peer); });
}

void Pacer::stop() {
  worker_.run_sync([&] { peers_.clear(); });
}

void Pacer::remove(Peer* peer) {
  worker_.run_sync([&] { peers_.erase(std::remove(peers_.begin(), peers_.end(), peer), peers_.end()); });
}

}  // namespace junction::loadgen
