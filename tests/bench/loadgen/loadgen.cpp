// loadgen: many WebRTC peers in one process against a Janus-API server (Junction or Debian's
// janus), over the HTTP API, with the project's own transports in the client role.
//
// Scenarios:
//   fanout      --rooms R --subscribers N: per room one publisher (Opus + VP8) and N subscribers
//   mesh        --rooms R --participants P: per room P publishers, each also subscribing (one
//               multistream PeerConnection) to the P-1 others
//   audiobridge --talkers T --listeners L: one audiobridge room; talkers send a tone, listeners
//               near-silence, every packet with the RFC 6464 level; everyone receives the mix
//   audioroom   --talkers T --listeners L: one videoroom, audio only: T publishers send Opus (a
//               tone, with levels), L subscribers each receive all T streams (SFU, no mixing)
//
// Flow: set everything up (publishers first, then subscribers on --parallel setup threads),
// wait until every receiver has media, warm up, then measure for --duration seconds: the
// server's CPU time (/proc/<pid>/stat, utime + stime) and what the receivers got. RSS is read
// before the first PeerConnection and after the last. Progress goes to stderr; the result is
// one JSON object on stdout. Everything is bounded in count and time; any setup failure is
// reported (and counted) rather than retried.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/base/log.h"
#include "tests/bench/loadgen/janus_http.h"
#include "tests/bench/loadgen/peer.h"
#include "transports/dtls_certificate.h"

namespace junction::loadgen {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string url = "http://127.0.0.1:8088/janus";
  std::string server = "server";  // a label for the report
  int pid = 0;                    // the server's pid for CPU and RSS (0: not measured)
  std::string scenario = "fanout";
  int rooms = 1, subscribers = 10, participants = 6, talkers = 5, listeners = 20;
  double duration = 10, warmup = 2;
  int workers = 2, parallel = 4;
  double setup_timeout = 120;  // whole setup phase, seconds
  std::string metrics_url;     // Junction's /metrics: its in-server forwarding latency histogram
};

void progress(const std::string& line) {
  std::cerr << "[loadgen] " << line << std::endl;
}

struct ProcSample {
  double cpu_s = 0;
  long rss_kb = 0;
};

ProcSample sample(int pid) {
  ProcSample s;
  if (pid <= 0) return s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), {});
  // Fields after the command name (which may contain spaces) start after the last ')'.
  auto close = text.rfind(')');
  if (close != std::string::npos) {
    std::istringstream in(text.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && in >> field; ++i) {
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    }
    s.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::stol(line.substr(6));
  return s;
}

// The machine's UDP drop counters (/proc/net/snmp): everything here is loopback, so a datagram
// dropped for a full socket buffer shows up here whichever side's buffer it was.
struct UdpDrops {
  long long rcvbuf = 0, sndbuf = 0;
};

UdpDrops udp_drops() {
  std::ifstream snmp("/proc/net/snmp");
  std::string header, values;
  UdpDrops d;
  while (std::getline(snmp, header) && std::getline(snmp, values)) {
    if (header.rfind("Udp:", 0) != 0) continue;
    std::istringstream names(header), numbers(values);
    std::string name, number;
    while (names >> name && numbers >> number) {
      if (name == "RcvbufErrors") d.rcvbuf = std::stoll(number);
      if (name == "SndbufErrors") d.sndbuf = std::stoll(number);
    }
    break;
  }
  return d;
}

double self_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

template <typename T>
double percentile(std::vector<T> v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return static_cast<double>(v[k]);
}

// The junction_forwarding_latency_seconds histogram of a metrics page, summed over the media
// workers: cumulative count per `le` bound (seconds; +Inf as infinity).
// An unreachable page (a server starved on a busy machine) gives no histogram, not a failed run:
// the figure is then absent and the rest of the run stands.
std::map<double, double> forwarding_histogram(const std::string& url) {
  std::map<double, double> buckets;
  std::string text;
  try {
    text = http_get(url, std::chrono::seconds(5));
  } catch (const std::exception& e) {
    std::cerr << "[loadgen] no forwarding latency histogram: " << e.what() << std::endl;
    return buckets;
  }
  std::istringstream page(text);
  const std::string prefix = "junction_forwarding_latency_seconds_bucket{";
  for (std::string line; std::getline(page, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    auto le = line.find("le=\"");
    auto close = line.find("\"}", le);
    if (le == std::string::npos || close == std::string::npos) continue;
    std::string bound = line.substr(le + 4, close - le - 4);
    double upper = bound == "+Inf" ? std::numeric_limits<double>::infinity() : std::stod(bound);
    buckets[upper] += std::stod(line.substr(close + 3));
  }
  return buckets;
}

// The sum of a metric's samples whose labels contain `labels` (e.g. `direction="in"`; "" for all).
double metric_sum(const std::string& page, const std::string& name, const std::string& labels) {
  double sum = 0;
  std::istringstream in(page);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name, 0) != 0 || line.size() <= name.size() || (line[name.size()] != '{' && line[name.size()] != ' '))
      continue;
    auto space = line.rfind(' ');
    if (space == std::string::npos || (!labels.empty() && line.find(labels) > space)) continue;
    sum += std::stod(line.substr(space + 1));
  }
  return sum;
}

