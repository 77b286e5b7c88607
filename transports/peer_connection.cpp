#include "transports/peer_connection.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "core/base/log.h"
#include "core/media/rtcp_builder.h"
#include "core/media/rtcp_packet.h"
#include "core/media/rtp_extensions.h"
#include "core/media/simulcast.h"
#include "core/media/ntp_time.h"

namespace junction::transports {
namespace {

using Clock = std::chrono::steady_clock;
using media::MediaKind;

auto& logger() {
  static auto l = log::get("pc");
  return l;
}

// The PeerConnections of the calling worker thread (destroyed with the thread).
std::unordered_map<uint64_t, PeerConnection*>& registry() {
  thread_local std::unordered_map<uint64_t, PeerConnection*> pcs;
  return pcs;
}

// One timer per worker thread drives every PeerConnection on it, instead of two GLib timers per
// PeerConnection: with hundreds of PeerConnections, GLib's prepare/check over their timer sources
// was a tenth of a loaded worker's CPU (BENCHMARKS.md, the fan-out profile). The timer exists
// while the worker has PeerConnections.
// A tick visits only the PeerConnections with something due (every tick: those receiving video,
// for their NACKs; the others on their check or report tick, spread by id): visiting all of them
// every tick was ~3 % of a loaded worker's CPU at 100 subscribers, mostly cache misses.
constexpr std::chrono::milliseconds kTickPeriod{20};  // NACKs
constexpr uint64_t kTicksPerCheck = 5;                // consent and no-media checks every 100 ms
constexpr uint64_t kTicksPerReport = 50;              // receiver/sender reports once a second
static_assert(kTicksPerReport % kTicksPerCheck == 0, "a report tick is a check tick");
struct WorkerTicker {
  guint source = 0;
  uint64_t ticks = 0;
  std::vector<uint64_t> due;             // the ids ticked this time (reused: no allocation per tick)
  std::unordered_set<uint64_t> nacking;  // PeerConnections receiving video: NACKs due every tick
};
WorkerTicker& ticker() {
  thread_local WorkerTicker t;
  return t;
}

uint32_t random_u32() {
  uint32_t value = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&value), sizeof value);
  return value == 0 ? 1 : value;
}

constexpr std::string_view kMidUri = "urn:ietf:params:rtp-hdrext:sdes:mid";
constexpr std::string_view kAudioLevelUri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
constexpr std::string_view kRidUri = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
constexpr std::string_view kRepairedRidUri = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
constexpr size_t kSrtpHeadroom = 148;  // SrtpSession::kRtcpTrailerRoom: room for the SRTP/SRTCP trailer
constexpr std::chrono::milliseconds kNackHistory{1000};  // what a send stream can retransmit
// Bytes at the start of a payload kept per peer in its NACK history (a VP8 descriptor, which a
// forwarder rewrites per subscriber, is at most 6); the rest goes to the worker's shared store.
constexpr size_t kOwnPayloadPrefix = 16;

}  // namespace

// What one m-line negotiated, from our local description.
struct PeerConnection::Line {
  int mindex = 0;
  std::string mid;
  MediaKind kind = MediaKind::kAudio;
  bool rejected = false;
  std::vector<int> payload_types;               // media payload types (not rtx)
  std::unordered_map<int, int> rtx_to_media;    // rtx payload type -> its apt
  std::unordered_map<int, int> media_to_rtx;
  std::unordered_map<int, uint32_t> clock_rates;
  std::vector<uint32_t> remote_ssrcs;           // from the remote description (media ssrcs)
  std::unordered_map<uint32_t, uint32_t> remote_rtx_of;  // a=ssrc-group:FID: rtx ssrc -> media ssrc
  media::SimulcastLayers simulcast;             // the layers the peer sends here, if any
  std::unique_ptr<SendStream> send;             // when we send on this line
  bool receiving = false;
  Clock::time_point last_packet;
};

struct PeerConnection::SendStream {
  uint32_t ssrc = 0, rtx_ssrc = 0;
  int rtx_payload_type = -1;
  uint16_t rtx_sequence = 0;
  uint32_t clock_rate = 90000;
  // Video only (audio is not retransmitted): up to 512 packets or kNackHistory (the index grows
  // to what kNackHistory needs at the stream's rate, see RetransmissionCache).
  std::optional<media::RetransmissionCache> cache;
  uint64_t packets = 0, octets = 0;
  uint32_t nacked_this_second = 0;  // sequence numbers the peer reported lost
  uint32_t last_timestamp = 0;
  Clock::time_point last_sent;
};

struct PeerConnection::RecvStream {
  uint32_t ssrc = 0;
  int mindex = 0;
  bool rtx = false;
  int substream = -1;      // simulcast layer (media streams of a simulcast line), else -1
  std::string rid;         // media: its rid; rtx: the rid it repairs (simulcast only)
  uint32_t repairs = 0;    // rtx: the media ssrc it repairs, when an FID group says so
  media::ReceiveStats stats;
  std::optional<media::NackGenerator> nack;  // video only
  int64_t lost_at_last_check = 0;
  explicit RecvStream(uint32_t clock_rate) : stats(clock_rate) {}
};

alignas(16) thread_local std::array<uint8_t, 2048> PeerConnection::rx_;
alignas(16) thread_local std::array<uint8_t, 2048> PeerConnection::tx_;

PeerConnection::PeerConnection(MediaWorker& worker, uint64_t id, const PeerConnectionConfig& config, Events events)
    : worker_(worker), id_(id), config_(config), events_(std::move(events)), rtcp_ssrc_(random_u32()) {
  cname_ = "junction-" + std::to_string(id % 1000000);
  created_ = last_received_ = Clock::now();
  registry()[id_] = this;
  if (ticker().source == 0) {
    GSource* source = g_timeout_source_new(static_cast<guint>(kTickPeriod.count()));
    g_source_set_callback(source, &PeerConnection::tick_worker, nullptr, nullptr);
    ticker().source = g_source_attach(source, worker_.context());
    g_source_unref(source);
  }
}

