#pragma once
// Room state on the control loop: a room's settings (the `create` fields), its participants and
// its mixer, with the JSON views Janus clients expect. Only the control loop touches these
// objects; the mixer thread and the media workers see a participant through its MixerParticipant.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "core/gateway/plugin.h"
#include "mixers/audio/audio_mixer.h"
#include "mixers/audio/mix_recorder.h"

namespace junction::audiobridge {

using json = nlohmann::json;
using plugin::HandleId;

struct RoomSettings {
  uint64_t id = 0;
  std::string description;
  std::string secret, pin;
  bool is_private = false;
  int sampling_rate = 16000;
  bool spatial_audio = false;  // accepted; the mix is mono
  bool audiolevel_ext = true;
  bool audiolevel_event = false;
  int audio_active_packets = 100;
  int audio_level_average = 25;
  int default_expectedloss = 0;
  int default_bitrate = 0;
  bool record = false;
  std::string record_file, record_dir;
  bool check_allowed = false;
  std::set<std::string> allowed;
};

// Reads a `create` body into settings (without the id); throws RequestError on a bad field.
RoomSettings settings_from_create(const json& body);

struct Participant {
  uint64_t id = 0;
  HandleId handle = 0;
  std::string display;
  bool muted = false;   // by the participant (configure) or a moderator (mute)
  bool setup = false;   // its PeerConnection is up
  int volume = 100;
  std::shared_ptr<mixers::MixerParticipant> mixer;
  json to_json(bool talking_field) const;  // {id, display, setup, muted[, talking]}
};

struct Room {
  RoomSettings settings;
  bool muted = false;  // mute_room
  std::map<uint64_t, Participant> participants;  // by participant id
  std::unique_ptr<mixers::AudioMixer> mixer;
  std::shared_ptr<mixers::MixRecorder> recorder;  // while recording the mix

  Participant* find(uint64_t id);
  json list_entry() const;
  json participants_json(uint64_t except = 0) const;
  // What the mixer applies: the participant's own mute or the room's.
  void apply_mute(Participant& p) const { p.mixer->set_muted(p.muted || muted); }
};

}  // namespace junction::audiobridge
