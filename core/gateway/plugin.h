#pragma once
// ============================================================================================
//  Writing a Junction plugin
// ============================================================================================
//
// A plugin decides what happens to the media and messages of the handles attached to it: the
// echo test sends everything back, a video room forwards it to other participants, a mixer
// decodes and mixes it. The gateway does the rest: it speaks the JSON API to clients, keeps
// sessions and handles, terminates WebRTC, and calls the plugin at the moments listed below.
//
// A plugin is a shared library (`libjunction_plugin_<name>.so`) in the plugins folder. It
// exports exactly one C symbol, made by the JUNCTION_PLUGIN(ClassName) macro at the end of this
// file. At start the gateway opens every library in the folder, reads the ABI version from the
// descriptor the symbol returns, and only if it equals kAbiVersion creates the plugin object. A
// library built against another version of this header is skipped with a log line; the server
// keeps running without it.
//
// The life of a plugin:
//
//   init(services, settings)      once, before any client can reach it; `settings` is the object
//                                 under "plugins" -> "<package>" in the server config ({} if none).
//                                 Throw std::exception to refuse to start: the gateway logs the
//                                 reason and does not offer the plugin.
//   create_session(handle)        a client attached a handle to this plugin (`attach`).
//   handle_message(handle, ...)   a client sent `message` with a `body` (and maybe a `jsep`).
//   destroy_session(handle)       the handle is going away (`detach`, session destroyed,
//                                 session timeout, connection closed, server shutting down).
//   query_session(handle)         the admin API asks about a handle (`handle_info`).
//   handle_admin_message(request) the admin API sends the plugin a request (`message_plugin`).
//   metrics()                     the admin listener's /metrics is scraped: the plugin's own
//                                 gauges and counters (rooms, participants, ...).
//   shutdown()                    once, at the end; no call follows.
//
// Threads: every call above is made on the gateway's control loop, one at a time, so plugin
// control state needs no locking against the gateway. The control loop must never block: a
// plugin with slow work hands it to its own thread and answers later with push_event().
//
// Answering a message. handle_message() returns a MessageResult:
//   - MessageResult::ok(data)   a synchronous answer: the client gets `success` carrying
//                               `plugindata: {plugin: <package>, data: <data>}` right away.
//   - MessageResult::ack(hint)  an asynchronous answer: the client gets `ack` now, and the plugin
//                               later calls push_event(handle, transaction, data, jsep) with the
//                               same transaction; the client then gets an `event`.
//   - MessageResult::error(why) the gateway answers with API error 462 and the reason.
// Errors that belong to the plugin's own protocol (a room that does not exist, ...) are not API
// errors: they travel as ordinary data, e.g. {"echotest":"event","error_code":413,"error":"..."}.
//
// Handles are plain numbers (HandleId). A plugin may keep one after the handle is gone: every
// service below ignores a handle that no longer exists, so there is no dangling reference.
//
// Media. When a client sends an offer (or answers the plugin's offer), the gateway checks the
// SDP, sets up ICE and DTLS, and passes the jsep to handle_message(). The plugin decides what to
// send and receive and answers with a jsep of its own (media::make_answer() in
// core/media/sdp_answer.h builds one); the gateway adds the transport's attributes (ICE
// credentials, candidates, fingerprint) before the client sees it. Then:
//   setup_media(handle)          control loop: the PeerConnection is up (DTLS done, `webrtcup`).
//   incoming_rtp(handle, p)      MEDIA WORKER: one plain RTP packet from the peer. The bytes may
//                                be rewritten in place and relayed with relay_rtp().
//   incoming_keyframe_request    MEDIA WORKER: the peer asked for a keyframe (PLI/FIR) on a
//                                stream we send it.
//   incoming_remb                MEDIA WORKER: the peer's receive bandwidth estimate.
//   hangup_media(handle)         control loop: the PeerConnection is gone (hangup, ICE or DTLS
//                                failure, consent lost, detach). A new offer may follow.
// Media calls happen on the handle's media worker thread, never on the control loop, and must
// not block. Every handle whose media_affinity() returns the same key shares one worker, so a
// plugin can keep the forwarding state of a room without locks; relay_rtp() and the other media
// services must be called from that worker.
//
// Data channels. When the offer or answer carries an m=application line (the plugin accepts it
// with AnswerOptions::accept_data, or offers one itself), the PeerConnection runs SCTP over DTLS
// and the peer's data channels reach the plugin:
//   data_ready(handle)           MEDIA WORKER: a data channel opened (by the peer, or by us for
//                                relay_data()); messages can flow. Once per channel.
//   incoming_data(handle, m)     MEDIA WORKER: one whole message from the peer: the label and
//                                sub-protocol of its channel, binary or text (UTF-8), the bytes
//                                (valid during the call only). Messages of one channel arrive in
//                                order (for ordered channels), up to 256 KiB each.
// and the plugin answers with relay_data(handle, m), which sends on the channel with that label
// ("" = the first channel the peer opened), opening one with that label if there is none.
// relay_data() is THREAD-SAFE, unlike the other media services (relay_rtp_batch() below is too):
// a text room relays from one participant's worker to others on other workers. From the handle's
// own worker it sends at once; from anywhere else the message is copied and sent on that worker,
// in call order.
//
// Media from a thread of the plugin's own. A mixer (an audio conference, a video compositor)
// produces packets on its own timer thread, which is no media worker: it cannot call relay_rtp().
// relay_rtp_batch() may be called from any thread (as relay_data() may): it copies a batch of
// packets (say, one mixing tick for every participant) and relays each on its handle's
// media worker, as relay_rtp() would there. Batch a whole tick in one call: the gateway hands the
// batch over with one post per media worker involved, not one per packet.

