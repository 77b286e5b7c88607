// janus.plugin.echotest: sends a peer's own audio, video and data back to it. This is the
// control part (the Janus request body and its answers); the media loop joins with the WebRTC
// transport.
#include <map>
#include <mutex>
#include <string>

#include "core/gateway/plugin.h"

namespace {

using junction::plugin::HandleId;
using junction::plugin::json;
using junction::plugin::MessageResult;

// EchoTest's own error codes (Janus's janus_echotest.c).
constexpr int kErrorInvalidElement = 413;

struct EchoSettings {
  bool audio = true;
  bool video = true;
  int64_t bitrate = 0;  // 0: no cap
  std::string audiocodec, videocodec, videoprofile;
  bool record = false;
  std::string filename;
  int substream = -1, temporal = -1, spatial_layer = -1, temporal_layer = -1;
};

json to_json(const EchoSettings& s) {
  return {{"audio_active", s.audio}, {"video_active", s.video}, {"bitrate", s.bitrate},
          {"audiocodec", s.audiocodec}, {"videocodec", s.videocodec}, {"videoprofile", s.videoprofile},
          {"recording", s.record}, {"substream", s.substream}, {"temporal", s.temporal},
          {"spatial_layer", s.spatial_layer}, {"temporal_layer", s.temporal_layer}};
}

class EchoTest final : public junction::plugin::Plugin {
 public:
  junction::plugin::Info info() const override {
    return {"janus.plugin.echotest", "Junction EchoTest plugin",
            "Sends a peer's own media back to it (Janus EchoTest compatible).", "The Junction authors",
            "0.1.0", 100};
  }

  void init(junction::plugin::Services& services, const json& /*settings*/) override { services_ = &services; }
  void shutdown() override { sessions_.clear(); }

  void create_session(HandleId handle) override { sessions_[handle] = EchoSettings{}; }
  void destroy_session(HandleId handle) override { sessions_.erase(handle); }

  json query_session(HandleId handle) override {
    auto it = sessions_.find(handle);
    return it == sessions_.end() ? json::object() : to_json(it->second);
  }

  MessageResult handle_message(HandleId handle, const std::string& transaction, const json& body,
                               const json& /*jsep*/) override {
    auto it = sessions_.find(handle);
    if (it == sessions_.end()) return MessageResult::error("No session for this handle");
    // Validate every field before changing anything, so a bad request changes nothing.
    EchoSettings next = it->second;
    std::string error = apply(body, next);
    json answer = {{"echotest", "event"}};
    if (!error.empty()) {
      answer["error_code"] = kErrorInvalidElement;
      answer["error"] = error;
    } else {
      it->second = next;
      answer["result"] = "ok";
    }
    // Janus answers asynchronously: `ack` now, then the event with the same transaction.
    services_->push_event(handle, transaction, std::move(answer));
    return MessageResult::ack();
  }

 private:
  static std::string apply(const json& body, EchoSettings& s) {
    auto flag = [&](const char* key, bool& out) -> std::string {
      auto v = body.find(key);
      if (v == body.end()) return {};
      if (!v->is_boolean()) return std::string("Invalid element type (") + key + " should be a boolean)";
      out = v->get<bool>();
      return {};
    };
    auto text = [&](const char* key, std::string& out) -> std::string {
      auto v = body.find(key);
      if (v == body.end()) return {};
      if (!v->is_string()) return std::string("Invalid element type (") + key + " should be a string)";
      out = v->get<std::string>();
      return {};
    };
    auto number = [&](const char* key, auto& out, int64_t max) -> std::string {
      auto v = body.find(key);
      if (v == body.end()) return {};
      if (!v->is_number_integer() || v->get<int64_t>() < 0 || v->get<int64_t>() > max)
        return std::string("Invalid element type (") + key + " should be a positive integer)";
      out = static_cast<std::remove_reference_t<decltype(out)>>(v->get<int64_t>());
      return {};
    };
    for (const std::string& e :
         {flag("audio", s.audio), flag("video", s.video), number("bitrate", s.bitrate, int64_t{1} << 40),
          text("audiocodec", s.audiocodec), text("videocodec", s.videocodec),
          text("videoprofile", s.videoprofile), flag("record", s.record), text("filename", s.filename),
          number("substream", s.substream, 2), number("temporal", s.temporal, 2),
          number("spatial_layer", s.spatial_layer, 2), number("temporal_layer", s.temporal_layer, 2)})
      if (!e.empty()) return e;
    return {};
  }

  junction::plugin::Services* services_ = nullptr;
  std::map<HandleId, EchoSettings> sessions_;  // control loop only
};

}  // namespace

JUNCTION_PLUGIN(EchoTest)