// p in (0, 1]: the upper bound (µs) of the bucket holding that quantile of the window's samples.
double histogram_quantile_us(const std::map<double, double>& before, const std::map<double, double>& after, double p) {
  double total = after.empty() ? 0 : after.rbegin()->second - (before.empty() ? 0 : before.rbegin()->second);
  if (total <= 0) return 0;
  for (auto& [upper, cumulative] : after) {
    auto b = before.find(upper);
    double in_window = cumulative - (b == before.end() ? 0 : b->second);
    if (in_window >= p * total) return std::isinf(upper) ? -1 : upper * 1e6;
  }
  return -1;
}

// Who lost what, per receiver and packet (from the trailer sequence, so the same for any server):
//   server_skipped: the server's RTP numbering closed over it (the packet after the hole came with
//                   the next RTP sequence number): the server chose not to send it;
//   upstream:       every receiver of its source missed it: lost before the fan-out (publisher ->
//                   server, or the server's input), which the server's counters tell apart;
//   in_transit:     some receivers got it and this one did not, with a hole in the RTP numbering:
//                   lost after the server numbered it (its send, the kernel, the client's receive).
// With a single receiver of a source, upstream and in_transit cannot be told apart: in_transit.
struct LossSplit {
  uint64_t server_skipped = 0, upstream = 0, in_transit = 0;  // receiver-packets
  uint64_t upstream_distinct = 0;                             // publisher packets no receiver got
};

LossSplit split_loss(const std::vector<SourceSpan>& spans) {
  struct Count {
    uint64_t missed = 0, skipped = 0;
  };
  std::map<uint32_t, std::vector<const SourceSpan*>> by_source;
  std::map<std::pair<uint32_t, uint32_t>, Count> misses;
  for (const SourceSpan& s : spans) {
    by_source[s.source].push_back(&s);
    for (uint32_t seq : s.missing) ++misses[{s.source, seq}].missed;
    for (uint32_t seq : s.skipped) ++misses[{s.source, seq}].skipped;
  }
  LossSplit out;
  for (const auto& [key, count] : misses) {
    out.server_skipped += count.skipped;
    if (count.missed == 0) continue;
    uint64_t covered = 0;
    for (const SourceSpan* s : by_source[key.first]) covered += s->first <= key.second && key.second <= s->highest;
    if (covered >= 2 && count.missed == covered) {
      out.upstream += count.missed;
      ++out.upstream_distinct;
    } else {
      out.in_transit += count.missed;
    }
  }
  return out;
}

// The first gap events (one per source and sequence, with how many receivers saw it), times in
// ms from the start of the measured window (negative: during setup or warm-up).
json gap_events(const std::vector<GapEvent>& gaps, uint64_t window_start_ns, size_t limit) {
  std::map<std::pair<uint32_t, uint32_t>, std::pair<GapEvent, uint64_t>> first;
  for (const GapEvent& g : gaps) {
    auto [it, fresh] = first.try_emplace({g.source, g.first_missing}, g, 0);
    if (g.at_ns < it->second.first.at_ns) it->second.first = g;
    ++it->second.second;
  }
  std::vector<std::pair<GapEvent, uint64_t>> sorted;
  for (auto& [key, v] : first) sorted.push_back(v);
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first.at_ns < b.first.at_ns; });
  json out = json::array();
  for (size_t i = 0; i < sorted.size() && i < limit; ++i) {
    const auto& [g, receivers] = sorted[i];
    out.push_back({{"source", g.source}, {"sequence", g.first_missing}, {"count", g.count}, {"receivers", receivers},
                   {"t_ms", (static_cast<double>(g.at_ns) - static_cast<double>(window_start_ns)) / 1e6},
                   {"rtp_seq", g.rtp_seq}, {"prev_rtp_seq", g.prev_rtp_seq}});
  }
  return out;
}

