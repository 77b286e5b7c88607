#include "plugins/videoroom/media_router.h"

#include <algorithm>
#include <cstring>

#include "core/media/rtp_extensions.h"

namespace junction::videoroom {
namespace {

constexpr auto kMinKeyframeInterval = std::chrono::milliseconds(500);
constexpr auto kRembInterval = std::chrono::seconds(1);

struct CacheEntry {
  std::weak_ptr<RoomMedia> media;
  uint64_t version = 0;
};
// Per media worker thread; see media_router.h.
thread_local std::unordered_map<HandleId, CacheEntry> t_cache;

}  // namespace

PublisherStreamRoute* Routes::stream(HandleId publisher, int mindex) {
  auto it = publishers.find(publisher);
  if (it == publishers.end() || mindex < 0 || static_cast<size_t>(mindex) >= it->second.streams.size()) return nullptr;
  return &it->second.streams[static_cast<size_t>(mindex)];
}

void Routes::remove_targets_of(HandleId subscriber) {
  for (auto& [id, publisher] : publishers)
    for (auto& stream : publisher.streams)
      stream.targets.erase(std::remove_if(stream.targets.begin(), stream.targets.end(),
                                          [&](const Target& t) { return t.subscriber == subscriber; }),
                           stream.targets.end());
}

void Routes::move_target(HandleId subscriber, int mindex, HandleId publisher, int publisher_mindex, Forwarder fallback,
                         bool active) {
  Target moved{subscriber, mindex, active, fallback, {}};
  for (auto& [id, route] : publishers)
    for (auto& s : route.streams) {
      auto it = std::find_if(s.targets.begin(), s.targets.end(),
                             [&](const Target& t) { return t.subscriber == subscriber && t.mindex == mindex; });
      if (it == s.targets.end()) continue;
      moved.forwarder = it->forwarder;
      moved.layers.set_target(it->layers.target_substream(), it->layers.target_temporal());
      s.targets.erase(it);
    }
  moved.forwarder.restart();  // a new source: continue the numbering, wait for a keyframe
  auto sub = subscribers.find(subscriber);
  if (sub != subscribers.end() && mindex >= 0 && static_cast<size_t>(mindex) < sub->second.by_mindex.size())
    sub->second.by_mindex[static_cast<size_t>(mindex)] = {publisher, publisher_mindex};
  if (PublisherStreamRoute* target = stream(publisher, publisher_mindex)) {
    target->keyframe_wanted = target->video;
    target->targets.push_back(std::move(moved));
  }
}

Target* Routes::target(HandleId subscriber, int mindex) {
  for (auto& [id, route] : publishers)
    for (auto& s : route.streams)
      for (auto& t : s.targets)
        if (t.subscriber == subscriber && t.mindex == mindex) return &t;
  return nullptr;
}

void Routes::remove_target(HandleId subscriber, int mindex) {
  for (auto& [id, route] : publishers)
    for (auto& s : route.streams)
      std::erase_if(s.targets, [&](const Target& t) { return t.subscriber == subscriber && t.mindex == mindex; });
  auto sub = subscribers.find(subscriber);
  if (sub != subscribers.end() && mindex >= 0 && static_cast<size_t>(mindex) < sub->second.by_mindex.size())
    sub->second.by_mindex[static_cast<size_t>(mindex)] = {};
}

void RoomMedia::post(std::function<void(Routes&)> command) {
  std::lock_guard lock(mutex_);
  pending_.push_back(std::move(command));
  has_pending_.store(true, std::memory_order_release);
}

void RoomMedia::apply_pending() {
  if (!has_pending_.load(std::memory_order_acquire)) return;
  std::vector<std::function<void(Routes&)>> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(pending_);
    has_pending_.store(false, std::memory_order_relaxed);
  }
  for (auto& command : batch) command(routes_);
}

bool RoomMedia::knows(HandleId handle) {
  apply_pending();
  return routes_.publishers.count(handle) != 0 || routes_.subscribers.count(handle) != 0;
}

