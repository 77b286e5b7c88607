#pragma once
// Where a session's asynchronous events go: a WebSocket, or an HTTP session's long-poll queue.
// Lives on the control loop; every member is called from it.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>

namespace junction::signaling {

class ClientConnection : public std::enable_shared_from_this<ClientConnection> {
 public:
  virtual ~ClientConnection() = default;

  // Queues one event for the client. Dropped (and counted by the transport) once closed.
  virtual void send_event(const nlohmann::json& event) = 0;
  virtual bool is_open() const = 0;
  // For log lines: "ws#3 127.0.0.1:40404", "http session 1234".
  virtual std::string describe() const = 0;

  // The sessions whose events currently go here; kept by the gateway through bind/unbind.
  const std::unordered_set<uint64_t>& sessions() const { return sessions_; }
  void bind(uint64_t session_id) {
    sessions_.insert(session_id);
    on_bound(session_id);
  }
  void unbind(uint64_t session_id) {
    if (sessions_.erase(session_id) != 0) on_unbound(session_id);
  }

 protected:
  virtual void on_bound(uint64_t /*session_id*/) {}
  virtual void on_unbound(uint64_t /*session_id*/) {}

 private:
  std::unordered_set<uint64_t> sessions_;
};

}  // namespace junction::signaling