// Runs f(0..count-1) on `threads` threads; returns the failures' messages. Items not started by
// `deadline` fail without running: a server that takes its time on every join must not keep the
// setup phase going for hours.
std::vector<std::string> parallel_for(int count, int threads, std::chrono::steady_clock::time_point deadline,
                                      const std::function<void(int)>& f) {
  std::atomic<int> next{0};
  std::mutex mutex;
  std::vector<std::string> failures;
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, threads); ++t)
    pool.emplace_back([&] {
      for (int i = next++; i < count; i = next++) {
        try {
          if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("not started: setup over its --setup-timeout");
          f(i);
        } catch (const std::exception& e) {
          std::lock_guard lock(mutex);
          failures.push_back(e.what());
        }
      }
    });
  for (auto& t : pool) t.join();
  return failures;
}

class Run {
 public:
  explicit Run(const Options& o) : o_(o), api_(o.url), workers_(o.workers) {
    config_.ice.local_addresses = {"127.0.0.1"};
    config_.certificate = transports::DtlsCertificate::generate();
    for (std::size_t i = 0; i < workers_.size(); ++i) pacers_.push_back(std::make_unique<Pacer>(workers_.at(i)));
    tone_frames_ = std::make_shared<std::vector<std::vector<uint8_t>>>(encode_opus_loop(440, 6000));
    quiet_frames_ = std::make_shared<std::vector<std::vector<uint8_t>>>(encode_opus_loop(0, 0));
    if (tone_frames_->empty() || quiet_frames_->empty()) throw std::runtime_error("the Opus encoder gave no usable frames");
  }

  ~Run() {
    for (auto& p : pacers_) p.reset();  // no more sends before the peers go
    // One destroy request per participant's session: in parallel and bounded, since a saturated
    // server answers each one slowly (one after the other, 500 took minutes against janus).
    parallel_for(static_cast<int>(sessions_.size()), 16, Clock::now() + 30s,
                 [this](int i) { sessions_[static_cast<size_t>(i)]->destroy_session_async(); });
    for (auto& session : sessions_) session->stop();
    api_.destroy_session();
    peers_.clear();
  }

  json execute() {
    api_.create_session();
    progress("session " + std::to_string(api_.session()) + " on " + o_.url + " (" + o_.server + ")");
    setup_start_ = Clock::now();
    drops_at_start_ = udp_drops();
    if (o_.scenario == "audiobridge") setup_audiobridge();
    else setup_videoroom();
    return measure();
  }

 private:
  Peer& new_peer(PeerOptions options, bool receives) {
    std::lock_guard lock(peers_mutex_);
    uint64_t id = peers_.size() + 1;
    auto& worker = workers_.at(id % workers_.size());
    peers_.push_back(std::make_unique<Peer>(worker, id, config_, std::move(options)));
    pacer_of_[peers_.back().get()] = pacers_[id % workers_.size()].get();
    if (receives) receivers_.push_back(peers_.back().get());
    return *peers_.back();
  }

  // A participant's own Janus session, as every real client has: its events (a room's
  // `participants`/`joining` news grows with the room) queue and are polled apart from everyone
  // else's, so neither server drops or delays one participant's answer behind another's news.
  JanusHttp& new_session() {
    auto session = std::make_unique<JanusHttp>(o_.url);
    session->create_session();
    std::lock_guard lock(peers_mutex_);
    sessions_.push_back(std::move(session));
    return *sessions_.back();
  }

  void expect_ok(const std::string& what, const std::string& failure) {
    if (!failure.empty()) throw std::runtime_error(what + ": " + failure);
  }

  // The plugin's data of an event with a JSEP, waited for on `handle`.
  json wait_jsep(JanusHttp& api, uint64_t handle, const std::string& what) {
    auto event = api.wait_event(handle, [](const json& e) { return e.contains("jsep") || e.value("janus", "") == "hangup"; }, 20s);
    if (!event) throw std::runtime_error(what + ": no answer with a JSEP within 20 s");
    if (!event->contains("jsep")) throw std::runtime_error(what + ": hangup: " + event->dump());
    return *event;
  }

