#pragma once
// Room state on the control loop: a room's settings (the `create` fields), its participants and
// its two mixers (mixers/video for the composite, mixers/audio for the mix-minus), with the JSON
// views clients get. Both mixers name participants by handle id.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/gateway/plugin.h"
#include "mixers/audio/audio_mixer.h"
#include "mixers/video/video_mixer.h"

namespace junction::videomixer {

using json = nlohmann::json;
using plugin::HandleId;

struct RoomSettings {
  uint64_t id = 0;
  std::string description;
  std::string secret, pin;
  bool is_private = false;
  int width = 1280, height = 720, fps = 25, bitrate = 1000000;
  int max_participants = 16;
  int sampling_rate = 16000;
  mixers::LayoutKind layout = mixers::LayoutKind::kGrid;
  // `videocodec`: the video codecs the room negotiates, in preference order (an offer with
  // several gets the first of these it has).
  std::vector<mixers::VideoCodec> videocodecs = {mixers::VideoCodec::kVp8, mixers::VideoCodec::kH264};
  std::string videocodec_list() const;  // "vp8,h264"
};

// Reads a `create` body into settings (without the id); throws RequestError on a bad field.
RoomSettings settings_from_create(const json& body);

struct Participant {
  uint64_t id = 0;
  HandleId handle = 0;
  std::string display;
  bool muted = false;
  bool setup = false;       // its PeerConnection is up
  mixers::LayoutKind layout = mixers::LayoutKind::kGrid;
  bool show_self = true;
  uint64_t presenter = 0;   // a participant id (0: none)
  std::shared_ptr<mixers::MixerParticipant> audio;
  std::shared_ptr<mixers::VideoParticipant> video;
  json to_json() const;  // {id, display, setup, talking}
};

struct Room {
  RoomSettings settings;
  std::map<uint64_t, Participant> participants;  // by participant id
  std::unique_ptr<mixers::AudioMixer> audio;
  std::unique_ptr<mixers::VideoMixer> video;
  uint64_t announced_speaker = 0;  // the speaker handle the last layout events showed

  Participant* find(uint64_t id);
  Participant* find_handle(HandleId handle);
  json list_entry() const;
  json participants_json(uint64_t except = 0) const;
  // The mixer's view of `p` (its presenter id turned into a handle).
  mixers::View view_of(const Participant& p);
  // The `layout` event for `p`: what the video mixer composes for it now.
  json layout_event(const Participant& p);
};

}  // namespace junction::videomixer