void RoomMedia::request_keyframe(plugin::Services& services, HandleId publisher, PublisherStreamRoute& stream,
                                 Clock::time_point now) {
  if (now - stream.last_keyframe_request < kMinKeyframeInterval) return;  // throttled; stays wanted
  stream.last_keyframe_request = now;
  stream.keyframe_wanted = false;
  services.send_keyframe_request(publisher, stream.mindex);
}

void RoomMedia::on_data(plugin::Services& services, HandleId publisher, const media::DataMessage& message) {
  apply_pending();
  if (!routes_.publishers.count(publisher)) return;
  for (const auto& [subscriber, route] : routes_.subscribers)
    if (std::any_of(route.by_mindex.begin(), route.by_mindex.end(),
                    [publisher](const SubscriberRoute::Source& s) { return s.publisher == publisher; }))
      services.relay_data(subscriber, message);
}

void RoomMedia::on_rtp(plugin::Services& services, HandleId handle, const media::IncomingRtp& packet) {
  apply_pending();
  auto it = routes_.publishers.find(handle);
  if (it == routes_.publishers.end()) return;  // subscribers' own RTP (if any) goes nowhere
  PublisherRoute& publisher = it->second;
  if (packet.mindex < 0 || static_cast<size_t>(packet.mindex) >= publisher.streams.size()) return;
  PublisherStreamRoute& stream = publisher.streams[static_cast<size_t>(packet.mindex)];
  auto now = Clock::now();
  LayerFilter::Packet layer;  // simulcast only
  if (packet.substream >= 0 && packet.substream < LayerFilter::kMaxSubstreams) {
    stream.layer_seen[static_cast<size_t>(packet.substream)] = now;
    layer.substream = packet.substream;
    layer.keyframe = starts_keyframe(stream.codec, packet.rtp.payload());
    layer.frame_start = true;
    if (stream.codec == VideoCodec::kVp8) {
      if (auto desc = media::parse_vp8_descriptor(packet.rtp.payload())) {
        layer.frame_start = desc->start_of_partition && desc->partition_id == 0;
        if (desc->temporal_id) layer.temporal_id = *desc->temporal_id;
        layer.layer_sync = desc->layer_sync;
      }
    }
  }
  if (stream.video) {
    bool someone_waits = std::any_of(stream.targets.begin(), stream.targets.end(), [](const Target& t) {
      return t.active && (t.forwarder.waiting_keyframe() || t.layers.wants_keyframe());
    });
    bool periodic = routes_.fir_freq_seconds > 0 &&
                    now - stream.last_keyframe_request >= std::chrono::seconds(routes_.fir_freq_seconds);
    if (stream.keyframe_wanted || someone_waits || periodic) request_keyframe(services, handle, stream, now);
    if (publisher.remb_bitrate > 0 && (publisher.remb_due || now - publisher.last_remb >= kRembInterval)) {
      publisher.remb_due = false;
      publisher.last_remb = now;
      services.send_remb(handle, publisher.remb_bitrate);
    }
  }
  if (stream.level.extension_id != 0 && routes_.talking.enabled) detect_talking(services, publisher, stream, packet.rtp);
  if (!stream.enabled || packet.bytes.size() > scratch_.size()) return;
  for (Target& target : stream.targets) {
    if (!target.active) continue;
    if (packet.substream >= 0 && !pass_layers(services, target, stream, packet, layer, now)) continue;
    std::memcpy(scratch_.data(), packet.bytes.data(), packet.bytes.size());
    std::span<uint8_t> copy(scratch_.data(), packet.bytes.size());
    if (!target.forwarder.rewrite(copy, packet.rtp, now)) continue;
    services.relay_rtp(target.subscriber, target.mindex, copy);
  }
}