  json wait_plugin_event(JanusHttp& api, uint64_t handle, const std::string& key, const std::string& what) {
    auto event = api.wait_event(
        handle,
        [&](const json& e) {
          const json* data = e.contains("plugindata") ? &e["plugindata"]["data"] : nullptr;
          return data != nullptr && (data->contains(key) || data->contains("error"));
        },
        20s);
    if (!event) throw std::runtime_error(what + ": no event within 20 s");
    const json& data = (*event)["plugindata"]["data"];
    if (data.contains("error")) throw std::runtime_error(what + ": " + data.dump());
    return data;
  }

  void trickle_to(JanusHttp& api, uint64_t handle, Peer& peer) {
    api.on_trickle(handle, [&peer](const json& c) {
      if (c.value("completed", false)) peer.remote_candidate("");
      else if (c.contains("candidate")) peer.remote_candidate(c["candidate"].get<std::string>());
    });
  }

  // Our offer, the server's answer, a connected PeerConnection; `request` carries the offer.
  void publish(JanusHttp& api, Peer& peer, uint64_t handle, const json& request, const std::string& what) {
    std::string offer = peer.make_offer(10s);
    if (offer.empty()) throw std::runtime_error(what + ": could not build an offer");
    trickle_to(api, handle, peer);
    api.message(handle, request, {{"type", "offer"}, {"sdp", offer}});
    json event = wait_jsep(api, handle, what);
    expect_ok(what + ": answer", peer.accept_answer(event["jsep"]["sdp"].get<std::string>()));
    if (!peer.wait_connected(15s)) throw std::runtime_error(what + ": not connected: " + peer.close_reason());
    Pacer* pacer = nullptr;
    {
      std::lock_guard lock(peers_mutex_);
      pacer = pacer_of_.at(&peer);
    }
    peer.start_sending(*pacer);
  }

  void setup_videoroom() {
    const bool mesh = o_.scenario == "mesh";
    const bool audio_only = o_.scenario == "audioroom";  // one room (--rooms is not used)
    const int room_count = audio_only ? 1 : o_.rooms;
    const int publishers_per_room = mesh ? o_.participants : audio_only ? o_.talkers : 1;
    if (publishers_per_room < 1) throw std::runtime_error("no publisher in this scenario");
    uint64_t admin = api_.attach("janus.plugin.videoroom");
    std::vector<uint64_t> rooms;
    for (int r = 0; r < room_count; ++r) {
      uint64_t room = 7000000 + static_cast<uint64_t>(getpid() % 10000) * 100 + static_cast<uint64_t>(r);
      json reply = api_.message(admin, {{"request", "create"}, {"room", room}, {"publishers", publishers_per_room + 1},
                                        {"videocodec", "vp8"}, {"audiocodec", "opus"}, {"bitrate", 0}});
      if (!reply.contains("plugindata") || !reply["plugindata"]["data"].contains("room"))
        throw std::runtime_error("room create refused: " + reply.dump());
      rooms.push_back(room);
    }
    baseline_ = sample(o_.pid);
    progress(std::to_string(rooms.size()) + " room(s) created; server RSS " + std::to_string(baseline_.rss_kb) + " kB");

    // Publishers, all rooms.
    int total_publishers = room_count * publishers_per_room;
    std::vector<uint64_t> feed(static_cast<size_t>(total_publishers), 0);
    auto failures = parallel_for(total_publishers, o_.parallel, setup_deadline(), [&](int i) {
      uint64_t room = rooms[static_cast<size_t>(i / publishers_per_room)];
      PeerOptions po;
      po.send_audio = true;
      po.send_video = !audio_only;
      po.source_index = static_cast<uint32_t>(i);
      po.opus_frames = tone_frames_;
      po.audio_level = 30;
      Peer& peer = new_peer(po, false);
      peer.mark_created();
      JanusHttp& api = new_session();
      uint64_t handle = api.attach("janus.plugin.videoroom");
      api.message(handle, {{"request", "join"}, {"ptype", "publisher"}, {"room", room}, {"display", "pub" + std::to_string(i)}});
      json joined = wait_plugin_event(api, handle, "id", "publisher " + std::to_string(i) + " join");
      feed[static_cast<size_t>(i)] = joined["id"].get<uint64_t>();
      publish(api, peer, handle, {{"request", "publish"}, {"audio", true}, {"video", !audio_only}}, "publisher " + std::to_string(i));
      ++publishers_ok_;
    });
    report_failures("publishers", failures);
    progress(std::to_string(publishers_ok_.load()) + "/" + std::to_string(total_publishers) + " publishers sending");

    // Subscribers: fan-out N per room to its publisher; mesh one per participant to the others;
    // audio room: L listeners to every talker.
    int per_room = mesh ? o_.participants : audio_only ? o_.listeners : o_.subscribers;
    int total = room_count * per_room;
    failures = parallel_for(total, o_.parallel, setup_deadline(), [&](int i) {
      int r = i / per_room, j = i % per_room;
      json streams = json::array();
      for (int p = 0; p < publishers_per_room; ++p) {
        if (mesh && p == j) continue;
        uint64_t f = feed[static_cast<size_t>(r * publishers_per_room + p)];
        if (f != 0) streams.push_back({{"feed", f}});
      }
      if (streams.empty()) throw std::runtime_error("subscriber " + std::to_string(i) + ": no publisher to subscribe to");
      PeerOptions po;
      po.receive = true;
      Peer& peer = new_peer(po, true);
      peer.mark_created();
      JanusHttp& api = new_session();
      uint64_t handle = api.attach("janus.plugin.videoroom");
      trickle_to(api, handle, peer);
      api.message(handle, {{"request", "join"}, {"ptype", "subscriber"}, {"room", rooms[static_cast<size_t>(r)]}, {"streams", streams}});
      json event = wait_jsep(api, handle, "subscriber " + std::to_string(i));
      std::string error;
      std::string answer = peer.answer_offer(event["jsep"]["sdp"].get<std::string>(), 10s, &error);
      if (answer.empty()) throw std::runtime_error("subscriber " + std::to_string(i) + ": " + error);
      api.message(handle, {{"request", "start"}, {"room", rooms[static_cast<size_t>(r)]}}, {{"type", "answer"}, {"sdp", answer}});
      negotiated(peer);
      int done = ++subscribers_ok_;
      if (done % 50 == 0) progress(std::to_string(done) + "/" + std::to_string(total) + " subscribers negotiated");
    });
    report_failures("subscribers", failures);
    expected_receivers_ = total;
  }

