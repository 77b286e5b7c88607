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
  // Accepted for compatibility, not acted upon yet (see the plugin's README section in the report).
  for (const char* key : {"permanent", "audiolevel_event", "require_pvtid", "record"}) (void)opt_bool(body, key);
  for (const char* key : {"audio_active_packets", "audio_level_average"}) (void)opt_uint(body, key);
  return s;
}

json StreamInfo::to_json() const {
  return {{"type", type}, {"mindex", mindex}, {"mid", mid}, {"codec", codec}};
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
