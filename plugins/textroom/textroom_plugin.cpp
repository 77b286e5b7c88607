// janus.plugin.textroom: text chat rooms over data channels, as Janus's TextRoom (API.md §3).
// The JSON API sets up a data-only PeerConnection (`setup` -> our offer, `ack` + the answer,
// `restart` -> a new offer) and takes room management requests (`request`: create, edit,
// destroy, list, listparticipants, exists, allowed, kick, announcement); everything else
// travels as JSON text on the data channel (`textroom`: join, leave, message, and the same
// management requests), answered on the channel with the request's `transaction`.
//
// Threads: data channel messages arrive on each participant's media worker (the handle's own
// affinity: a participant may join many rooms, so no room can pin it); rooms.h keeps the rooms
// behind one mutex, and replies and room events go out with the thread-safe relay_data().
#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "core/base/json_limits.h"
#include "core/gateway/plugin.h"
#include "core/media/sdp.h"
#include "plugins/textroom/rooms.h"

namespace {

using junction::plugin::HandleId;
using junction::plugin::json;
using junction::plugin::MessageResult;
using namespace junction::textroom;

constexpr size_t kMaxNesting = 64;  // deeper JSON on the channel is refused before parsing

json error_event(int code, const std::string& text) {
  return {{"textroom", "event"}, {"error_code", code}, {"error", text}};
}

class TextRoom final : public junction::plugin::Plugin {
 public:
  junction::plugin::Info info() const override {
    return {"janus.plugin.textroom", "Junction TextRoom plugin",
            "Text rooms over data channels (Janus TextRoom compatible).", "The Junction authors", "0.1.0", 100};
  }

  void init(junction::plugin::Services& services, const json& settings) override {
    services_ = &services;
    rooms_ = std::make_unique<Rooms>(settings.value("admin_key", ""));
    json rooms = settings.value("rooms", json::array());
    if (!rooms.is_array() || rooms.empty())
      // The demo room of Janus's sample configuration.
      rooms = json::array({{{"room", 1234}, {"description", "Demo Room"}, {"secret", "adminpwd"}}});
    for (const json& room : rooms) rooms_->add(room);
  }
  void shutdown() override {
    std::lock_guard lock(sessions_mutex_);
    sessions_.clear();
  }

  void create_session(HandleId handle) override {
    std::lock_guard lock(sessions_mutex_);
    sessions_[handle] = Session{};
  }
  void destroy_session(HandleId handle) override {
    leave_all(handle);
    std::lock_guard lock(sessions_mutex_);
    sessions_.erase(handle);
  }
  json query_session(HandleId handle) override {
    std::lock_guard lock(sessions_mutex_);
    auto it = sessions_.find(handle);
    if (it == sessions_.end()) return json::object();
    return {{"setup", it->second.offered}, {"dataready", it->second.ready}};
  }
  json handle_admin_message(const json& request) override {
    if (!request.is_object()) return error_event(kInvalidJson, "JSON error: not an object");
    return rooms_->handle(0, request, /*over_channel=*/false).reply;
  }

  MessageResult handle_message(HandleId handle, const std::string& transaction, const json& body,
                               const json& jsep) override {
    std::string request = body.value("request", "");
    if (request == "setup" || request == "restart") {
      {
        std::lock_guard lock(sessions_mutex_);
        Session& s = sessions_[handle];
        if (request == "setup" && s.offered) {
          services_->push_event(handle, transaction, error_event(kAlreadySetup, "PeerConnection already setup"));
          return MessageResult::ack();
        }
        s.offered = true;
      }
      services_->push_event(handle, transaction, {{"textroom", "event"}, {"result", "ok"}},
                            {{"type", "offer"}, {"sdp", offer_sdp(++offers_)}});
      return MessageResult::ack();
    }
    if (request == "ack") {
      // The gateway applied the answer already; an ack without one changes nothing.
      if (!jsep.is_null() && jsep.value("type", "") != "answer")
        services_->push_event(handle, transaction, error_event(kInvalidElement, "Invalid element (jsep should be an answer)"));
      else services_->push_event(handle, transaction, {{"textroom", "event"}, {"result", "ok"}});
      return MessageResult::ack();
    }
    if (!body.contains("request")) return MessageResult::ok(error_event(kMissingElement, "Missing element (request)"));
    Outcome out = rooms_->handle(handle, body, /*over_channel=*/false);
    deliver(out.sends);
    return MessageResult::ok(out.reply);
  }

  void setup_media(HandleId /*handle*/) override {}
  void hangup_media(HandleId handle) override {
    leave_all(handle);
    std::lock_guard lock(sessions_mutex_);
    auto it = sessions_.find(handle);
    if (it != sessions_.end()) it->second = Session{};
  }

  // --- media worker ---
  void data_ready(HandleId handle) override {
    std::lock_guard lock(sessions_mutex_);
    auto it = sessions_.find(handle);
    if (it != sessions_.end()) it->second.ready = true;
  }

  void incoming_data(HandleId handle, const junction::media::DataMessage& message) override {
    std::string_view text(reinterpret_cast<const char*>(message.bytes.data()), message.bytes.size());
    Outcome out;
    json request;
    if (text.empty()) {
      out.reply = {{"textroom", "error"}, {"error_code", kNoMessage}, {"error", "No message"}};
    } else if (junction::json_nesting_depth(text, kMaxNesting) > kMaxNesting ||
               (request = json::parse(text, nullptr, /*allow_exceptions=*/false)).is_discarded()) {
      out.reply = {{"textroom", "error"}, {"error_code", kInvalidJson}, {"error", "JSON error: could not parse the message"}};
    } else {
      out = rooms_->handle(handle, request, /*over_channel=*/true);
    }
    if (!out.reply.is_null()) send(handle, message.label, serialize(out.reply));
    deliver(out.sends);
  }

 private:
  struct Session {
    bool offered = false;  // setup done: our offer went out
    bool ready = false;    // a data channel is open
  };

  void send(HandleId handle, std::string_view label, const std::string& text) {
    junction::media::DataMessage m;
    m.label = label;
    m.bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    services_->relay_data(handle, m);
  }
  void deliver(const std::vector<std::pair<HandleId, std::string>>& sends) {
    for (const auto& [to, text] : sends) send(to, "", text);
  }
  void leave_all(HandleId handle) { deliver(rooms_->forget(handle)); }

  // A data-only offer: one m=application line, SCTP port 5000 and the 256 KiB we accept.
  static std::string offer_sdp(uint64_t version) {
    junction::media::SessionDescription sdp;
    sdp.origin = "- " + std::to_string(1000 + version) + " " + std::to_string(version) + " IN IP4 127.0.0.1";
    sdp.session_name = "Junction TextRoom";
    junction::media::MediaSection m;
    m.kind = "application";
    m.port = 9;
    m.protocol = "UDP/DTLS/SCTP";
    m.formats = {"webrtc-datachannel"};
    m.mid = "0";
    m.sctp_port = 5000;
    m.max_message_size = 262144;
    sdp.media.push_back(std::move(m));
    return junction::media::write_sdp(sdp);
  }

  junction::plugin::Services* services_ = nullptr;
  std::unique_ptr<Rooms> rooms_;
  std::atomic<uint64_t> offers_{0};
  std::mutex sessions_mutex_;  // sessions_ is read from media workers (data_ready)
  std::map<HandleId, Session> sessions_;
};

}  // namespace

JUNCTION_PLUGIN(TextRoom)