  void setup_audiobridge() {
    uint64_t admin = api_.attach("janus.plugin.audiobridge");
    uint64_t room = 8000000 + static_cast<uint64_t>(getpid() % 10000);
    json reply = api_.message(admin, {{"request", "create"}, {"room", room}, {"sampling_rate", 16000}, {"audiolevel_ext", true}});
    if (!reply.contains("plugindata") || reply["plugindata"]["data"].contains("error"))
      throw std::runtime_error("audiobridge create refused: " + reply.dump());
    baseline_ = sample(o_.pid);
    progress("audiobridge room " + std::to_string(room) + " created; server RSS " + std::to_string(baseline_.rss_kb) + " kB");
    int total = o_.talkers + o_.listeners;
    auto failures = parallel_for(total, o_.parallel, setup_deadline(), [&](int i) {
      bool talker = i < o_.talkers;
      PeerOptions po;
      po.send_audio = true;
      po.receive = true;
      po.source_index = static_cast<uint32_t>(i);
      po.opus_frames = talker ? tone_frames_ : quiet_frames_;
      po.audio_level = talker ? 20 : 127;
      Peer& peer = new_peer(po, true);
      peer.mark_created();
      JanusHttp& api = new_session();
      uint64_t handle = api.attach("janus.plugin.audiobridge");
      api.message(handle, {{"request", "join"}, {"room", room}, {"display", (talker ? "talker" : "listener") + std::to_string(i)}});
      wait_plugin_event(api, handle, "id", "participant " + std::to_string(i) + " join");
      publish(api, peer, handle, {{"request", "configure"}, {"muted", false}}, "participant " + std::to_string(i));
      negotiated(peer);
      int done = ++subscribers_ok_;
      if (done % 50 == 0) progress(std::to_string(done) + "/" + std::to_string(total) + " participants connected");
    });
    report_failures("participants", failures);
    expected_receivers_ = total;
  }

  void negotiated(Peer& peer) {
    std::lock_guard lock(peers_mutex_);
    negotiated_.push_back(&peer);
  }

  void report_failures(const std::string& what, const std::vector<std::string>& failures) {
    setup_failures_ += static_cast<int>(failures.size());
    for (size_t i = 0; i < failures.size() && i < 5; ++i) progress(what + " failed: " + failures[i]);
    if (failures.size() > 5) progress("... and " + std::to_string(failures.size() - 5) + " more");
  }