PeerConnection::~PeerConnection() {
  registry().erase(id_);
  ticker().nacking.erase(id_);
  channels_.reset();
  sctp_.reset();  // its last packet (an ABORT) goes through DTLS, so it goes first
  for (guint* t : {&dtls_timer_, registry().empty() ? &ticker().source : nullptr})
    if (t != nullptr && *t != 0) {
      GSource* s = g_main_context_find_source_by_id(worker_.context(), *t);
      if (s != nullptr) g_source_destroy(s);
      *t = 0;
    }
}

PeerConnection::IceContext::~IceContext() {
  if (context != nullptr) worker.retire_peer_context(context);
}

gboolean PeerConnection::tick_worker(gpointer) {
  // A tick may close PeerConnections, and their owners may destroy them (or create others):
  // work from a copy of the ids and look each one up again.
  WorkerTicker& t = ticker();
  const uint64_t tick = t.ticks++;
  const auto now = Clock::now();
  // Checks and reports are spread over the ticks by id, not done by everyone at once.
  auto check_tick = [tick](uint64_t id) { return (tick + id) % kTicksPerCheck == 0; };
  t.due.clear();
  for (const auto& entry : registry())
    if (check_tick(entry.first) || t.nacking.count(entry.first) != 0) t.due.push_back(entry.first);
  for (uint64_t id : t.due) {
    if (check_tick(id))
      if (PeerConnection* pc = find_on_this_worker(id); pc != nullptr && !pc->closed_) pc->check_timers(now);
    if (t.nacking.count(id) != 0)
      if (PeerConnection* pc = find_on_this_worker(id); pc != nullptr && !pc->closed_ && pc->connected_)
        pc->send_nacks(now);
    if ((tick + id) % kTicksPerReport == 0)
      if (PeerConnection* pc = find_on_this_worker(id)) pc->tick_reports();
  }
  return G_SOURCE_CONTINUE;
}

PeerConnection* PeerConnection::find_on_this_worker(uint64_t id) {
  auto it = registry().find(id);
  return it == registry().end() ? nullptr : it->second;
}

guint PeerConnection::add_timeout(std::chrono::milliseconds period, bool (PeerConnection::*tick)()) {
  struct Call {
    PeerConnection* self;
    bool (PeerConnection::*tick)();
  };
  GSource* source = g_timeout_source_new(static_cast<guint>(period.count()));
  g_source_set_callback(
      source,
      [](gpointer data) -> gboolean {
        auto* call = static_cast<Call*>(data);
        return (call->self->*(call->tick))() ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
      },
      new Call{this, tick}, [](gpointer data) { delete static_cast<Call*>(data); });
  guint id = g_source_attach(source, worker_.context());
  g_source_unref(source);
  return id;
}

std::string PeerConnection::set_remote_description(const media::SessionDescription& remote, bool is_offer,
                                                   bool rids_lowest_first) {
  if (closed_) return "the PeerConnection is closed";
  // With BUNDLE everything runs on the first bundled m-line's transport.
  const media::MediaSection* transport = nullptr;
  std::vector<std::string> bundle = remote.bundle_mids();
  for (const auto& m : remote.media) {
    if (m.port == 0 && !m.bundle_only) continue;
    if (bundle.empty() || m.mid == bundle.front()) {
      transport = &m;
      break;
    }
  }
  if (transport == nullptr) return "no usable m-line";
  std::string ufrag = remote.ice_ufrag_of(*transport), pwd = remote.ice_pwd_of(*transport);
  std::string fingerprint = remote.fingerprint_of(*transport);
  if (ufrag.empty() || pwd.empty()) return "missing ICE credentials";
  if (fingerprint.empty() || remote.fingerprint_algorithm_of(*transport) != "sha-256")
    return "missing a sha-256 DTLS fingerprint";
  std::string setup = remote.setup_of(*transport);
  DtlsTransport::Role role;
  if (is_offer) role = setup == "active" ? DtlsTransport::Role::kServer : DtlsTransport::Role::kClient;
  else if (setup == "active") role = DtlsTransport::Role::kServer;
  else if (setup == "passive") role = DtlsTransport::Role::kClient;
  else return "the answer's a=setup must be active or passive";

  if (dtls_role_ && (*dtls_role_ != role || fingerprint != remote_fingerprint_))
    return "renegotiation cannot change the DTLS role or fingerprint";

  // The answerer is the controlled agent (RFC 8445 §6.1.1); as offerer ICE already runs.
  if (!ice_) create_ice(/*controlling=*/!is_offer);
  ice_->set_remote_credentials(ufrag, pwd);
  for (const auto& m : remote.media)
    for (const std::string& c : m.candidates) ice_->add_remote_candidate(c);
  if (transport->end_of_candidates) ice_->remote_gathering_done();

  if (!dtls_) {
    dtls_role_ = role;
    remote_fingerprint_ = fingerprint;
    DtlsTransport::Callbacks callbacks;
    callbacks.send = [this](std::span<const uint8_t> d) {
      if (ice_) ice_->send(d);
    };
    callbacks.on_state = [this](DtlsTransport::State s, const std::string& reason) { on_dtls_state(s, reason); };
    callbacks.on_data = [this](std::span<const uint8_t> d) {
      last_received_ = Clock::now();  // decrypted and authenticated by DTLS: the peer is there
      if (sctp_) sctp_->incoming(d);
    };
    dtls_ = std::make_unique<DtlsTransport>(config_.certificate, role, fingerprint, callbacks);
  }

  for (const auto& m : remote.media)
    if (m.kind == "application" && !m.rejected() && m.protocol.find("SCTP") != std::string::npos)
      remote_sctp_port_ = static_cast<uint16_t>(m.sctp_port.value_or(5000));

  // Remote SSRCs per m-line help map packets that carry no mid extension.
  for (std::size_t i = 0; i < remote.media.size(); ++i) {
    while (lines_.size() <= i) lines_.push_back(std::make_unique<Line>());
    Line& line = *lines_[i];
    line.mindex = static_cast<int>(i);
    line.mid = remote.media[i].mid;
    line.remote_ssrcs = remote.media[i].media_ssrcs();
    line.remote_rtx_of.clear();
    for (const auto& group : remote.media[i].ssrc_groups)
      if (group.semantics == "FID" && group.ssrcs.size() == 2) line.remote_rtx_of[group.ssrcs[1]] = group.ssrcs[0];
    line.simulcast = media::simulcast_layers(remote.media[i], rids_lowest_first);
  }
  return "";
}

