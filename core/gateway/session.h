#pragma once
// Sessions and handles: the objects the core API creates, finds and destroys. Owned by the
// Gateway and touched only on the control loop.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/gateway/plugin_host.h"
#include "signaling/client_connection.h"

namespace junction::gateway {

using Clock = std::chrono::steady_clock;

struct Handle {
  uint64_t id = 0;
  uint64_t session_id = 0;
  LoadedPlugin* plugin = nullptr;
  std::string opaque_id;
  // Trickled candidates that arrived before there was a PeerConnection to give them to.
  std::vector<nlohmann::json> pending_trickles;
};

struct Session {
  uint64_t id = 0;
  Clock::time_point last_activity;
  // Where events go. Null while the session waits to be claimed after its connection closed.
  std::shared_ptr<signaling::ClientConnection> connection;
  Clock::time_point orphaned_since;
  std::unordered_map<uint64_t, std::unique_ptr<Handle>> handles;

  void send(const nlohmann::json& event) const {
    if (connection) connection->send_event(event);
  }
};

}  // namespace junction::gateway