#include <nlohmann/json.hpp>

#include "core/media/data_message.h"
#include "core/media/media_packet.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace junction::plugin {

// Bumped on any change to this file that alters the layout or meaning of what crosses it.
inline constexpr int kAbiVersion = 8;

using json = nlohmann::json;
using HandleId = uint64_t;
using TimerId = uint64_t;

// How the plugin describes itself; `package` is what clients name in `attach`
// ("janus.plugin.echotest"), the rest shows up in `info`.
struct Info {
  std::string package;
  std::string name;
  std::string description;
  std::string author;
  std::string version_string;
  int version = 0;
};

struct MessageResult {
  enum class Kind { kOk, kAck, kError };
  Kind kind = Kind::kAck;
  json data;          // kOk: the synchronous answer
  std::string text;   // kAck: optional hint shown to the client; kError: the reason

  static MessageResult ok(json data) { return {Kind::kOk, std::move(data), {}}; }
  static MessageResult ack(std::string hint = {}) { return {Kind::kAck, nullptr, std::move(hint)}; }
  static MessageResult error(std::string reason) { return {Kind::kError, nullptr, std::move(reason)}; }
};

// One of the plugin's numbers on /metrics. It is exposed as `junction_plugin_<name>` with the
// label plugin="<package>"; plugins that report the same name share one metric family (and the
// first one's help text). `name` must match [a-z_][a-z0-9_]*, counters end in `_total` and never
// go down.
struct Metric {
  enum class Kind { kGauge, kCounter };
  std::string name;
  std::string help;
  Kind kind = Kind::kGauge;
  double value = 0;
};

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError };

// One packet of a relay_rtp_batch(): a plain RTP packet for `handle`'s peer on m-line `mindex`.
struct OutgoingRtp {
  HandleId handle;
  int mindex;
  std::span<const uint8_t> packet;
};

// What the gateway offers a plugin.
class Services {
 public:
  // Sends an `event` to the client that owns `handle`: `data` becomes plugindata.data, a
  // non-empty `transaction` ties it to the request it answers, a non-null `jsep` ({type, sdp})
  // goes along. Thread-safe: may be called from any thread; events from one thread keep their order.
  virtual void push_event(HandleId handle, std::string_view transaction, json data,
                          json jsep = nullptr) = 0;

  // Asks the gateway to detach `handle` (the client gets `detached`). Thread-safe.
  virtual void end_session(HandleId handle) = 0;

  // A timer on the control loop. `callback` runs there; with `repeat` it runs every `delay`
  // until cancelled. Control loop only.
  virtual TimerId start_timer(std::chrono::milliseconds delay, bool repeat,
                              std::function<void()> callback) = 0;
  virtual void cancel_timer(TimerId timer) = 0;

  // A log line under the tag "plugin" (start the message with the plugin name), subject to the
  // server's log level.
  // Thread-safe.
  virtual void log(LogLevel level, std::string_view message) = 0;
  virtual bool log_enabled(LogLevel level) const = 0;

  // The folder for the plugin's files that must survive a restart (config key `state_dir`).
  // Write them atomically (a temporary file, fsync, rename): the process may die at any moment.
  virtual std::string state_dir() const = 0;

