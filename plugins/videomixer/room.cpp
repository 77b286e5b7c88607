#include "plugins/videomixer/room.h"

#include <algorithm>

#include "mixers/audio/opus_codec.h"
#include "plugins/videomixer/errors.h"

namespace junction::videomixer {

RoomSettings settings_from_create(const json& json_body) {
  Body body(json_body);
  RoomSettings s;
  if (auto v = body.text("description")) s.description = *v;
  if (auto v = body.text("secret")) s.secret = *v;
  if (auto v = body.text("pin")) s.pin = *v;
  if (auto v = body.flag("is_private")) s.is_private = *v;
  auto even = [](const char* key, int64_t v) {
    if (v % 2 != 0) throw RequestError(kErrorInvalidElement, std::string("Invalid element (") + key + " should be even)");
    return static_cast<int>(v);
  };
  if (auto v = body.integer_in("width", 160, 1920)) s.width = even("width", *v);
  if (auto v = body.integer_in("height", 120, 1080)) s.height = even("height", *v);
  if (auto v = body.integer_in("fps", 1, 30)) s.fps = static_cast<int>(*v);
  if (auto v = body.integer_in("bitrate", 100000, 8000000)) s.bitrate = static_cast<int>(*v);
  if (auto v = body.integer_in("max_participants", 1, 16)) s.max_participants = static_cast<int>(*v);
  if (auto v = body.integer("sampling_rate")) {
    if (!mixers::valid_opus_rate(static_cast<int>(*v)))
      throw RequestError(kErrorInvalidElement, "Invalid element (sampling_rate should be 8000, 12000, 16000, 24000 or 48000)");
    s.sampling_rate = static_cast<int>(*v);
  }
  if (auto v = body.text("layout")) {
    auto kind = mixers::layout_from_name(*v);
    if (!kind) throw RequestError(kErrorInvalidElement, "Invalid element (layout should be grid, speaker or presenter)");
    s.layout = *kind;
  }
  if (auto v = body.text("videocodec")) {
    // A comma-separated list of "vp8" and "h264", as videoroom's `videocodec` (without its other codecs).
    s.videocodecs.clear();
    size_t at = 0;
    while (at <= v->size()) {
      size_t comma = std::min(v->find(',', at), v->size());
      std::string name = v->substr(at, comma - at);
      name.erase(std::remove(name.begin(), name.end(), ' '), name.end());
      auto codec = mixers::codec_from_name(name);
      if (!codec) throw RequestError(kErrorInvalidElement, "Invalid element (videocodec should be vp8, h264 or both, comma-separated)");
      if (std::find(s.videocodecs.begin(), s.videocodecs.end(), *codec) == s.videocodecs.end()) s.videocodecs.push_back(*codec);
      at = comma + 1;
    }
  }
  (void)body.flag("permanent");
  return s;
}

std::string RoomSettings::videocodec_list() const {
  std::string out;
  for (mixers::VideoCodec c : videocodecs) out += (out.empty() ? "" : ",") + std::string(mixers::codec_name(c));
  return out;
}

json Participant::to_json() const {
  json out = {{"id", id}, {"setup", setup}, {"talking", audio && audio->talking()}};
  if (!display.empty()) out["display"] = display;
  return out;
}

Participant* Room::find(uint64_t id) {
  auto it = participants.find(id);
  return it == participants.end() ? nullptr : &it->second;
}

Participant* Room::find_handle(HandleId handle) {
  for (auto& [id, p] : participants)
    if (p.handle == handle) return &p;
  return nullptr;
}

json Room::list_entry() const {
  return {{"room", settings.id},
          {"description", settings.description},
          {"pin_required", !settings.pin.empty()},
          {"width", settings.width},
          {"height", settings.height},
          {"fps", settings.fps},
          {"bitrate", settings.bitrate},
          {"videocodec", settings.videocodec_list()},
          {"max_participants", settings.max_participants},
          {"num_participants", participants.size()}};
}

json Room::participants_json(uint64_t except) const {
  json list = json::array();
  for (const auto& [id, p] : participants)
    if (id != except) list.push_back(p.to_json());
  return list;
}

mixers::View Room::view_of(const Participant& p) {
  mixers::View view;
  view.kind = p.layout;
  view.show_self = p.show_self;
  if (const Participant* presenter = find(p.presenter)) view.presenter = presenter->handle;
  return view;
}

json Room::layout_event(const Participant& p) {
  json tiles = json::array();
  for (const mixers::Tile& t : video->layout_for(p.handle)) {
    const Participant* q = find_handle(t.participant);
    if (q == nullptr) continue;
    json tile = {{"id", q->id}, {"x", t.x}, {"y", t.y}, {"width", t.width}, {"height", t.height}};
    if (!q->display.empty()) tile["display"] = q->display;
    tiles.push_back(std::move(tile));
  }
  const Participant* speaker = find_handle(video->speaker());
  const Participant* presenter = find(p.presenter);
  json layout = {{"type", mixers::layout_name(p.layout)},
                 {"width", settings.width},
                 {"height", settings.height},
                 {"speaker", speaker != nullptr ? json(speaker->id) : json(nullptr)},
                 {"presenter", presenter != nullptr ? json(presenter->id) : json(nullptr)},
                 {"tiles", std::move(tiles)}};
  return {{"videomixer", "event"}, {"room", settings.id}, {"layout", std::move(layout)}};
}

}  // namespace junction::videomixer
