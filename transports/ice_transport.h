#pragma once
// ICE on libnice: one stream, one component (BUNDLE + rtcp-mux put everything on one 5-tuple).
// Lives on one media worker: construct, call and destroy it on that worker's thread; every
// callback also arrives there.
#include <nice/agent.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace junction::transports {

struct IceConfig {
  // Addresses to gather host candidates on. Empty: let libnice enumerate the interfaces (it
  // skips loopback, so a server bound to 127.0.0.1 passes "127.0.0.1" here).
  std::vector<std::string> local_addresses;
  uint16_t port_min = 0, port_max = 0;  // 0: any port
  std::string stun_server;              // host or address, for server-reflexive candidates
  uint16_t stun_port = 3478;
  std::string nat_1_1;                  // public address to advertise instead of host addresses
  bool ice_lite = false;
};

class IceTransport {
 public:
  enum class State { kNew, kChecking, kConnected, kFailed, kClosed };
  struct Callbacks {
    std::function<void(const std::string& candidate)> on_candidate;  // "candidate:..." (no a=)
    std::function<void()> on_gathering_done;
    std::function<void(State)> on_state;
    std::function<void(std::span<const uint8_t>)> on_packet;  // every datagram from the peer
  };

  IceTransport(GMainContext* context, const IceConfig& config, bool controlling, Callbacks callbacks);
  ~IceTransport();
  IceTransport(const IceTransport&) = delete;
  IceTransport& operator=(const IceTransport&) = delete;

  // Starts gathering; candidates arrive through on_candidate. False if libnice refused.
  bool gather();
  const std::string& local_ufrag() const { return local_ufrag_; }
  const std::string& local_pwd() const { return local_pwd_; }

  bool set_remote_credentials(const std::string& ufrag, const std::string& pwd);
  // Accepts "candidate:..." or "a=candidate:...". False when it cannot be used (unparseable,
  // an mDNS name, TCP); that is not an error for the session.
  bool add_remote_candidate(std::string_view candidate);
  void remote_gathering_done();

  // Sends one datagram on the selected pair. False if there is none yet or the send failed.
  bool send(std::span<const uint8_t> datagram);

  State state() const { return state_; }
  // "127.0.0.1:5000 <-> 127.0.0.1:6000 (host/prflx)" once a pair is selected.
  const std::string& selected_pair() const { return selected_pair_; }
  const std::vector<std::string>& local_candidates() const { return local_candidates_; }
  const std::vector<std::string>& remote_candidates() const { return remote_candidates_; }

 private:
  static void on_new_candidate(NiceAgent*, NiceCandidate*, gpointer self);
  static void on_gathering_done(NiceAgent*, guint stream, gpointer self);
  static void on_component_state(NiceAgent*, guint stream, guint component, guint state, gpointer self);
  static void on_selected_pair(NiceAgent*, guint stream, guint component, NiceCandidate* local,
                               NiceCandidate* remote, gpointer self);
  static void on_receive(NiceAgent*, guint stream, guint component, guint length, gchar* data, gpointer self);
  void set_state(State state);
  void use_selected_socket(const NiceCandidate* remote);
  void drop_selected_socket();

  NiceAgent* agent_ = nullptr;
  guint stream_ = 0;
  GMainContext* context_;
  IceConfig config_;
  Callbacks callbacks_;
  State state_ = State::kNew;
  std::string local_ufrag_, local_pwd_;
  std::string selected_pair_;
  std::vector<std::string> local_candidates_, remote_candidates_;
  bool credentials_set_ = false;
  // Media goes straight to the selected pair's UDP socket (sendto) instead of through
  // nice_agent_send, which costs an agent lock and GIO/GObject wrappers per packet. libnice keeps
  // the socket, reading from it and running ICE over it; null with a relayed or TCP pair, which
  // stay on nice_agent_send.
  GSocket* selected_socket_ = nullptr;
  int selected_fd_ = -1;
  sockaddr_storage selected_remote_{};
  socklen_t selected_remote_length_ = 0;
};

std::string_view to_string(IceTransport::State state);

}  // namespace junction::transports