  Clock::time_point setup_deadline() const {
    return setup_start_ + std::chrono::milliseconds(static_cast<long>(o_.setup_timeout * 1000));
  }

  json measure() {
    // Every negotiated receiver's first media, bounded by the setup timeout (one whose setup
    // failed is not waited for).
    // A slow setup still leaves the last receivers 10 s for their first packet.
    auto deadline = std::max(setup_deadline(), Clock::now() + 10s);
    while (Clock::now() < deadline) {
      size_t waiting = 0;
      for (Peer* p : negotiated_) waiting += p->first_media_delay_ns() == 0;
      if (waiting == 0) break;
      std::this_thread::sleep_for(100ms);
    }
    size_t with_media = 0;
    for (Peer* p : receivers_) with_media += p->first_media_delay_ns() != 0;
    std::vector<double> first_media_ms;
    for (Peer* p : receivers_)
      if (uint64_t d = p->first_media_delay_ns()) first_media_ms.push_back(static_cast<double>(d) / 1e6);
    ProcSample loaded = sample(o_.pid);
    progress(std::to_string(with_media) + "/" + std::to_string(receivers_.size()) + " receivers have media; server RSS " +
             std::to_string(loaded.rss_kb) + " kB; warming up " + std::to_string(o_.warmup) + " s");
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long>(o_.warmup * 1000)));

    uint64_t sent0 = 0;
    for (auto& p : peers_) sent0 += p->sent_packets();
    size_t negotiated_receivers = 0;
    {
      std::lock_guard lock(peers_mutex_);
      negotiated_receivers = negotiated_.size();
    }
    std::map<double, double> latency0, latency1;
    if (!o_.metrics_url.empty()) latency0 = forwarding_histogram(o_.metrics_url);
    ProcSample cpu0 = sample(o_.pid);
    double self0 = self_cpu_s();
    auto t0 = Clock::now();
    uint64_t window_start_ns = now_ns();
    Peer::measuring = true;
    progress("measuring for " + std::to_string(o_.duration) + " s");
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long>(o_.duration * 1000)));
    Peer::measuring = false;
    double window = std::chrono::duration<double>(Clock::now() - t0).count();
    ProcSample cpu1 = sample(o_.pid);
    double self1 = self_cpu_s();
    if (!o_.metrics_url.empty()) latency1 = forwarding_histogram(o_.metrics_url);
    uint64_t sent1 = 0, send_failures = 0;
    size_t closed = 0;
    for (auto& p : peers_) {
      sent1 += p->sent_packets();
      send_failures += p->send_failures();
      closed += p->closed();
    }
    UdpDrops drops = udp_drops();

    ReceiveTotals all;
    for (Peer* p : receivers_) all.add(p->totals());
    LossSplit split = split_loss(all.spans);
    double server_cpu = cpu1.cpu_s - cpu0.cpu_s;
    double pps = static_cast<double>(all.window_packets) / window;
    // What the server had to send in the window: every packet published, once per subscriber
    // of its room (fan-out: all subscribers; mesh: the P-1 others; audio room: every listener);
    // for the audiobridge, one mix packet per participant every 20 ms. Unlike what the clients
    // received, this does not shrink when the load generator itself cannot keep up.
    double offered = 0;
    if (o_.scenario == "fanout")
      offered = static_cast<double>(sent1 - sent0) * static_cast<double>(negotiated_receivers) / o_.rooms;
    else if (o_.scenario == "mesh")
      offered = static_cast<double>(sent1 - sent0) * (o_.participants - 1);
    else if (o_.scenario == "audioroom")
      offered = static_cast<double>(sent1 - sent0) * static_cast<double>(negotiated_receivers);
    else
      offered = 50.0 * window * static_cast<double>(negotiated_receivers);
    size_t pcs = peers_.size();
    json r = {
        {"server", o_.server},
        {"scenario", o_.scenario},
        {"rooms", o_.rooms},
        {"subscribers", o_.subscribers},
        {"participants", o_.participants},
        {"talkers", o_.talkers},
        {"listeners", o_.listeners},
        {"peer_connections", pcs},
        {"setup_failures", setup_failures_},
        {"receivers", receivers_.size()},
        {"expected_receivers", expected_receivers_},
        {"receivers_with_media", with_media},
        {"closed_during_run", closed},
        {"first_media_ms", {{"p50", percentile(first_media_ms, 0.5)}, {"p95", percentile(first_media_ms, 0.95)},
                            {"max", percentile(first_media_ms, 1.0)}}},
        {"window_s", window},
        {"sent_packets_per_s", static_cast<double>(sent1 - sent0) / window},
        {"received_packets", all.window_packets},
        {"offered_packets_per_s", offered / window},
        {"server_cpu_us_per_offered_packet", offered > 0 ? server_cpu * 1e6 / offered : 0},
        {"offered_packets_per_s_per_core", server_cpu > 0 ? offered / server_cpu : 0},
        {"received_packets_per_s", pps},
        {"server_cpu_s", server_cpu},
        {"server_cpu_fraction", server_cpu / window},
        {"server_cpu_us_per_packet", all.window_packets ? server_cpu * 1e6 / static_cast<double>(all.window_packets) : 0},
        {"packets_per_s_per_core", server_cpu > 0 ? pps / (server_cpu / window) : 0},
        {"server_rss_kb_baseline", baseline_.rss_kb},
        {"server_rss_kb_loaded", loaded.rss_kb},
        {"server_rss_kb_per_pc", pcs ? static_cast<double>(loaded.rss_kb - baseline_.rss_kb) / static_cast<double>(pcs) : 0},
        // After warm-up and the window: send-side history (NACK caches) has filled by then.
        {"server_rss_kb_end", cpu1.rss_kb},
        {"server_rss_kb_per_pc_end", pcs ? static_cast<double>(cpu1.rss_kb - baseline_.rss_kb) / static_cast<double>(pcs) : 0},
        {"latency_us", {{"samples", all.latency_us.size()}, {"p50", percentile(all.latency_us, 0.5)},
                        {"p99", percentile(all.latency_us, 0.99)}, {"max", percentile(all.latency_us, 1.0)}}},
        {"expected_packets", all.expected},
        // Junction's own histogram over the window (bucket upper bounds, so "at most"; -1: above
        // the last bound); absent for a server without it.
        {"server_forwarding_latency_us",
         latency0.empty() || latency1.empty() ? json(nullptr)
                          : json{{"samples", latency1.rbegin()->second - (latency0.empty() ? 0 : latency0.rbegin()->second)},
                                 {"p50", histogram_quantile_us(latency0, latency1, 0.5)},
                                 {"p99", histogram_quantile_us(latency0, latency1, 0.99)}}},
        {"lost_packets", all.lost},
        {"loss_pct", all.expected ? 100.0 * static_cast<double>(all.lost) / static_cast<double>(all.expected) : 0},
        {"server_seq_gaps", all.seq_gaps},
        // Of lost_packets (see LossSplit; the rest, if any: mixes and lists over their bound).
        {"lost_server_skipped", split.server_skipped},
        {"lost_upstream", split.upstream},
        {"lost_upstream_distinct", split.upstream_distinct},
        {"lost_in_transit", split.in_transit},
        {"loss_events", gap_events(all.gaps, window_start_ns, 40)},
        {"client_send_failures", send_failures},
        {"udp_rcvbuf_drops", drops.rcvbuf - drops_at_start_.rcvbuf},
        {"udp_sndbuf_drops", drops.sndbuf - drops_at_start_.sndbuf},
        {"untagged_packets", all.untagged},
        {"loadgen_cpu_fraction", (self1 - self0) / window},
    };
    if (!o_.metrics_url.empty() && o_.scenario != "audiobridge") r["upstream_leg"] = upstream_leg();
    if (o_.scenario == "audiobridge" && server_cpu > 0)
      r["participants_per_core"] = static_cast<double>(o_.talkers + o_.listeners) / (server_cpu / window);
    progress("done: " + std::to_string(all.window_packets) + " packets received in " + std::to_string(window) +
             " s, server CPU " + std::to_string(server_cpu) + " s, loss " + r["loss_pct"].dump() + " %");
    return r;
  }

  // The publisher -> server leg over the whole run, from the server's own counters: the clients
  // stop sending, the last packets land, then what every publisher sent is compared with what
  // the server received (its RTP in counts only packets that passed SRTP and were placed on a
  // stream; RTP in of a videoroom is only the publishers', subscribers send none).
  json upstream_leg() {
    for (auto& p : pacers_) p->stop();
    std::this_thread::sleep_for(300ms);
    uint64_t sent = 0, failed = 0;
    for (auto& p : peers_) {
      sent += p->sent_packets();
      failed += p->send_failures();
    }
    std::string page;
    try {
      page = http_get(o_.metrics_url, 5s);
    } catch (const std::exception& e) {
      return {{"error", e.what()}};
    }
    double received = metric_sum(page, "junction_rtp_packets_total", "direction=\"in\"");
    return {{"client_sent", sent},
            {"client_send_failures", failed},
            {"server_received", received},
            {"not_received", static_cast<double>(sent) - received},
            {"server_dropped_srtp", metric_sum(page, "junction_dropped_packets_total", "reason=\"srtp\"")},
            {"server_dropped_unknown_ssrc", metric_sum(page, "junction_dropped_packets_total", "reason=\"unknown_ssrc\"")},
            {"server_dropped_unparseable", metric_sum(page, "junction_dropped_packets_total", "reason=\"unparseable\"")},
            {"server_nacks_sent", metric_sum(page, "junction_nacks_total", "direction=\"out\"")},
            {"server_rtp_sent", metric_sum(page, "junction_rtp_packets_total", "direction=\"out\"")}};
  }

  Options o_;
  JanusHttp api_;  // the rooms' creation
  std::vector<std::unique_ptr<JanusHttp>> sessions_;  // one per participant (under peers_mutex_)
  transports::MediaWorkers workers_;
  transports::PeerConnectionConfig config_;
  std::vector<std::unique_ptr<Pacer>> pacers_;
  std::shared_ptr<std::vector<std::vector<uint8_t>>> tone_frames_, quiet_frames_;
  std::mutex peers_mutex_;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::unordered_map<Peer*, Pacer*> pacer_of_;
  std::vector<Peer*> receivers_;
  std::vector<Peer*> negotiated_;  // receivers whose setup went through
  std::atomic<int> publishers_ok_{0}, subscribers_ok_{0};
  int setup_failures_ = 0, expected_receivers_ = 0;
  ProcSample baseline_;
  Clock::time_point setup_start_;
  UdpDrops drops_at_start_;
};

}  // namespace
}  // namespace junction::loadgen

