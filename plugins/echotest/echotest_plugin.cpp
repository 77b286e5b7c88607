// janus.plugin.echotest: sends a peer's own audio and video back to it, as Janus's EchoTest
// does: audio and video can be switched off, a bitrate cap goes to the sender as REMB, and
// keyframe requests from the receiving side are passed to the sending side. Data channel
// messages come back on their channel: binary ones byte for byte, text ones inside a reply that
// quotes them (as Janus's EchoTest answers).
#include "plugins/common/random_ids.h"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <unordered_map>

#include "core/gateway/plugin.h"
#include "core/media/sdp.h"
#include "core/media/sdp_answer.h"

namespace {

using junction::plugin::HandleId;
using junction::plugin::json;
using junction::plugin::MessageResult;

// EchoTest's own error codes (Janus's janus_echotest.c).
constexpr int kErrorInvalidElement = 413;
constexpr int kErrorInvalidSdp = 414;

struct EchoSettings {
  bool audio = true;
  bool video = true;
  int64_t bitrate = 0;  // 0: no cap
  std::string audiocodec, videocodec, videoprofile;
  bool record = false;
  std::string filename;
  int substream = -1, temporal = -1, spatial_layer = -1, temporal_layer = -1;
};

// What the media worker reads for each packet: written on the control loop, read lock-free.
struct MediaState {
  std::atomic<bool> audio{true}, video{true};
  std::atomic<int64_t> bitrate{0};
  std::atomic<bool> keyframe_wanted{false};  // ask the sender for one at the next video packet
  std::atomic<bool> remb_due{true};
  std::chrono::steady_clock::time_point last_remb;  // media worker only
};

json to_json(const EchoSettings& s) {
  return {{"audio_active", s.audio}, {"video_active", s.video}, {"bitrate", s.bitrate},
          {"audiocodec", s.audiocodec}, {"videocodec", s.videocodec}, {"videoprofile", s.videoprofile},
          {"recording", s.record}, {"substream", s.substream}, {"temporal", s.temporal},
          {"spatial_layer", s.spatial_layer}, {"temporal_layer", s.temporal_layer}};
}

std::vector<std::string> codec_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

class EchoTest final : public junction::plugin::Plugin {
 public:
  junction::plugin::Info info() const override {
    return {"janus.plugin.echotest", "Junction EchoTest plugin",
            "Sends a peer's own media back to it (Janus EchoTest compatible).", "The Junction authors",
            "0.2.0", 200};
  }

  void init(junction::plugin::Services& services, const json& /*settings*/) override { services_ = &services; }
  void shutdown() override {
    sessions_.clear();
    std::lock_guard lock(media_mutex_);
    media_.clear();
  }

  void create_session(HandleId handle) override {
    sessions_[handle] = EchoSettings{};
    std::lock_guard lock(media_mutex_);
    media_[handle] = std::make_shared<MediaState>();
  }
  void destroy_session(HandleId handle) override {
    sessions_.erase(handle);
    std::lock_guard lock(media_mutex_);
    media_.erase(handle);
  }

  json query_session(HandleId handle) override {
    auto it = sessions_.find(handle);
    return it == sessions_.end() ? json::object() : to_json(it->second);
  }

  MessageResult handle_message(HandleId handle, const std::string& transaction, const json& body,
                               const json& jsep) override {
    auto it = sessions_.find(handle);
    if (it == sessions_.end()) return MessageResult::error("No session for this handle");
    // Validate every field before changing anything, so a bad request changes nothing.
    EchoSettings next = it->second;
    std::string error = apply(body, next);
    json answer = {{"echotest", "event"}};
    json answer_jsep = nullptr;
    if (error.empty() && !jsep.is_null() && jsep.value("type", "") == "offer") {
      answer_jsep = make_answer_jsep(jsep, next, error);
      if (!error.empty()) {
        answer["error_code"] = kErrorInvalidSdp;
        answer["error"] = error;
      }
    } else if (!error.empty()) {
      answer["error_code"] = kErrorInvalidElement;
      answer["error"] = error;
    }
    if (error.empty()) {
      bool video_back_on = next.video && !it->second.video;
      it->second = next;
      answer["result"] = "ok";
      if (auto state = media_state(handle)) {
        state->audio = next.audio;
        state->video = next.video;
        state->bitrate = next.bitrate;
        state->remb_due = true;
        if (video_back_on) state->keyframe_wanted = true;
      }
    }
    // Janus answers asynchronously: `ack` now, then the event with the same transaction.
    services_->push_event(handle, transaction, std::move(answer), std::move(answer_jsep));
    return MessageResult::ack();
  }