void PeerConnection::set_local_description(const media::SessionDescription& local) {
  for (const auto& m : local.media)
    if (m.kind == "application" && !m.rejected() && m.protocol.find("SCTP") != std::string::npos)
      local_sctp_port_ = static_cast<uint16_t>(m.sctp_port.value_or(5000));
  if (connected_ && !sctp_) start_sctp();  // data added by a renegotiation
  for (std::size_t i = 0; i < local.media.size(); ++i) {
    const media::MediaSection& m = local.media[i];
    while (lines_.size() <= i) lines_.push_back(std::make_unique<Line>());
    Line& line = *lines_[i];
    line.mindex = static_cast<int>(i);
    line.mid = m.mid;
    line.kind = m.kind == "video" ? MediaKind::kVideo : MediaKind::kAudio;
    line.rejected = m.port == 0 && !m.bundle_only;
    line.payload_types.clear();
    line.rtx_to_media.clear();
    line.media_to_rtx.clear();
    for (const media::RtpCodec& codec : m.codecs) {
      line.clock_rates[codec.payload_type] = static_cast<uint32_t>(codec.clock_rate);
      if (auto apt = codec.rtx_apt(); codec.is("rtx") && apt) {
        line.rtx_to_media[codec.payload_type] = *apt;
        line.media_to_rtx[*apt] = codec.payload_type;
      } else {
        line.payload_types.push_back(codec.payload_type);
      }
    }
    if (int id = m.extmap_id(kMidUri); id != 0) mid_extension_id_ = id;
    if (int id = m.extmap_id(kAudioLevelUri); id != 0 && m.kind == "audio") audio_level_extension_id_ = id;
    if (int id = m.extmap_id(kRidUri); id != 0) rid_extension_id_ = id;
    if (int id = m.extmap_id(kRepairedRidUri); id != 0) repaired_rid_extension_id_ = id;
    std::vector<uint32_t> ssrcs = m.media_ssrcs();
    if (media::sends(m.direction) && !line.rejected && !ssrcs.empty()) {
      if (!line.send) line.send = std::make_unique<SendStream>();
      // NACKs for video only; a second of history (what a receiver's jitter buffer still waits
      // for). Payloads go to the worker's shared store: a fan-out keeps them once.
      if (line.kind == MediaKind::kVideo && !line.send->cache)
        line.send->cache.emplace(512, kNackHistory, &worker_.payload_store());
      line.send->ssrc = ssrcs.front();
      for (const auto& group : m.ssrc_groups)
        if (group.semantics == "FID" && group.ssrcs.size() == 2 && group.ssrcs[0] == line.send->ssrc)
          line.send->rtx_ssrc = group.ssrcs[1];
      if (!line.payload_types.empty()) {
        int pt = line.payload_types.front();
        line.send->clock_rate = line.clock_rates[pt];
        auto rtx = line.media_to_rtx.find(pt);
        line.send->rtx_payload_type = rtx == line.media_to_rtx.end() ? -1 : rtx->second;
      }
    }
  }
}

void PeerConnection::fill_transport(media::SessionDescription& local, bool is_offer) const {
  std::vector<std::string> accepted;
  for (auto& m : local.media) {
    if (m.port == 0 && !m.bundle_only) continue;
    accepted.push_back(m.mid);
  }
  local.groups.erase(std::remove_if(local.groups.begin(), local.groups.end(),
                                    [](const auto& g) { return !g.empty() && g.front() == "BUNDLE"; }),
                     local.groups.end());
  if (!accepted.empty()) {
    std::vector<std::string> group{"BUNDLE"};
    group.insert(group.end(), accepted.begin(), accepted.end());
    local.groups.push_back(group);
  }
  std::string setup = is_offer ? "actpass" : (dtls_role_ == DtlsTransport::Role::kServer ? "passive" : "active");
  bool first = true;
  for (auto& m : local.media) {
    if (m.port == 0 && !m.bundle_only) continue;
    m.ice_ufrag = ice_ ? ice_->local_ufrag() : "";
    m.ice_pwd = ice_ ? ice_->local_pwd() : "";
    m.ice_options = {"trickle"};
    m.fingerprint_algorithm = "sha-256";
    m.fingerprint = config_.certificate->fingerprint_sha256();
    m.setup = setup;
    if (m.is_rtp()) m.rtcp_mux = true;
    m.candidates.clear();
    if (first && ice_) m.candidates = ice_->local_candidates();
    m.end_of_candidates = first && gathering_done_;
    if (m.port == 0 || m.port == 9) m.port = 9;
    first = false;
  }
}

void PeerConnection::create_ice(bool controlling) {
  IceTransport::Callbacks callbacks;
  callbacks.on_candidate = [this](const std::string& c) {
    if (events_.local_candidate) events_.local_candidate(c);
  };
  callbacks.on_gathering_done = [this] {
    gathering_done_ = true;
    if (events_.gathering_done) events_.gathering_done();
  };
  callbacks.on_state = [this](IceTransport::State s) { on_ice_state(s); };
  callbacks.on_packet = [this](std::span<const uint8_t> d) { on_ice_packet(d); };
  if (ice_context_.context == nullptr) ice_context_.context = worker_.new_peer_context();
  ice_ = std::make_unique<IceTransport>(ice_context_.context, config_.ice, controlling, callbacks);
}

void PeerConnection::prepare_offer() {
  if (!ice_ && !closed_) {
    create_ice(/*controlling=*/true);
    ice_->gather();
  }
}

void PeerConnection::gather() {
  if (ice_) ice_->gather();
}

