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
// Media (RTP, RTCP, data channels) joins this interface with the WebRTC transport; this version
// covers the control plane.

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace junction::plugin {

// Bumped on any change to this file that alters the layout or meaning of what crosses it.
inline constexpr int kAbiVersion = 1;

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

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError };

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
