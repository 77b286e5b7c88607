#include "plugins/textroom/rooms.h"

#include "plugins/common/random_ids.h"

#include <chrono>
#include <ctime>

namespace junction::textroom {
namespace {

// A typed field of a request: absent (or null) gives nullopt; present with another type is
// 414, as Janus answers. required() turns absence into 413.
enum class Kind { kUint, kString, kBool, kStringArray };

const json* present(const json& r, const char* key) {
  auto it = r.find(key);
  return it == r.end() || it->is_null() ? nullptr : &*it;
}

[[noreturn]] void wrong_type(const char* key, const char* expected) {
  throw RequestError(kInvalidElement, std::string("Invalid element type (") + key + " should be " + expected + ")");
}

std::optional<uint64_t> opt_uint(const json& r, const char* key) {
  const json* v = present(r, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_integer() || v->get<int64_t>() < 0) wrong_type(key, "a positive integer");
  return v->get<uint64_t>();
}
std::optional<std::string> opt_string(const json& r, const char* key) {
  const json* v = present(r, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) wrong_type(key, "a string");
  return v->get<std::string>();
}
std::optional<bool> opt_bool(const json& r, const char* key) {
  const json* v = present(r, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) wrong_type(key, "a boolean");
  return v->get<bool>();
}
std::optional<std::vector<std::string>> opt_strings(const json& r, const char* key) {
  const json* v = present(r, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array()) wrong_type(key, "an array of strings");
  std::vector<std::string> out;
  for (const json& item : *v) {
    if (!item.is_string()) wrong_type(key, "an array of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}
template <typename T>
T required(std::optional<T> value, const char* key) {
  if (!value) throw RequestError(kMissingElement, std::string("Missing element (") + key + ")");
  return std::move(*value);
}

// The date of a message as Janus writes it: local time, ISO 8601 with the UTC offset.
std::string now_date() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  localtime_r(&t, &tm);
  char text[64];
  std::strftime(text, sizeof text, "%FT%T%z", &tm);
  return text;
}

}  // namespace

std::string serialize(const json& message) { return message.dump(-1, ' ', false, json::error_handler_t::replace); }

void Rooms::add(const json& create_body) {
  std::lock_guard lock(mutex_);
  json body = create_body;
  body.erase("admin_key");
  std::string saved = std::exchange(admin_key_, std::string());
  try {
    create(body);
  } catch (...) {
    admin_key_ = saved;
    throw;
  }
  admin_key_ = saved;
}

Outcome Rooms::handle(HandleId from, const json& request, bool over_channel) {
  Outcome out;
  const json* transaction = over_channel ? present(request, "transaction") : nullptr;
  try {
    if (!request.is_object()) throw RequestError(kInvalidJson, "JSON error: not an object");
    const char* verb_key = over_channel ? "textroom" : "request";
    auto verb = opt_string(request, verb_key);
    if (!verb) throw RequestError(kMissingElement, std::string("Missing element (") + verb_key + ")");
    if (over_channel && (transaction == nullptr || !transaction->is_string()))
      throw RequestError(kMissingElement, "Missing element (transaction)");
    std::lock_guard lock(mutex_);
    out.reply = dispatch(from, *verb, request, over_channel, out.sends);
  } catch (const RequestError& e) {
    out.sends.clear();
    out.reply = {{"textroom", over_channel ? "error" : "event"}, {"error_code", e.code}, {"error", e.what()}};
  } catch (const std::exception& e) {
    out.sends.clear();
    out.reply = {{"textroom", over_channel ? "error" : "event"}, {"error_code", kUnknownError}, {"error", e.what()}};
  }
  if (transaction != nullptr && transaction->is_string() && !out.reply.is_null()) out.reply["transaction"] = *transaction;
  return out;
}

json Rooms::dispatch(HandleId from, const std::string& verb, const json& r, bool over_channel, Sends& sends) {
  if (verb == "create") return create(r);
  if (verb == "edit") return edit(r);
  if (verb == "destroy") return destroy(r, sends);
  if (verb == "list") return list();
  if (verb == "listparticipants") return list_participants(r);
  if (verb == "exists") return exists(r);
  if (verb == "allowed") return allowed(r);
  if (verb == "kick") return kick(r, sends);
  if (verb == "announcement") return announcement(r, sends);
  if (over_channel) {
    if (verb == "join") return join(from, r, sends);
    if (verb == "leave") return leave(from, r, sends);
    if (verb == "message") return message(from, r, sends);
  }
  throw RequestError(kInvalidRequest, "Unsupported request " + verb);
}

Rooms::Room& Rooms::room_of(const json& r) {
  uint64_t id = required(opt_uint(r, "room"), "room");
  auto it = rooms_.find(id);
  if (it == rooms_.end()) throw RequestError(kNoSuchRoom, "No such room (" + std::to_string(id) + ")");
  return it->second;
}

void Rooms::check_secret(const Room& room, const json& r) {
  if (room.secret.empty()) return;
  if (opt_string(r, "secret").value_or("") != room.secret) throw RequestError(kUnauthorized, "Unauthorized (wrong secret)");
}

void Rooms::broadcast(const Room& room, const std::string& text, Sends& sends, HandleId except) {
  for (const auto& [name, p] : room.participants)
    if (p.handle != except) sends.emplace_back(p.handle, text);
}

json Rooms::create(const json& r) {
  if (!admin_key_.empty() && opt_string(r, "admin_key").value_or("") != admin_key_)
    throw RequestError(kUnauthorized, "Unauthorized (wrong admin_key)");
  Room room;
  auto id = opt_uint(r, "room");
  room.description = opt_string(r, "description").value_or("");
  room.secret = opt_string(r, "secret").value_or("");
  room.pin = opt_string(r, "pin").value_or("");
  room.post = opt_string(r, "post").value_or("");
  room.is_private = opt_bool(r, "is_private").value_or(false);
  room.history_size = static_cast<int>(std::min<uint64_t>(opt_uint(r, "history").value_or(0), 1000));
  opt_bool(r, "permanent");  // type-checked; rooms are kept in memory only
  if (auto list = opt_strings(r, "allowed")) {
    room.check_allowed = true;
    room.allowed.insert(list->begin(), list->end());
  }
  if (id && rooms_.count(*id)) throw RequestError(kRoomExists, "Room " + std::to_string(*id) + " already exists");
  room.id = id.value_or(0);
  while (room.id == 0 || rooms_.count(room.id)) room.id = plugins::random_id();
  if (room.description.empty()) room.description = "Room " + std::to_string(room.id);
  uint64_t created = room.id;
  rooms_.emplace(created, std::move(room));
  return {{"textroom", "created"}, {"room", created}, {"permanent", false}};
}

json Rooms::edit(const json& r) {
  Room& room = room_of(r);
  check_secret(room, r);
  auto description = opt_string(r, "new_description");
  auto secret = opt_string(r, "new_secret");
  auto pin = opt_string(r, "new_pin");
  auto is_private = opt_bool(r, "new_is_private");
  auto post = opt_string(r, "new_post");
  if (description && !description->empty()) room.description = *description;
  if (secret) room.secret = *secret;
  if (pin) room.pin = *pin;
  if (is_private) room.is_private = *is_private;
  if (post) room.post = *post;
  return {{"textroom", "edited"}, {"room", room.id}, {"permanent", false}};
}

json Rooms::destroy(const json& r, Sends& sends) {
  Room& room = room_of(r);
  check_secret(room, r);
  uint64_t id = room.id;
  broadcast(room, serialize({{"textroom", "destroyed"}, {"room", id}}), sends);
  rooms_.erase(id);
  return {{"textroom", "destroyed"}, {"room", id}, {"permanent", false}};
}

json Rooms::list() {
  json rooms = json::array();
  for (const auto& [id, room] : rooms_) {
    if (room.is_private) continue;
    json entry = {{"room", id}, {"description", room.description}, {"pin_required", !room.pin.empty()},
                  {"num_participants", room.participants.size()}};
    if (room.history_size > 0) entry["history"] = room.history_size;
    rooms.push_back(std::move(entry));
  }
  return {{"textroom", "success"}, {"list", rooms}};
}

json Rooms::list_participants(const json& r) {
  Room& room = room_of(r);
  json participants = json::array();
  for (const auto& [name, p] : room.participants) {
    json entry = {{"username", name}};
    if (!p.display.empty()) entry["display"] = p.display;
    participants.push_back(std::move(entry));
  }
  return {{"textroom", "success"}, {"room", room.id}, {"participants", participants}};
}

json Rooms::exists(const json& r) {
  uint64_t id = required(opt_uint(r, "room"), "room");
  return {{"textroom", "success"}, {"room", id}, {"exists", rooms_.count(id) > 0}};
}

json Rooms::allowed(const json& r) {
  Room& room = room_of(r);
  check_secret(room, r);
  std::string action = required(opt_string(r, "action"), "action");
  auto tokens = opt_strings(r, "allowed");
  if (action == "enable") {
    room.check_allowed = true;
  } else if (action == "disable") {
    room.check_allowed = false;
    return {{"textroom", "success"}, {"room", room.id}};
  } else if (action == "add" || action == "remove") {
    if (!tokens) throw RequestError(kMissingElement, "Missing element (allowed)");
    for (const std::string& t : *tokens) {
      if (action == "add") room.allowed.insert(t);
      else room.allowed.erase(t);
    }
  } else {
    throw RequestError(kInvalidElement, "Unsupported action '" + action + "' (allowed)");
  }
  return {{"textroom", "success"}, {"room", room.id}, {"allowed", room.allowed}};
}

void Rooms::leave_room(Room& room, const std::string& username, Sends& sends) {
  room.participants.erase(username);
  broadcast(room, serialize({{"textroom", "leave"}, {"room", room.id}, {"username", username}}), sends);
}

json Rooms::kick(const json& r, Sends& sends) {
  Room& room = room_of(r);
  check_secret(room, r);
  std::string username = required(opt_string(r, "username"), "username");
  if (!room.participants.count(username)) throw RequestError(kNoSuchUser, "No such user " + username + " in room");
  // Everyone, the kicked one included, hears it; then it is out.
  broadcast(room, serialize({{"textroom", "kicked"}, {"room", room.id}, {"username", username}}), sends);
  room.participants.erase(username);
  return {{"textroom", "success"}};
}

json Rooms::announcement(const json& r, Sends& sends) {
  Room& room = room_of(r);
  check_secret(room, r);
  std::string text = required(opt_string(r, "text"), "text");
  std::string event = serialize({{"textroom", "announcement"}, {"room", room.id}, {"date", now_date()}, {"text", text}});
  broadcast(room, event, sends);
  if (room.history_size > 0) {
    room.history.push_back(event);
    while (room.history.size() > static_cast<size_t>(room.history_size)) room.history.pop_front();
  }
  return {{"textroom", "success"}};
}

json Rooms::join(HandleId from, const json& r, Sends& sends) {
  Room& room = room_of(r);
  std::string username = required(opt_string(r, "username"), "username");
  auto display = opt_string(r, "display");
  auto pin = opt_string(r, "pin");
  auto token = opt_string(r, "token");
  if (!room.pin.empty() && pin.value_or("") != room.pin) throw RequestError(kUnauthorized, "Unauthorized (wrong pin)");
  if (room.check_allowed && (!token || !room.allowed.count(*token)))
    throw RequestError(kUnauthorized, "Unauthorized (not in the allowed list)");
  for (const auto& [name, p] : room.participants)
    if (p.handle == from) throw RequestError(kAlreadyInRoom, "Already in room (as " + name + ")");
  if (username.empty()) throw RequestError(kInvalidElement, "Invalid element (username should not be empty)");
  if (room.participants.count(username)) throw RequestError(kUsernameExists, "Username '" + username + "' already taken");
  json others = json::array();
  for (const auto& [name, p] : room.participants) {
    json entry = {{"username", name}};
    if (!p.display.empty()) entry["display"] = p.display;
    others.push_back(std::move(entry));
  }
  json event = {{"textroom", "join"}, {"room", room.id}, {"username", username}};
  if (display && !display->empty()) event["display"] = *display;
  broadcast(room, serialize(event), sends);
  room.participants[username] = Participant{from, display.value_or("")};
  // History goes to the newcomer after its reply (the plugin sends the reply first).
  for (const std::string& old : room.history) sends.emplace_back(from, old);
  return {{"textroom", "success"}, {"participants", others}};
}

json Rooms::leave(HandleId from, const json& r, Sends& sends) {
  Room& room = room_of(r);
  for (const auto& [name, p] : room.participants)
    if (p.handle == from) {
      std::string username = name;
      leave_room(room, username, sends);
      return {{"textroom", "success"}};
    }
  throw RequestError(kNotInRoom, "Not in room " + std::to_string(room.id));
}

json Rooms::message(HandleId from, const json& r, Sends& sends) {
  Room& room = room_of(r);
  std::string text = required(opt_string(r, "text"), "text");
  auto to = opt_string(r, "to");
  auto tos = opt_strings(r, "tos");
  bool ack = opt_bool(r, "ack").value_or(true);
  if (to && tos) throw RequestError(kInvalidElement, "Invalid element (to and tos are mutually exclusive)");
  const std::string* sender = nullptr;
  for (const auto& [name, p] : room.participants)
    if (p.handle == from) sender = &name;
  if (sender == nullptr) throw RequestError(kNotInRoom, "Not in room " + std::to_string(room.id));
  json event = {{"textroom", "message"}, {"room", room.id}, {"from", *sender}, {"date", now_date()}, {"text", text}};
  if (to || tos) {
    std::vector<std::string> targets = tos ? *tos : std::vector<std::string>{*to};
    event["whisper"] = true;
    std::string whisper = serialize(event);
    size_t delivered = 0;
    for (const std::string& name : targets) {
      auto it = room.participants.find(name);
      if (it == room.participants.end()) continue;
      sends.emplace_back(it->second.handle, whisper);
      ++delivered;
    }
    if (delivered == 0) throw RequestError(kNoSuchUser, "No such user in room");
  } else {
    // Public: everyone, the sender included (as Janus does).
    std::string message = serialize(event);
    broadcast(room, message, sends);
    if (room.history_size > 0) {
      room.history.push_back(message);
      while (room.history.size() > static_cast<size_t>(room.history_size)) room.history.pop_front();
    }
  }
  return ack ? json{{"textroom", "success"}} : json(nullptr);
}

std::vector<std::pair<HandleId, std::string>> Rooms::forget(HandleId handle) {
  Sends sends;
  std::lock_guard lock(mutex_);
  for (auto& [id, room] : rooms_) {
    std::string username;
    for (const auto& [name, p] : room.participants)
      if (p.handle == handle) username = name;
    if (!username.empty()) leave_room(room, username, sends);
  }
  return sends;
}

json Rooms::list_json() {
  std::lock_guard lock(mutex_);
  return list();
}

std::size_t Rooms::room_count() {
  std::lock_guard lock(mutex_);
  return rooms_.size();
}

}  // namespace junction::textroom