void PeerConnection::add_remote_candidate(const std::string& candidate) {
  if (ice_ && !closed_) ice_->add_remote_candidate(candidate);
}

void PeerConnection::remote_candidates_done() {
  if (ice_ && !closed_) ice_->remote_gathering_done();
}

void PeerConnection::on_ice_state(IceTransport::State state) {
  logger()->debug("pc {}: ICE {}", id_, to_string(state));
  if (state == IceTransport::State::kConnected && dtls_ && dtls_->state() == DtlsTransport::State::kNew) {
    dtls_->start();
    schedule_dtls_timer();
  } else if (state == IceTransport::State::kFailed) {
    close("ICE failed");
  }
}

void PeerConnection::on_dtls_state(DtlsTransport::State state, const std::string& reason) {
  if (state == DtlsTransport::State::kConnected && !connected_) {
    const auto& keys = dtls_->srtp_keys();
    if (!keys) {
      close("DTLS finished without SRTP keys");
      return;
    }
    srtp_in_ = SrtpSession::create(keys->profile, keys->remote_key_salt, SrtpSession::Direction::kInbound);
    srtp_out_ = SrtpSession::create(keys->profile, keys->local_key_salt, SrtpSession::Direction::kOutbound);
    if (!srtp_in_ || !srtp_out_) {
      close("SRTP setup failed");
      return;
    }
    connected_ = true;
    logger()->info("pc {}: DTLS connected ({}), SRTP {}", id_,
                   dtls_->role() == DtlsTransport::Role::kClient ? "client" : "server", to_string(keys->profile));
    start_sctp();
    if (events_.connected) events_.connected();
  } else if (state == DtlsTransport::State::kFailed) {
    close("DTLS failed: " + reason);
  } else if (state == DtlsTransport::State::kClosed) {
    close("DTLS alert: " + (reason.empty() ? std::string("close_notify") : reason));
  }
}

void PeerConnection::start_sctp() {
  if (sctp_ || !connected_ || closed_ || !local_sctp_port_ || !remote_sctp_port_) return;
  SctpOptions options;
  options.local_port = *local_sctp_port_;
  options.remote_port = *remote_sctp_port_;
  // The peer's a=max-message-size is not enforced on what we send: aiortc announces 65536 yet
  // takes larger messages, and the plugin decides what it relays. We accept up to our own.
  SctpTransport::Callbacks sctp;
  sctp.send_packet = [this](std::span<const uint8_t> packet) {
    if (dtls_) dtls_->send_data(packet);
  };
  sctp.on_message = [this](uint16_t stream, uint32_t ppid, std::span<const uint8_t> message) {
    if (channels_) channels_->on_sctp_message(stream, ppid, message);
  };
  sctp.on_stream_closed = [this](uint16_t stream) {
    if (channels_) channels_->on_stream_reset(stream);
  };
  sctp.on_closed = [this](const std::string& reason) { logger()->info("pc {}: data channels closed ({})", id_, reason); };
  DataChannels::Callbacks dc;
  dc.send = [this](uint16_t stream, uint32_t ppid, std::span<const uint8_t> data, const SctpSendOptions& o) {
    return sctp_ && sctp_->send(stream, ppid, data, o);
  };
  dc.reset_stream = [this](uint16_t stream) {
    if (sctp_) sctp_->reset_stream(stream);
  };
  dc.on_open = [this](const DataChannels::Channel& channel) {
    logger()->debug("pc {}: data channel '{}' open on stream {}", id_, channel.label, channel.stream);
    if (events_.data_ready) events_.data_ready();
  };
  dc.on_message = [this](const DataChannels::Channel& channel, bool binary, std::span<const uint8_t> data) {
    if (events_.data) events_.data(media::DataMessage{channel.label, channel.protocol, binary, data});
  };
  channels_ = std::make_unique<DataChannels>(dtls_role_ == DtlsTransport::Role::kClient, std::move(dc));
  sctp_ = std::make_unique<SctpTransport>(options, std::move(sctp));
}

bool PeerConnection::send_data(std::string_view label, std::string_view protocol, bool binary,
                               std::span<const uint8_t> data) {
  if (closed_ || !channels_) return false;
  return channels_->send(label, protocol, binary, data);
}

void PeerConnection::schedule_dtls_timer() {
  if (dtls_timer_ != 0) {
    if (GSource* s = g_main_context_find_source_by_id(worker_.context(), dtls_timer_)) g_source_destroy(s);
    dtls_timer_ = 0;
  }
  if (!dtls_ || closed_) return;
  auto next = dtls_->next_timeout();
  if (!next) return;
  dtls_timer_ = add_timeout(std::max(*next, std::chrono::milliseconds(1)), &PeerConnection::tick_dtls);
}

bool PeerConnection::tick_dtls() {
  dtls_timer_ = 0;
  if (dtls_ && !closed_) {
    dtls_->on_timeout();
    schedule_dtls_timer();
  }
  return false;
}

void PeerConnection::on_ice_packet(std::span<const uint8_t> datagram) {
  if (closed_ || datagram.empty()) return;
  // Until DTLS is up anything from the ICE-validated address counts as a sign of life; after,
  // only packets that pass SRTP authentication do, so spoofed datagrams cannot keep a vanished
  // peer's consent alive.
  if (!connected_) last_received_ = Clock::now();
  uint8_t first = datagram[0];
  if (first >= 20 && first <= 63) {  // DTLS (RFC 7983)
    if (dtls_) {
      dtls_->incoming(datagram);
      schedule_dtls_timer();
    }
    return;
  }
  if (first < 128 || first > 191 || datagram.size() < 12 || datagram.size() > rx_.size()) {
    ++counters_.garbage;
    return;
  }
  if (!srtp_in_) {
    ++counters_.srtp_drops;
    return;
  }
  std::memcpy(rx_.data(), datagram.data(), datagram.size());
  uint8_t packet_type = datagram[1];
  if (packet_type >= 192 && packet_type <= 223) on_rtcp(rx_.data(), datagram.size());  // RFC 5761
  else on_rtp(rx_.data(), datagram.size());
}