  // --- media; call these on the handle's media worker (from a media callback) ---
  // Sends one plain RTP packet to the handle's peer on m-line `mindex` (SSRC rewritten to ours).
  virtual void relay_rtp(HandleId handle, int mindex, std::span<const uint8_t> packet) = 0;
  // Asks the handle's peer for a keyframe of what it sends on `mindex` (PLI).
  virtual void send_keyframe_request(HandleId handle, int mindex) = 0;
  // Caps what the handle's peer sends us (REMB), in bits per second.
  virtual void send_remb(HandleId handle, uint64_t bitrate_bps) = 0;

  // --- media from any thread (ABI 7; see "Media from a thread of the plugin's own" above) ---
  // Relays every packet as relay_rtp() would, each on its handle's media worker, in order per
  // handle. The bytes are copied before the call returns. Packets for a handle without a
  // PeerConnection (not negotiated yet, gone) are dropped. Thread-safe; never blocks on media.
  virtual void relay_rtp_batch(std::span<const OutgoingRtp> packets) = 0;

  // Tears down the handle's PeerConnection (the client gets `hangup`). Thread-safe.
  virtual void close_pc(HandleId handle) = 0;

  // --- data channels (see the top of this file) ---
  // Sends one message on the handle's data channel labelled message.label. Thread-safe.
  virtual void relay_data(HandleId handle, const media::DataMessage& message) = 0;

 protected:
  ~Services() = default;
};

class Plugin {
 public:
  virtual ~Plugin() = default;

  virtual Info info() const = 0;
  virtual void init(Services& services, const json& settings) = 0;
  virtual void shutdown() = 0;

  // Throw std::exception to refuse the attach: the client gets error 461 with its what().
  virtual void create_session(HandleId handle) = 0;
  // `body` is always a JSON object; `jsep` is null or {type: "offer"|"answer", sdp: "v=..."}.
  virtual MessageResult handle_message(HandleId handle, const std::string& transaction,
                                       const json& body, const json& jsep) = 0;
  virtual void destroy_session(HandleId handle) = 0;

  // What the admin API shows about this handle (any JSON object).
  virtual json query_session(HandleId handle) = 0;

  // An admin API `message_plugin` request: `request` is the JSON the operator sent (any value).
  // Runs on the control loop and answers synchronously; the returned JSON is the reply's
  // `response`. Plugins that take admin requests (listing rooms, ...) override this.
  virtual json handle_admin_message(const json& /*request*/) {
    return {{"error_code", 499}, {"error", "this plugin takes no admin requests"}};
  }

  // The plugin's numbers for /metrics (control loop; keep it cheap, it runs on every scrape).
  virtual std::vector<Metric> metrics() { return {}; }

  // --- media (see the top of this file) ---
  // The key that picks the handle's media worker: handles that exchange media share a key
  // (e.g. the room id). Called on the control loop before the PeerConnection is made.
  virtual uint64_t media_affinity(HandleId handle) { return handle; }
  // The same, for the PeerConnection of an offer that arrives with the message `body` (before the
  // plugin has seen the message): a `join` with an offer is placed by the room it names.
  virtual uint64_t media_affinity_for(HandleId handle, const json& /*body*/) { return media_affinity(handle); }
  virtual void setup_media(HandleId /*handle*/) {}
  virtual void hangup_media(HandleId /*handle*/) {}
  virtual void incoming_rtp(HandleId /*handle*/, const media::IncomingRtp& /*packet*/) {}
  virtual void incoming_keyframe_request(HandleId /*handle*/, int /*mindex*/) {}
  virtual void incoming_remb(HandleId /*handle*/, uint64_t /*bitrate_bps*/) {}

  // --- data channels (see the top of this file) ---
  virtual void data_ready(HandleId /*handle*/) {}
  virtual void incoming_data(HandleId /*handle*/, const media::DataMessage& /*message*/) {}
};

// The one thing the library exports. Its layout never changes, whatever the ABI version, so that
// the gateway can always read abi_version before it trusts anything else.
struct Descriptor {
  int abi_version;
  Plugin* (*create)();
};

inline constexpr const char* kDescriptorSymbol = "junction_plugin_descriptor";

}  // namespace junction::plugin

// Put JUNCTION_PLUGIN(MyPlugin) once in the plugin's .cpp file.
#define JUNCTION_PLUGIN(ClassName)                                                         \
  extern "C" __attribute__((visibility("default"))) const junction::plugin::Descriptor*    \
  junction_plugin_descriptor() {                                                           \
    static const junction::plugin::Descriptor descriptor{                                  \
        junction::plugin::kAbiVersion, []() -> junction::plugin::Plugin* { return new ClassName(); }}; \
    return &descriptor;                                                                    \
  }