  void setup_media(HandleId handle) override {
    if (auto state = media_state(handle)) state->keyframe_wanted = true;
  }
  void hangup_media(HandleId /*handle*/) override {}

  // --- media worker ---
  void incoming_rtp(HandleId handle, const junction::media::IncomingRtp& packet) override {
    std::shared_ptr<MediaState> state = media_state(handle);
    if (!state) return;
    bool video = packet.kind == junction::media::MediaKind::kVideo;
    if (video && state->keyframe_wanted.exchange(false)) services_->send_keyframe_request(handle, packet.mindex);
    auto now = std::chrono::steady_clock::now();
    if (state->bitrate > 0 && video && (state->remb_due.exchange(false) || now - state->last_remb > std::chrono::seconds(1))) {
      state->last_remb = now;
      services_->send_remb(handle, static_cast<uint64_t>(state->bitrate.load()));
    }
    if (video ? !state->video : !state->audio) return;
    services_->relay_rtp(handle, packet.mindex, packet.bytes);
  }

  void incoming_data(HandleId handle, const junction::media::DataMessage& message) override {
    if (message.binary) {
      services_->relay_data(handle, message);
      return;
    }
    std::string reply = "Junction EchoTest here! You wrote: ";
    reply.append(reinterpret_cast<const char*>(message.bytes.data()), message.bytes.size());
    junction::media::DataMessage echo = message;
    echo.bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(reply.data()), reply.size());
    services_->relay_data(handle, echo);
  }

  // The peer wants a keyframe of what we send it: that is its own video, so ask it.
  void incoming_keyframe_request(HandleId handle, int mindex) override {
    services_->send_keyframe_request(handle, mindex);
  }

 private:
  std::shared_ptr<MediaState> media_state(HandleId handle) {
    std::lock_guard lock(media_mutex_);
    auto it = media_.find(handle);
    return it == media_.end() ? nullptr : it->second;
  }

  static json make_answer_jsep(const json& jsep, const EchoSettings& settings, std::string& error) {
    std::string why;
    auto offer = junction::media::parse_sdp(jsep.value("sdp", ""), &why);
    if (!offer) {
      error = "Error parsing offer: " + why;
      return nullptr;
    }
    junction::media::AnswerOptions options;
    options.accept_data = true;
    if (!settings.audiocodec.empty()) options.audio_codecs = codec_list(settings.audiocodec);
    if (!settings.videocodec.empty()) options.video_codecs = codec_list(settings.videocodec);
    for (const auto& m : offer->media)
      if ((m.kind == "audio" || m.kind == "video") && !m.mid.empty())
        options.send_streams[m.mid] = {junction::plugins::random_ssrc(), junction::plugins::random_ssrc(), "junction-echotest", "junction-echotest",
                                       "junction-echotest-" + m.kind + m.mid};
    try {
      junction::media::SessionDescription answer = junction::media::make_answer(*offer, options);
      return {{"type", "answer"}, {"sdp", junction::media::write_sdp(answer)}};
    } catch (const std::exception& e) {
      error = std::string("Error answering the offer: ") + e.what();
      return nullptr;
    }
  }

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
  std::mutex media_mutex_;                     // guards media_ (looked up from media workers)
  std::unordered_map<HandleId, std::shared_ptr<MediaState>> media_;
};

}  // namespace

JUNCTION_PLUGIN(EchoTest)