PeerConnection::RecvStream* PeerConnection::recv_stream_for(const media::RtpPacket& rtp) {
  for (auto& s : recv_)
    if (s->ssrc == rtp.ssrc()) return s.get();
  // A new SSRC: place it by the mid extension, the SDP's ssrc lines, or its payload type.
  int mindex = -1;
  bool rtx = false;
  if (mid_extension_id_ != 0) {
    std::string_view mid = media::read_sdes_string(rtp.extension(static_cast<uint8_t>(mid_extension_id_)));
    for (auto& line : lines_)
      if (!mid.empty() && line->mid == mid) mindex = line->mindex;
  }
  for (auto& line : lines_) {
    if (mindex >= 0) break;
    if (std::find(line->remote_ssrcs.begin(), line->remote_ssrcs.end(), rtp.ssrc()) != line->remote_ssrcs.end() ||
        line->remote_rtx_of.count(rtp.ssrc()) != 0)
      mindex = line->mindex;
  }
  if (mindex < 0) {
    int found = 0;
    for (auto& line : lines_)
      if (!line->rejected && (std::count(line->payload_types.begin(), line->payload_types.end(), rtp.payload_type()) ||
                              line->rtx_to_media.count(rtp.payload_type()))) {
        mindex = line->mindex;
        ++found;
      }
    if (found != 1) return nullptr;
  }
  Line& line = *lines_[static_cast<std::size_t>(mindex)];
  if (line.rejected) return nullptr;
  rtx = line.rtx_to_media.count(rtp.payload_type()) != 0;
  // Simulcast: which layer (media) or which layer's media (rtx) this SSRC is. A layer is named by
  // its SSRC in an SIM group, or by the rid extension of its first packets; a packet of a
  // simulcast line that names no layer cannot be placed yet and is dropped until one does.
  int substream = -1;
  std::string rid;
  uint32_t repairs = 0;
  if (auto fid = line.remote_rtx_of.find(rtp.ssrc()); fid != line.remote_rtx_of.end()) repairs = fid->second;
  if (!line.simulcast.empty()) {
    auto read_rid = [&](int id) {
      return id > 0 ? std::string(media::read_sdes_string(rtp.extension(static_cast<uint8_t>(id)))) : std::string();
    };
    if (rtx) {
      rid = read_rid(repaired_rid_extension_id_);
      if (rid.empty() && repairs == 0) return nullptr;
    } else {
      substream = line.simulcast.substream_of_ssrc(rtp.ssrc());
      if (substream < 0) {
        rid = read_rid(rid_extension_id_);
        substream = line.simulcast.substream_of_rid(rid);
      }
      if (substream < 0) return nullptr;
    }
  }
  uint32_t clock = line.clock_rates.count(rtp.payload_type()) ? line.clock_rates[rtp.payload_type()] : 90000;
  if (recv_.size() >= 16) return nullptr;  // a peer inventing SSRCs gets no more state
  auto stream = std::make_unique<RecvStream>(clock);
  stream->ssrc = rtp.ssrc();
  stream->mindex = mindex;
  stream->rtx = rtx;
  stream->substream = substream;
  stream->rid = std::move(rid);
  stream->repairs = repairs;
  if (line.kind == MediaKind::kVideo && !rtx) {
    stream->nack.emplace(media::NackOptions{});
    ticker().nacking.insert(id_);
  }
  logger()->debug("pc {}: new {} stream ssrc {} on m-line {}", id_, rtx ? "rtx" : "media", rtp.ssrc(), mindex);
  recv_.push_back(std::move(stream));
  return recv_.back().get();
}

void PeerConnection::on_rtp(uint8_t* data, size_t length) {
  size_t plain = srtp_in_->unprotect_rtp(data, length);
  if (plain == 0) {
    ++counters_.srtp_drops;
    return;
  }
  last_received_ = Clock::now();
  auto rtp = media::RtpPacket::parse(std::span<const uint8_t>(data, plain));
  if (!rtp) {
    ++counters_.garbage;
    return;
  }
  RecvStream* stream = recv_stream_for(*rtp);
  if (stream == nullptr) {
    ++counters_.unknown_drops;
    return;
  }
  Line& line = *lines_[static_cast<std::size_t>(stream->mindex)];
  auto now = Clock::now();
  if (stream->rtx) {
    // RFC 4588: the payload starts with the original sequence number; restore the packet.
    auto payload = rtp->payload();
    if (payload.size() < 2) return;  // RTX padding probe
    uint16_t osn = static_cast<uint16_t>(payload[0] << 8 | payload[1]);
    // The stream it repairs: named by an FID group or (simulcast) by its repaired rid; else
    // the m-line's one media stream.
    RecvStream* media_stream = nullptr;
    for (auto& s : recv_) {
      if (s->rtx || s->mindex != stream->mindex) continue;
      if (stream->repairs != 0 ? s->ssrc == stream->repairs : stream->rid.empty() || s->rid == stream->rid)
        media_stream = s.get();
    }
    if (media_stream == nullptr) return;
    size_t header = rtp->header_size();
    size_t payload_len = payload.size() - 2;
    std::memmove(data + header, data + header + 2, payload_len);
    plain = header + payload_len;
    data[0] &= static_cast<uint8_t>(~0x20);  // padding went with the move
    media::rtp_set_sequence(std::span<uint8_t>(data, plain), osn);
    media::rtp_set_payload_type(std::span<uint8_t>(data, plain),
                                static_cast<uint8_t>(line.rtx_to_media[rtp->payload_type()]));
    media::rtp_set_ssrc(std::span<uint8_t>(data, plain), media_stream->ssrc);
    rtp = media::RtpPacket::parse(std::span<const uint8_t>(data, plain));
    if (!rtp) return;
    stream = media_stream;
  }
  ++counters_.rtp_in;
  counters_.bytes_in += plain;
  stream->stats.on_packet(rtp->sequence(), rtp->timestamp(), now);
  if (stream->nack) stream->nack->on_packet(rtp->sequence(), now);
  line.last_packet = now;
  if (!line.receiving) {
    line.receiving = true;
    if (events_.media_state) events_.media_state(line.mindex, line.kind, true);
  }
  if (events_.rtp)
    events_.rtp(media::IncomingRtp{line.mindex, line.kind, *rtp, std::span<uint8_t>(data, plain), stream->substream});
}

