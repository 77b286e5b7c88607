#include "plugins/videoroom/room.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "plugins/videoroom/request_fields.h"

namespace junction::videoroom {
namespace {

std::vector<std::string> codec_list(const std::string& text, const std::vector<std::string>& allowed) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    item.erase(std::remove_if(item.begin(), item.end(), [](unsigned char c) { return std::isspace(c); }), item.end());
    std::transform(item.begin(), item.end(), item.begin(), [](unsigned char c) { return std::tolower(c); });
    if (item.empty()) continue;
    if (std::find(allowed.begin(), allowed.end(), item) == allowed.end())
      throw RequestError(kErrorInvalidElement, "Invalid element (unsupported codec " + item + ")");
    if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
  }
  if (out.empty()) throw RequestError(kErrorInvalidElement, "Invalid element (empty codec list)");
  return out;
}

}  // namespace

std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

RoomSettings settings_from_create(const json& body) {
  RoomSettings s;
  if (auto v = opt_string(body, "description")) s.description = *v;
  if (auto v = opt_string(body, "secret")) s.secret = *v;
  if (auto v = opt_string(body, "pin")) s.pin = *v;
  if (auto v = opt_bool(body, "is_private")) s.is_private = *v;
  if (auto v = opt_uint(body, "publishers")) s.max_publishers = std::max<uint64_t>(*v, 1);
  if (auto v = opt_uint(body, "bitrate")) s.bitrate = *v;
  if (auto v = opt_uint(body, "fir_freq")) s.fir_freq = *v;
  if (auto v = opt_string(body, "audiocodec"))
    s.audiocodecs = codec_list(*v, {"opus", "g722", "pcmu", "pcma", "isac32", "isac16"});
  if (auto v = opt_string(body, "videocodec")) s.videocodecs = codec_list(*v, {"vp8", "vp9", "h264", "av1", "h265"});
  if (auto v = opt_bool(body, "notify_joining")) s.notify_joining = *v;
  if (const json* v = field(body, "allowed")) {
    s.allowed = token_list(*v);
    s.check_allowed = true;
  }
  (void)opt_bool(body, "permanent");  // checked here, acted upon by the plugin (the rooms file)
  if (auto v = opt_bool(body, "audiolevel_event")) s.audiolevel_event = *v;
  if (auto v = opt_uint(body, "audio_active_packets")) {
    if (*v == 0) throw RequestError(kErrorInvalidElement, "Invalid element (audio_active_packets should be at least 1)");
    s.audio_active_packets = *v;
  }
  if (auto v = opt_uint(body, "audio_level_average")) {
    if (*v > 127) throw RequestError(kErrorInvalidElement, "Invalid element (audio_level_average should be 0..127)");
    s.audio_level_average = *v;
  }
  // Accepted for compatibility, not acted upon yet (see the plugin's README).
  for (const char* key : {"require_pvtid", "record"}) (void)opt_bool(body, key);
  return s;
}

std::set<std::string> token_list(const json& value) {
  if (!value.is_array()) throw RequestError(kErrorInvalidElement, "Invalid element (allowed should be an array of strings)");
  std::set<std::string> out;
  for (const json& token : value) {
    if (!token.is_string()) throw RequestError(kErrorInvalidElement, "Invalid element (allowed should be an array of strings)");
    out.insert(token.get<std::string>());
  }
  return out;
}

json RoomSettings::to_create_body() const {
  json body = {{"room", id},
               {"description", description},
               {"is_private", is_private},
               {"publishers", max_publishers},
               {"bitrate", bitrate},
               {"fir_freq", fir_freq},
               {"audiocodec", join_list(audiocodecs)},
               {"videocodec", join_list(videocodecs)},
               {"notify_joining", notify_joining},
               {"audiolevel_event", audiolevel_event},
               {"audio_active_packets", audio_active_packets},
               {"audio_level_average", audio_level_average}};
  if (!secret.empty()) body["secret"] = secret;
  if (!pin.empty()) body["pin"] = pin;
  if (check_allowed) body["allowed"] = allowed;
  return body;
}

json StreamInfo::to_json() const {
  json out = {{"type", type}, {"mindex", mindex}, {"mid", mid}, {"codec", codec}};
  if (substreams > 0) out["simulcast"] = true;
  if (talking) out["talking"] = talking->load(std::memory_order_relaxed);
  if (moderated) out["moderated"] = true;
  return out;
}

json SubscribedStream::to_json() const {
  json item = {{"type", source.type}, {"active", active}, {"mindex", mindex}, {"mid", mid},
               {"send", send}, {"feed_id", feed_id}, {"feed_mid", source.mid}, {"codec", source.codec}};
  return item;
}

json Participant::to_json() const {
  json list = json::array();
  for (const auto& s : streams) list.push_back(s.to_json());
  json out = {{"id", id}, {"streams", list}};
  if (!display.empty()) out["display"] = display;
  return out;
}

Participant* Room::find_participant(uint64_t id) {
  auto it = participants.find(id);
  return it == participants.end() ? nullptr : &it->second;
}

size_t Room::active_publishers() const {
  return static_cast<size_t>(std::count_if(participants.begin(), participants.end(),
                                           [](const auto& p) { return p.second.published; }));
}

json Room::list_entry() const {
  const RoomSettings& s = settings;
  return {{"room", s.id},
          {"description", s.description},
          {"pin_required", !s.pin.empty()},
          {"is_private", s.is_private},
          {"max_publishers", s.max_publishers},
          {"bitrate", s.bitrate},
          {"fir_freq", s.fir_freq},
          {"require_pvtid", false},
          {"require_e2ee", false},
          {"notify_joining", s.notify_joining},
          {"audiolevel_event", s.audiolevel_event},
          {"audio_active_packets", s.audio_active_packets},
          {"audio_level_average", s.audio_level_average},
          {"audiocodec", join_list(s.audiocodecs)},
          {"videocodec", join_list(s.videocodecs)},
          {"record", false},
          {"lock_record", false},
          {"num_participants", participants.size()}};
}

json Room::publishers_json(uint64_t except) const {
  json list = json::array();
  for (const auto& [id, p] : participants)
    if (p.published && id != except) list.push_back(p.to_json());
  return list;
}

}  // namespace junction::videoroom