int main(int argc, char** argv) {
  junction::loadgen::Options o;
  CLI::App app{"loadgen: emulated WebRTC peers against a Janus-API server", "loadgen"};
  app.add_option("--url", o.url, "the server's HTTP API");
  app.add_option("--server", o.server, "label for the report");
  app.add_option("--pid", o.pid, "server pid for CPU time and RSS (0: not measured)");
  app.add_option("--scenario", o.scenario, "fanout | mesh | audiobridge | audioroom")
      ->check(CLI::IsMember({"fanout", "mesh", "audiobridge", "audioroom"}));
  app.add_option("--rooms", o.rooms, "rooms (fanout, mesh)")->check(CLI::Range(1, 100));
  app.add_option("--subscribers", o.subscribers, "subscribers per room (fanout)")->check(CLI::Range(1, 2000));
  app.add_option("--participants", o.participants, "participants per room (mesh)")->check(CLI::Range(2, 50));
  app.add_option("--talkers", o.talkers, "talkers (audiobridge, audioroom)")->check(CLI::Range(0, 100));
  app.add_option("--listeners", o.listeners, "listeners (audiobridge, audioroom)")->check(CLI::Range(0, 2000));
  app.add_option("--duration", o.duration, "measured window, seconds")->check(CLI::Range(0.5, 600.0));
  app.add_option("--warmup", o.warmup, "seconds between setup and the window")->check(CLI::Range(0.0, 60.0));
  app.add_option("--workers", o.workers, "client media worker threads")->check(CLI::Range(1, 16));
  app.add_option("--parallel", o.parallel, "setup threads")->check(CLI::Range(1, 64));
  app.add_option("--metrics-url", o.metrics_url,
                 "Junction's metrics page (http://host:admin_port/metrics): the window's in-server forwarding latency");
  app.add_option("--setup-timeout", o.setup_timeout, "seconds for setup and first media")->check(CLI::Range(1.0, 600.0));
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "the transports' log level (trace ... off)");
  CLI11_PARSE(app, argc, argv);
  auto level = junction::log::parse_level(log_level);
  if (!level) {
    std::cerr << "[loadgen] unknown log level " << log_level << std::endl;
    return 2;
  }
  junction::log::init(*level);
  try {
    nlohmann::json result;
    {
      junction::loadgen::Run run(o);
      result = run.execute();
    }  // peers closed and the session destroyed before the result is printed
    std::cout << result.dump() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "[loadgen] error: " << e.what() << std::endl;
    return 1;
  }
}
