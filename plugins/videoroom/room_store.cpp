#include "plugins/videoroom/room_store.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/base/atomic_file.h"

namespace junction::videoroom {

using json = nlohmann::json;

void RoomStore::open(std::string path, plugin::Services& services) {
  path_ = std::move(path);
  rooms_.clear();
  remove_leftover_temporaries(path_);
  std::ifstream in(path_);
  if (!in) return;  // no permanent room yet
  std::stringstream text;
  text << in.rdbuf();
  json list = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!list.is_array()) {
    std::string aside = path_ + ".corrupt";
    std::rename(path_.c_str(), aside.c_str());
    services.log(plugin::LogLevel::kError, "videoroom: " + path_ + " is not a JSON array of rooms; moved to " + aside +
                                               ", starting without its rooms");
    return;
  }
  for (const json& body : list) {
    auto room = body.is_object() ? body.find("room") : body.end();
    if (room == body.end() || !room->is_number_unsigned() || room->get<uint64_t>() == 0) {
      services.log(plugin::LogLevel::kWarn, "videoroom: " + path_ + ": an entry without a valid \"room\" was skipped");
      continue;
    }
    rooms_[room->get<uint64_t>()] = body;
  }
}

void RoomStore::write(const std::map<uint64_t, json>& rooms) const {
  json list = json::array();
  for (const auto& [id, body] : rooms) list.push_back(body);
  write_file_atomically(path_, list.dump(2) + "\n");
}

void RoomStore::put(uint64_t room, json create_body) {
  auto next = rooms_;
  next[room] = std::move(create_body);
  write(next);
  rooms_ = std::move(next);
}

void RoomStore::erase(uint64_t room) {
  if (rooms_.count(room) == 0) return;
  auto next = rooms_;
  next.erase(room);
  write(next);
  rooms_ = std::move(next);
}

}  // namespace junction::videoroom