bool PeerConnection::send_rtp(int mindex, std::span<const uint8_t> packet, std::optional<uint8_t> audio_level) {
  if (!connected_ || closed_ || mindex < 0 || static_cast<std::size_t>(mindex) >= lines_.size()) return false;
  Line& line = *lines_[static_cast<std::size_t>(mindex)];
  if (!line.send || packet.size() + kSrtpHeadroom > tx_.size()) return false;
  SendStream& stream = *line.send;
  auto source = media::RtpPacket::parse(packet);
  if (!source) return false;
  // The header extensions of the packet belong to whoever sent it (their ids, their meaning);
  // ours are rebuilt here, one-byte form (RFC 8285), with the ids negotiated with this peer.
  size_t fixed = 12 + size_t{source->csrc_count()} * 4;
  std::memcpy(tx_.data(), packet.data(), fixed);
  tx_[0] &= static_cast<uint8_t>(~0x30);  // no extension, no padding (yet)
  size_t length = fixed;
  const bool with_mid = mid_extension_id_ > 0 && mid_extension_id_ < 15 && !line.mid.empty() && line.mid.size() <= 16;
  const bool with_level = audio_level && line.kind == MediaKind::kAudio && audio_level_extension_id_ > 0 &&
                          audio_level_extension_id_ < 15;
  if (with_mid || with_level) {
    size_t bytes = (with_mid ? 1 + line.mid.size() : 0) + (with_level ? 2 : 0);
    size_t words = (bytes + 3) / 4;
    tx_[0] |= 0x10;
    tx_[length++] = 0xBE;
    tx_[length++] = 0xDE;
    tx_[length++] = static_cast<uint8_t>(words >> 8);
    tx_[length++] = static_cast<uint8_t>(words);
    size_t start = length;
    if (with_mid) {
      tx_[length++] = static_cast<uint8_t>(mid_extension_id_ << 4 | (line.mid.size() - 1));
      std::memcpy(tx_.data() + length, line.mid.data(), line.mid.size());
      length += line.mid.size();
    }
    if (with_level) {
      tx_[length++] = static_cast<uint8_t>(audio_level_extension_id_ << 4);  // one byte of data
      tx_[length++] = *audio_level;
    }
    while (length < start + words * 4) tx_[length++] = 0;
  }
  auto payload = source->payload();
  if (length + payload.size() + kSrtpHeadroom > tx_.size()) return false;
  std::memcpy(tx_.data() + length, payload.data(), payload.size());
  // The header and the start of the payload (a descriptor a forwarder may rewrite per
  // subscriber) are this peer's own; the rest is what every subscriber of the source gets.
  const size_t own = length + kOwnPayloadPrefix;
  length += payload.size();
  std::span<uint8_t> plain(tx_.data(), length);
  media::rtp_set_ssrc(plain, stream.ssrc);
  auto now = Clock::now();
  if (stream.cache) stream.cache->store(plain, source->sequence(), now, own);
  stream.packets++;
  stream.octets += payload.size();
  stream.last_timestamp = source->timestamp();
  stream.last_sent = now;
  size_t protected_length = srtp_out_->protect_rtp(tx_.data(), length, tx_.size());
  if (protected_length == 0) return false;
  ++counters_.rtp_out;
  counters_.bytes_out += protected_length;
  bool sent = ice_->send(std::span<const uint8_t>(tx_.data(), protected_length));
  if (auto arrived = ForwardingLatency::current_datagram(); arrived != Clock::time_point{})
    worker_.forwarding_latency().record(Clock::now() - arrived);
  return sent;
}

void PeerConnection::retransmit(SendStream& stream, uint16_t seq) {
  if (!stream.cache) return;
  const bool rtx = stream.rtx_payload_type >= 0 && stream.rtx_ssrc != 0;
  // RTX: two bytes of room in front, where the header moves to make room for the original
  // sequence number.
  const size_t room = rtx ? 2 : 0;
  size_t length =
      stream.cache->find(seq, Clock::now(), std::span<uint8_t>(tx_).subspan(room, tx_.size() - room - kSrtpHeadroom));
  if (length == 0) return;
  if (rtx) {
    // RFC 4588: original sequence number first, then the original payload, on the RTX SSRC.
    // What we store never has padding (send_rtp drops it), so the payload runs to the end.
    auto original = media::RtpPacket::parse(std::span<const uint8_t>(tx_.data() + 2, length));
    if (!original) return;
    size_t header = original->header_size();
    std::memmove(tx_.data(), tx_.data() + 2, header);
    tx_[header] = static_cast<uint8_t>(seq >> 8);
    tx_[header + 1] = static_cast<uint8_t>(seq);
    length += 2;
    tx_[0] &= static_cast<uint8_t>(~0x20);
    std::span<uint8_t> out(tx_.data(), length);
    media::rtp_set_payload_type(out, static_cast<uint8_t>(stream.rtx_payload_type));
    media::rtp_set_ssrc(out, stream.rtx_ssrc);
    media::rtp_set_sequence(out, stream.rtx_sequence++);
  }
  size_t protected_length = srtp_out_->protect_rtp(tx_.data(), length, tx_.size());
  if (protected_length == 0) return;
  ++counters_.retransmits;
  ice_->send(std::span<const uint8_t>(tx_.data(), protected_length));
}

void PeerConnection::send_rtcp(uint8_t* data, size_t length) {
  if (!connected_ || closed_ || !srtp_out_) return;
  size_t protected_length = srtp_out_->protect_rtcp(data, length, tx_.size());
  if (protected_length == 0) return;
  ++counters_.rtcp_out;
  ice_->send(std::span<const uint8_t>(data, protected_length));
}

