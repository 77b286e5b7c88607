#pragma once
// Room state on the control loop: a room's settings, its participants (publishers, whether they
// publish or not) and subscribers, and the JSON views Janus clients expect of them. Only the
// control loop touches these objects; the media worker sees a room through its RoomMedia.
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/gateway/plugin.h"

namespace junction::videoroom {

using json = nlohmann::json;
using plugin::HandleId;
class RoomMedia;

struct RoomSettings {
  uint64_t id = 0;
  std::string description;
  std::string secret, pin;
  bool is_private = false;
  uint64_t max_publishers = 3;
  uint64_t bitrate = 0;   // REMB cap for publishers, bits per second; 0 = none
  uint64_t fir_freq = 0;  // seconds between periodic keyframe requests; 0 = none
  std::vector<std::string> audiocodecs{"opus"};
  std::vector<std::string> videocodecs{"vp8"};
  bool notify_joining = false;
  bool audiolevel_event = false;       // talking / stopped-talking events
  uint64_t audio_active_packets = 100; // packets per talking decision
  uint64_t audio_level_average = 25;   // average level (-dBov, 0..127) at or under which one talks
  bool check_allowed = false;        // `join` must carry a `token` from `allowed`
  std::set<std::string> allowed;

  json to_create_body() const;  // what settings_from_create() reads back, with "room"
};

// Reads a `create` body into settings (without the id); throws RequestError on a bad field.
RoomSettings settings_from_create(const json& body);
// Reads an `allowed` array of token strings (430 if it is anything else).
std::set<std::string> token_list(const json& value);
std::string join_list(const std::vector<std::string>& items);

// One negotiated stream of a publisher (from our answer to its offer).
struct StreamInfo {
  std::string type;  // "audio" | "video"
  int mindex = 0;
  std::string mid;
  std::string codec;  // lower case: "opus", "vp8", ...
  int payload_type = 0;
  int rtx_payload_type = -1;
  int clock_rate = 0;
  int channels = 0;
  std::string fmtp;
  std::vector<std::string> feedback;
  int audio_level_ext_id = 0;  // the negotiated ssrc-audio-level extension id; 0: none
  int substreams = 0;  // simulcast layers the publisher sends (0: no simulcast)
  bool moderated = false;  // muted by the room's moderator (`moderate`): not forwarded
  // Audio of a room with audiolevel_event: whether the publisher talks now (set by the room's
  // worker, read here for `publishers` lists). Null otherwise.
  std::shared_ptr<std::atomic<bool>> talking;
  json to_json() const;
};

struct Participant {  // a publisher handle, publishing or not
  uint64_t id = 0;
  uint64_t private_id = 0;
  HandleId handle = 0;
  std::string display;
  bool published = false;
  std::vector<StreamInfo> streams;
  bool data = false;  // published a data channel m-line too (relayed to its subscribers)
  bool audio_active = true, video_active = true;
  uint64_t bitrate = 0;
  json to_json() const;  // {id, display, streams} as in `publishers` lists
};

// One m-line of a subscriber's PeerConnection, fed by one publisher stream.
struct SubscribedStream {
  int mindex = 0;
  std::string mid;
  uint64_t feed_id = 0;
  HandleId feed_handle = 0;
  StreamInfo source;  // the publisher's stream it carries (changed by `switch`)
  uint8_t payload_type = 0;  // negotiated with the subscriber (the first source's)
  uint32_t ssrc = 0, rtx_ssrc = 0;
  bool send = true;  // subscriber `configure` per mid
  bool active = true;  // false: unsubscribed or its feed is gone (an inactive m-line)
  json to_json() const;  // an item of `attached` / `switched` stream lists
};

struct Subscriber {
  HandleId handle = 0;
  std::vector<SubscribedStream> streams;  // by mindex, skipping data_mindex
  int data_mindex = -1;        // the m=application line for relayed data channels, if any
  bool started = false;        // answer received and not paused
  bool media_up = false;       // its PeerConnection is up (DTLS done): media relayed now arrives
  bool answered = false;       // an answer was ever received (a PeerConnection exists)
  bool offer_pending = false;  // our offer is not answered yet
  bool update_queued = false;  // streams changed meanwhile: offer again after the answer
  uint64_t sdp_session = 0, sdp_version = 0;  // o= of our offers (the version grows)
};

struct Room {
  RoomSettings settings;
  std::map<uint64_t, Participant> participants;  // by participant id
  std::map<HandleId, Subscriber> subscribers;
  std::shared_ptr<RoomMedia> media;

  Participant* find_participant(uint64_t id);
  size_t active_publishers() const;
  json list_entry() const;    // an item of `list`
  json publishers_json(uint64_t except) const;  // the publishing participants
};

}  // namespace junction::videoroom