bool RoomMedia::pass_layers(plugin::Services& services, Target& target, PublisherStreamRoute& stream,
                            const media::IncomingRtp& packet, const LayerFilter::Packet& info, Clock::time_point now) {
  LayerFilter::Verdict verdict = target.layers.on_packet(info, stream.layer_seen, now);
  if (verdict == LayerFilter::Verdict::kDropTemporal) target.forwarder.skip(packet.rtp);
  bool substream = target.layers.take_substream_change(), temporal = target.layers.take_temporal_change();
  if (substream || temporal) {
    // As Janus tells a subscriber its simulcast layer changed (rare: built here).
    plugin::json event = {{"videoroom", "event"}, {"room", room_id_}, {"mid", std::to_string(target.mindex)}};
    if (substream) event["substream"] = target.layers.current_substream();
    if (temporal) event["temporal"] = target.layers.current_temporal();
    services.push_event(target.subscriber, "", event);
  }
  return verdict == LayerFilter::Verdict::kForward;
}

void RoomMedia::detect_talking(plugin::Services& services, const PublisherRoute& publisher,
                               PublisherStreamRoute& stream, const media::RtpPacket& rtp) {
  auto level = media::read_audio_level(rtp.extension(stream.level.extension_id));
  if (!level) return;
  TalkingDetector& d = stream.level;
  d.sum += level->level_dbov;
  if (++d.count < routes_.talking.packets) return;
  double average = static_cast<double>(d.sum) / d.count;
  d.sum = d.count = 0;
  bool talking = average <= routes_.talking.threshold;
  if (talking == d.talking) return;
  d.talking = talking;
  if (d.shown) d.shown->store(talking, std::memory_order_relaxed);
  // A change of state is rare (seconds apart): building the event here is fine.
  plugin::json event = {{"videoroom", talking ? "talking" : "stopped-talking"},
                        {"room", room_id_},
                        {"id", publisher.participant_id},
                        {"mindex", stream.mindex},
                        {"mid", stream.mid},
                        {"audio-level-dBov-avg", average}};
  for (HandleId participant : routes_.participants) services.push_event(participant, "", event);
}

void RoomMedia::on_keyframe_request(plugin::Services& services, HandleId subscriber, int mindex) {
  apply_pending();
  auto it = routes_.subscribers.find(subscriber);
  if (it == routes_.subscribers.end() || mindex < 0 || static_cast<size_t>(mindex) >= it->second.by_mindex.size())
    return;
  const SubscriberRoute::Source& source = it->second.by_mindex[static_cast<size_t>(mindex)];
  if (PublisherStreamRoute* stream = routes_.stream(source.publisher, source.publisher_mindex); stream && stream->video)
    request_keyframe(services, source.publisher, *stream, Clock::now());
}

void MediaDirectory::set(HandleId handle, std::shared_ptr<RoomMedia> media) {
  std::lock_guard lock(mutex_);
  map_[handle] = std::move(media);
  version_.fetch_add(1, std::memory_order_release);
}

void MediaDirectory::erase(HandleId handle) {
  std::lock_guard lock(mutex_);
  if (map_.erase(handle) != 0) version_.fetch_add(1, std::memory_order_release);
}

void MediaDirectory::clear() {
  std::lock_guard lock(mutex_);
  map_.clear();
  version_.fetch_add(1, std::memory_order_release);
}

std::shared_ptr<RoomMedia> MediaDirectory::find(HandleId handle) {
  uint64_t version = version_.load(std::memory_order_acquire);
  auto cached = t_cache.find(handle);
  if (cached != t_cache.end() && cached->second.version == version) {
    if (auto media = cached->second.media.lock(); media && !media->closed()) return media;
  }
  std::shared_ptr<RoomMedia> media;
  {
    std::lock_guard lock(mutex_);
    auto it = map_.find(handle);
    if (it != map_.end()) media = it->second;
    version = version_.load(std::memory_order_acquire);
  }
  if (t_cache.size() > 4096) t_cache.clear();
  t_cache[handle] = CacheEntry{media, version};
  return media && !media->closed() ? media : nullptr;
}

}  // namespace junction::videoroom