void PeerConnection::request_keyframe(int mindex) {
  for (auto& s : recv_)
    if (!s->rtx && s->mindex == mindex) {
      size_t n = media::build_pli(std::span<uint8_t>(tx_.data(), tx_.size() - kSrtpHeadroom), rtcp_ssrc_, s->ssrc);
      if (n != 0) {
        ++counters_.plis_out;
        send_rtcp(tx_.data(), n);
      }
    }
}

void PeerConnection::send_remb(uint64_t bitrate_bps) {
  std::vector<uint32_t> ssrcs;
  for (auto& s : recv_)
    if (!s->rtx) ssrcs.push_back(s->ssrc);
  if (ssrcs.empty()) return;
  size_t n = media::build_remb(std::span<uint8_t>(tx_.data(), tx_.size() - kSrtpHeadroom), rtcp_ssrc_, bitrate_bps, ssrcs);
  if (n != 0) send_rtcp(tx_.data(), n);
}

void PeerConnection::close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  const Counters& c = counters_;
  logger()->info("pc {}: closed ({}); rtp in {} out {}, rtcp in {} out {}, dropped: srtp {} unknown-ssrc {} "
                 "garbage {}; nacks in {} out {}, retransmitted {}, plis in {} out {}",
                 id_, reason, c.rtp_in, c.rtp_out, c.rtcp_in, c.rtcp_out, c.srtp_drops, c.unknown_drops, c.garbage,
                 c.nacks_in, c.nacks_out, c.retransmits, c.plis_in, c.plis_out);
  if (dtls_ && connected_) dtls_->close();
  if (events_.closed) events_.closed(reason);
}

void PeerConnection::tick_reports() {
  if (closed_) return;
  send_reports();
  check_slowlink();
}

void PeerConnection::check_slowlink() {
  int threshold = config_.slowlink_threshold;
  for (auto& s : recv_) {
    if (s->rtx) continue;
    int64_t lost = s->stats.packets_lost();
    int64_t delta = lost - s->lost_at_last_check;
    s->lost_at_last_check = lost;
    if (threshold > 0 && delta > threshold && events_.slowlink) {
      const Line& line = *lines_[static_cast<std::size_t>(s->mindex)];
      events_.slowlink(line.mindex, line.kind, /*uplink=*/true, static_cast<uint32_t>(delta));
    }
  }
  for (auto& line : lines_) {
    if (!line->send) continue;
    uint32_t nacked = std::exchange(line->send->nacked_this_second, 0);
    if (threshold > 0 && nacked > static_cast<uint32_t>(threshold) && events_.slowlink)
      events_.slowlink(line->mindex, line->kind, /*uplink=*/false, nacked);
  }
}

void PeerConnection::check_timers(Clock::time_point now) {
  if (now - last_received_ > config_.consent_timeout) {
    close("ICE consent lost: nothing from the peer for " + std::to_string(config_.consent_timeout.count()) + " s");
    return;
  }
  for (auto& line : lines_)
    if (line->receiving && now - line->last_packet > config_.no_media_timeout) {
      line->receiving = false;
      if (events_.media_state) events_.media_state(line->mindex, line->kind, false);
    }
}

void PeerConnection::on_rtcp(uint8_t* data, size_t length) {
  size_t plain = srtp_in_->unprotect_rtcp(data, length);
  if (plain == 0) {
    ++counters_.srtp_drops;
    return;
  }
  last_received_ = Clock::now();
  auto compound = media::RtcpCompound::parse(std::span<const uint8_t>(data, plain));
  if (!compound) {
    ++counters_.garbage;
    return;
  }
  ++counters_.rtcp_in;
  auto now = Clock::now();
  auto send_stream_for = [this](uint32_t ssrc) -> Line* {
    for (auto& line : lines_)
      if (line->send && (line->send->ssrc == ssrc || line->send->rtx_ssrc == ssrc)) return line.get();
    return nullptr;
  };
  auto take_rtt = [&](const media::ReportBlock& block) {
    if (send_stream_for(block.ssrc) == nullptr) return;
    if (auto rtt = media::rtt_from_report(media::ntp_mid32(ntp_clock_.ntp(now)), block.lsr, block.dlsr)) rtt_ = *rtt;
  };
  for (const media::RtcpHeader& h : *compound) {
    switch (h.packet_type) {
      case media::kRtcpSr:
        if (auto sr = media::parse_sr(h)) {
          for (auto& s : recv_)
            if (s->ssrc == sr->ssrc) s->stats.on_sender_report(sr->ntp, now);
          for (const auto& block : sr->report_blocks()) take_rtt(block);
        }
        break;
      case media::kRtcpRr:
        if (auto rr = media::parse_rr(h))
          for (const auto& block : rr->report_blocks()) take_rtt(block);
        break;
      case media::kRtcpRtpfb:
        if (h.count_or_format == media::kRtpfbNack)
          if (auto nack = media::parse_nack(h))
            if (Line* line = send_stream_for(nack->media_ssrc)) {
              ++counters_.nacks_in;
              nack->for_each_lost([&](uint16_t seq) {
                ++line->send->nacked_this_second;
                retransmit(*line->send, seq);
              });
            }
        break;
      case media::kRtcpPsfb:
        if (h.count_or_format == media::kPsfbPli) {
          if (auto pli = media::parse_pli(h))
            if (Line* line = send_stream_for(pli->media_ssrc)) {
              ++counters_.plis_in;
              if (events_.keyframe_request) events_.keyframe_request(line->mindex);
            }
        } else if (h.count_or_format == media::kPsfbFir) {
          if (auto fir = media::parse_fir(h))
            for (size_t i = 0; i < fir->entry_count(); ++i)
              if (Line* line = send_stream_for(fir->entry(i).ssrc)) {
                ++counters_.plis_in;
                if (events_.keyframe_request) events_.keyframe_request(line->mindex);
              }
        } else if (h.count_or_format == media::kPsfbAfb) {
          if (auto remb = media::parse_remb(h))
            if (events_.remb) events_.remb(remb->bitrate_bps);
        }
        break;
      default: break;  // SDES, BYE, XR, TWCC feedback: nothing to do yet
    }
  }
}

