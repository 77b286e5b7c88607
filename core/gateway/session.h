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
#include "transports/media_worker.h"
#include "transports/peer_connection.h"

namespace junction::gateway {

using Clock = std::chrono::steady_clock;

struct Handle {
  uint64_t id = 0;
  uint64_t session_id = 0;
  Clock::time_point created = Clock::now();
  LoadedPlugin* plugin = nullptr;
  std::string opaque_id;
  // Trickled candidates that arrived before there was a PeerConnection to give them to.
  std::vector<nlohmann::json> pending_trickles;

  // WebRTC, as the control loop sees it. The PeerConnection lives on `worker`: every call on it
  // is posted there; the shared_ptr's deleter also runs there.
  std::shared_ptr<transports::PeerConnection> pc;
  transports::MediaWorker* worker = nullptr;
  bool remote_set = false;     // the peer's SDP is applied: candidates go straight to ICE
  bool local_sent = false;     // our SDP reached the client: new local candidates are trickled
  bool offer_pending = false;  // we sent an offer and wait for the answer
  bool webrtc_up = false;      // DTLS done (`webrtcup` sent)
  std::vector<std::string> mids;  // of our last SDP, by m-line index
  std::string transport_mid;      // the m-line carrying the bundle (where candidates belong)
};

struct Session;

// Sees every event a session sends its client (for event push). Control loop.
class SessionObserver {
 public:
  virtual void on_client_event(const Session& session, const nlohmann::json& event) = 0;

 protected:
  ~SessionObserver() = default;
};

struct Session {
  uint64_t id = 0;
  Clock::time_point created;
  Clock::time_point last_activity;
  int timeout = -1;  // seconds without requests before it expires; -1: the global session_timeout
  // Where events go. Null while the session waits to be claimed after its connection closed.
  std::shared_ptr<signaling::ClientConnection> connection;
  Clock::time_point orphaned_since;
  std::unordered_map<uint64_t, std::unique_ptr<Handle>> handles;

  SessionObserver* observer = nullptr;  // null: nobody watches (event push off)

  void send(const nlohmann::json& event) const {
    if (observer != nullptr) observer->on_client_event(*this, event);
    if (connection) connection->send_event(event);
  }
};

}  // namespace junction::gateway
