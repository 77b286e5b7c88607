#pragma once
// Text rooms (Janus TextRoom compatible, API.md §3): rooms, who is in them under which
// username, history, ACLs, and every request on them. One request in, one reply plus the
// messages it causes for other participants out; the plugin carries them (JSON API or data
// channel). Thread-safe: requests come from the control loop (the JSON API) and from every
// media worker (the data channels), so one mutex guards the rooms; nothing is sent under it.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace junction::textroom {

using json = nlohmann::json;
using HandleId = uint64_t;

// TextRoom's error codes (API.md: 411-423, 499).
enum ErrorCode : int {
  kNoMessage = 411,
  kInvalidJson = 412,
  kMissingElement = 413,
  kInvalidElement = 414,
  kInvalidRequest = 415,
  kAlreadySetup = 416,
  kNoSuchRoom = 417,
  kRoomExists = 418,
  kUnauthorized = 419,
  kUsernameExists = 420,
  kAlreadyInRoom = 421,
  kNotInRoom = 422,
  kNoSuchUser = 423,
  kUnknownError = 499,
};

struct RequestError : std::runtime_error {
  RequestError(int c, const std::string& what) : std::runtime_error(what), code(c) {}
  int code;
};

struct Outcome {
  json reply;                                           // to the requester
  std::vector<std::pair<HandleId, std::string>> sends;  // serialized messages for others
};

class Rooms {
 public:
  // `admin_key`: when non-empty, `create` must carry it.
  explicit Rooms(std::string admin_key = {}) : admin_key_(std::move(admin_key)) {}

  // Adds a room from a `create` body (plugin settings, the default room). Throws RequestError.
  void add(const json& create_body);

  // One request. `over_channel`: from a data channel (join, leave and message allowed; the
  // reply's "textroom" is "error" on failure) rather than the JSON API (management only;
  // errors are "event"). Never throws: errors become the reply.
  Outcome handle(HandleId from, const json& request, bool over_channel);

  // The handle is gone (hangup or detach): it leaves every room; others are told.
  std::vector<std::pair<HandleId, std::string>> forget(HandleId handle);

  // For the admin API and tests.
  json list_json();
  std::size_t room_count();

 private:
  struct Participant {
    HandleId handle = 0;
    std::string display;
  };
  struct Room {
    uint64_t id = 0;
    std::string description, secret, pin, post;
    bool is_private = false;
    int history_size = 0;
    std::deque<std::string> history;  // serialized public messages, oldest first
    bool check_allowed = false;
    std::set<std::string> allowed;
    std::map<std::string, Participant> participants;  // by username
  };
  using Sends = std::vector<std::pair<HandleId, std::string>>;

  json dispatch(HandleId from, const std::string& verb, const json& request, bool over_channel, Sends& sends);
  json create(const json& request);
  json edit(const json& request);
  json destroy(const json& request, Sends& sends);
  json list();
  json list_participants(const json& request);
  json exists(const json& request);
  json allowed(const json& request);
  json kick(const json& request, Sends& sends);
  json announcement(const json& request, Sends& sends);
  json join(HandleId from, const json& request, Sends& sends);
  json leave(HandleId from, const json& request, Sends& sends);
  json message(HandleId from, const json& request, Sends& sends);

  Room& room_of(const json& request);
  void check_secret(const Room& room, const json& request);
  static void broadcast(const Room& room, const std::string& text, Sends& sends, HandleId except = 0);
  void leave_room(Room& room, const std::string& username, Sends& sends);

  std::mutex mutex_;
  std::string admin_key_;
  std::map<uint64_t, Room> rooms_;  // guarded by mutex_
};

std::string serialize(const json& message);  // invalid UTF-8 replaced, never throws

}  // namespace junction::textroom