void PeerConnection::send_reports() {
  if (!connected_ || closed_) return;
  auto now = Clock::now();
  uint64_t ntp = ntp_clock_.ntp(now);
  std::span<uint8_t> out(tx_.data(), tx_.size() - kSrtpHeadroom);
  size_t used = 0;
  // Report blocks for everything we receive go with the first report.
  media::ReceiverReport rr;
  for (auto& s : recv_)
    if (!s->rtx && s->stats.packets_received() > 0) rr.add(s->stats.make_report_block(s->ssrc, now));
  bool blocks_sent = false;
  for (auto& line : lines_) {
    if (!line->send || line->send->packets == 0) continue;
    SendStream& stream = *line->send;
    media::SenderReport sr;
    sr.ssrc = stream.ssrc;
    sr.ntp = ntp;
    // The RTP time now: the last packet's timestamp moved on by the time since it left.
    auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(now - stream.last_sent).count();
    sr.rtp_timestamp = stream.last_timestamp +
                       static_cast<uint32_t>(static_cast<uint64_t>(elapsed) * stream.clock_rate / 1000000);
    sr.packet_count = static_cast<uint32_t>(stream.packets);
    sr.octet_count = static_cast<uint32_t>(stream.octets);
    if (!blocks_sent)
      for (const auto& block : rr.report_blocks()) sr.add(block);
    blocks_sent = true;
    size_t n = media::build_sr(out.subspan(used), sr);
    if (n == 0) break;
    used += n;
  }
  if (!blocks_sent) {
    rr.ssrc = rtcp_ssrc_;
    used += media::build_rr(out.subspan(used), rr);
  }
  uint32_t sdes_ssrc = rtcp_ssrc_;
  for (auto& line : lines_)
    if (line->send && line->send->packets > 0) {
      sdes_ssrc = line->send->ssrc;
      break;
    }
  used += media::build_sdes_cname(out.subspan(used), sdes_ssrc, cname_);
  if (used > 0) send_rtcp(tx_.data(), used);
}

void PeerConnection::send_nacks(Clock::time_point now) {
  std::array<uint16_t, 64> lost{};
  auto rtt = std::chrono::duration_cast<std::chrono::milliseconds>(rtt_);
  for (auto& s : recv_) {
    if (!s->nack) continue;
    size_t count = s->nack->due(now, rtt, lost);
    if (count == 0) continue;
    size_t n = media::build_nack(std::span<uint8_t>(tx_.data(), tx_.size() - kSrtpHeadroom), rtcp_ssrc_, s->ssrc,
                                 std::span<const uint16_t>(lost.data(), count));
    if (n == 0) continue;
    ++counters_.nacks_out;
    send_rtcp(tx_.data(), n);
  }
}

nlohmann::json PeerConnection::data_stats() const {
  if (!sctp_ || !channels_) return nullptr;
  const auto& s = sctp_->counters();
  const auto& c = channels_->counters();
  nlohmann::json labels = nlohmann::json::array();
  for (const auto& [stream, channel] : channels_->channels()) labels.push_back({{"stream", stream}, {"label", channel.label}});
  return {{"connected", sctp_->connected()}, {"channels", labels},
          {"messages_in", c.messages_in}, {"messages_out", c.messages_out},
          {"bytes_in", c.bytes_in}, {"bytes_out", c.bytes_out},
          {"invalid_dcep", c.invalid_dcep}, {"no_channel", c.no_channel},
          {"oversized", s.oversized}, {"send_dropped", s.send_dropped}, {"queued_bytes", sctp_->queued_bytes()}};
}

nlohmann::json PeerConnection::stats() const {
  nlohmann::json streams = nlohmann::json::array();
  for (auto& s : recv_) {
    if (s->rtx) continue;
    streams.push_back({{"direction", "in"},
                       {"ssrc", s->ssrc},
                       {"mindex", s->mindex},
                       {"packets", s->stats.packets_received()},
                       {"lost", s->stats.packets_lost()},
                       {"jitter", s->stats.jitter()}});
  }
  for (auto& line : lines_)
    if (line->send)
      streams.push_back({{"direction", "out"},
                         {"ssrc", line->send->ssrc},
                         {"mindex", line->mindex},
                         {"packets", line->send->packets},
                         {"bytes", line->send->octets}});
  return {{"ice", {{"state", ice_ ? std::string(to_string(ice_->state())) : "new"},
                   {"selected_pair", ice_ ? ice_->selected_pair() : ""},
                   {"local_candidates", ice_ ? ice_->local_candidates() : std::vector<std::string>{}},
                   {"remote_candidates", ice_ ? ice_->remote_candidates() : std::vector<std::string>{}}}},
          {"dtls", {{"connected", connected_},
                    {"role", !dtls_role_ ? "" : *dtls_role_ == DtlsTransport::Role::kClient ? "client" : "server"},
                    {"srtp_profile", dtls_ && dtls_->srtp_keys() ? std::string(to_string(dtls_->srtp_keys()->profile)) : ""}}},
          {"rtt_ms", rtt_.count() / 1000.0},
          {"data", data_stats()},
          {"streams", streams},
          {"counters", {{"rtp_in", counters_.rtp_in}, {"rtp_out", counters_.rtp_out},
                        {"bytes_in", counters_.bytes_in}, {"bytes_out", counters_.bytes_out},
                        {"rtcp_in", counters_.rtcp_in}, {"rtcp_out", counters_.rtcp_out},
                        {"srtp_drops", counters_.srtp_drops}, {"unknown_ssrc_drops", counters_.unknown_drops},
                        {"garbage", counters_.garbage}, {"nacks_in", counters_.nacks_in},
                        {"nacks_out", counters_.nacks_out}, {"retransmits", counters_.retransmits},
                        {"plis_in", counters_.plis_in}, {"plis_out", counters_.plis_out}}}};
}

}  // namespace junction::transports
