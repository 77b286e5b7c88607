#pragma once
// The handle -> room lookups every room plugin makes on its control loop. `handles` maps a handle
// to its state, whose `room` member is the room id (0: in no room); `rooms` maps ids to rooms.
#include <cstdint>

#include "core/gateway/plugin.h"

namespace junction::plugins {

// The handle's room (null if it is in none, or the room is gone); `state` gets the handle's state
// when the handle is known.
template <typename Handles, typename Rooms>
typename Rooms::mapped_type* room_of_handle(Handles& handles, Rooms& rooms, plugin::HandleId handle,
                                            typename Handles::mapped_type** state) {
  auto it = handles.find(handle);
  if (it == handles.end()) return nullptr;
  if (state != nullptr) *state = &it->second;
  auto room = rooms.find(it->second.room);
  return room == rooms.end() ? nullptr : &room->second;
}

// The media affinity of a room plugin's handle: its room, so that a room's PeerConnections share
// one media worker; a handle in no room keeps its own.
template <typename Handles>
uint64_t room_affinity(const Handles& handles, plugin::HandleId handle) {
  auto it = handles.find(handle);
  return it != handles.end() && it->second.room != 0 ? it->second.room : handle;
}

// For an offer that comes with a message: a handle in no room yet goes where the `room` of the
// message (a join) will put it.
template <typename Handles>
uint64_t room_affinity_for(const Handles& handles, plugin::HandleId handle, const nlohmann::json& body) {
  auto it = handles.find(handle);
  if (it != handles.end() && it->second.room != 0) return it->second.room;
  auto room = body.find("room");
  return room != body.end() && room->is_number_unsigned() && room->template get<uint64_t>() != 0
             ? room->template get<uint64_t>() : handle;
}

}  // namespace junction::plugins
