#include "plugins/audiobridge/room.h"

#include "mixers/audio/opus_codec.h"
#include "plugins/audiobridge/errors.h"

namespace junction::audiobridge {

RoomSettings settings_from_create(const json& json_body) {
  Body body(json_body);
  RoomSettings s;
  if (auto v = body.text("description")) s.description = *v;
  if (auto v = body.text("secret")) s.secret = *v;
  if (auto v = body.text("pin")) s.pin = *v;
  if (auto v = body.flag("is_private")) s.is_private = *v;
  int64_t rate = body.integer("sampling_rate").value_or(body.integer("sampling").value_or(16000));
  if (!mixers::valid_opus_rate(static_cast<int>(rate)))
    throw RequestError(kErrorInvalidElement, "Invalid element (sampling_rate should be 8000, 12000, 16000, 24000 or 48000)");
  s.sampling_rate = static_cast<int>(rate);
  if (auto v = body.flag("spatial_audio")) s.spatial_audio = *v;
  if (auto v = body.flag("audiolevel_ext")) s.audiolevel_ext = *v;
  if (auto v = body.flag("audiolevel_event")) s.audiolevel_event = *v;
  if (auto v = body.integer("audio_active_packets")) {
    if (*v < 1) throw RequestError(kErrorInvalidElement, "Invalid element (audio_active_packets should be positive)");
    s.audio_active_packets = static_cast<int>(*v);
  }
  if (auto v = body.integer("audio_level_average")) {
    if (*v < 1 || *v > 127) throw RequestError(kErrorInvalidElement, "Invalid element (audio_level_average should be 1..127)");
    s.audio_level_average = static_cast<int>(*v);
  }
  if (auto v = body.integer("default_expectedloss")) {
    if (*v < 0 || *v > 20) throw RequestError(kErrorInvalidElement, "Invalid element (default_expectedloss should be 0..20)");
    s.default_expectedloss = static_cast<int>(*v);
  }
  if (auto v = body.integer("default_bitrate")) {
    if (*v < 0 || *v > 512000) throw RequestError(kErrorInvalidElement, "Invalid element (default_bitrate)");
    s.default_bitrate = static_cast<int>(*v);
  }
  if (auto v = body.flag("record")) s.record = *v;
  if (auto v = body.text("record_file")) s.record_file = *v;
  if (auto v = body.text("record_dir")) s.record_dir = *v;
  if (const json* list = body.array("allowed")) {
    s.check_allowed = true;
    for (const json& token : *list)
      if (token.is_string()) s.allowed.insert(token.get<std::string>());
  }
  (void)body.flag("permanent");
  return s;
}

json Participant::to_json(bool talking_field) const {
  json out = {{"id", id}, {"setup", setup}, {"muted", muted}};
  if (!display.empty()) out["display"] = display;
  if (talking_field) out["talking"] = mixer && mixer->talking();
  return out;
}

Participant* Room::find(uint64_t id) {
  auto it = participants.find(id);
  return it == participants.end() ? nullptr : &it->second;
}

json Room::list_entry() const {
  return {{"room", settings.id},
          {"description", settings.description},
          {"pin_required", !settings.pin.empty()},
          {"sampling_rate", settings.sampling_rate},
          {"spatial_audio", settings.spatial_audio},
          {"record", recorder != nullptr},
          {"muted", muted},
          {"num_participants", participants.size()}};
}

json Room::participants_json(uint64_t except) const {
  json list = json::array();
  for (const auto& [id, p] : participants)
    if (id != except) list.push_back(p.to_json(settings.audiolevel_event));
  return list;
}

}  // namespace junction::audiobridge
