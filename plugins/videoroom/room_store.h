#pragma once
// The rooms file: the permanent rooms (created or edited with "permanent": true) as a JSON array
// of `create` bodies, in the server's state_dir. It is rewritten whole and atomically on every
// change, so a crash or kill at any moment leaves either the old list or the new one.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>

#include "core/gateway/plugin.h"

namespace junction::videoroom {

class RoomStore {
 public:
  // Reads `path`. A file that is not a JSON array is renamed aside (`<path>.corrupt`) and logged,
  // so that the next save does not destroy what an operator may still want to recover.
  void open(std::string path, plugin::Services& services);

  // The stored `create` bodies, by room id.
  const std::map<uint64_t, nlohmann::json>& rooms() const { return rooms_; }

  // Stores (or replaces) one room, or forgets one, and rewrites the file. Throws
  // std::system_error when the file cannot be written; the stored list is then unchanged.
  void put(uint64_t room, nlohmann::json create_body);
  void erase(uint64_t room);

  const std::string& path() const { return path_; }

 private:
  void write(const std::map<uint64_t, nlohmann::json>& rooms) const;

  std::string path_;
  std::map<uint64_t, nlohmann::json> rooms_;
};

}  // namespace junction::videoroom
