#include "transports/ice_transport.h"

#include <netinet/in.h>

#include "core/base/log.h"
#include "transports/forwarding_latency.h"

namespace junction::transports {
namespace {

constexpr guint kComponent = 1;

auto& logger() {
  static auto l = log::get("ice");
  return l;
}

std::string describe(const NiceCandidate* c) {
  char address[NICE_ADDRESS_STRING_LEN] = {0};
  nice_address_to_string(&c->addr, address);
  static const char* types[] = {"host", "srflx", "prflx", "relay"};
  return std::string(address) + ":" + std::to_string(nice_address_get_port(&c->addr)) + " (" +
         (c->type <= NICE_CANDIDATE_TYPE_RELAYED ? types[c->type] : "?") + ")";
}

}  // namespace

std::string_view to_string(IceTransport::State state) {
  switch (state) {
    case IceTransport::State::kNew: return "new";
    case IceTransport::State::kChecking: return "checking";
    case IceTransport::State::kConnected: return "connected";
    case IceTransport::State::kFailed: return "failed";
    case IceTransport::State::kClosed: return "closed";
  }
  return "?";
}

IceTransport::IceTransport(GMainContext* context, const IceConfig& config, bool controlling,
                           Callbacks callbacks)
    : context_(context), config_(config), callbacks_(std::move(callbacks)) {
  auto options = static_cast<NiceAgentOption>(NICE_AGENT_OPTION_ICE_TRICKLE |
                                              NICE_AGENT_OPTION_CONSENT_FRESHNESS |
                                              (config.ice_lite ? NICE_AGENT_OPTION_LITE_MODE : 0));
  agent_ = nice_agent_new_full(context_, NICE_COMPATIBILITY_RFC5245, options);
  g_object_set(agent_, "controlling-mode", controlling ? TRUE : FALSE, "ice-tcp", FALSE, "ice-udp", TRUE,
               "upnp", FALSE, nullptr);
  if (!config.stun_server.empty())
    g_object_set(agent_, "stun-server", config.stun_server.c_str(), "stun-server-port",
                 static_cast<guint>(config.stun_port), nullptr);
  for (const std::string& text : config.local_addresses) {
    NiceAddress address;
    nice_address_init(&address);
    if (nice_address_set_from_string(&address, text.c_str()) && nice_agent_add_local_address(agent_, &address)) continue;
    logger()->warn("cannot gather on '{}' (not a local address)", text);
  }
  g_signal_connect(agent_, "new-candidate-full", G_CALLBACK(on_new_candidate), this);
  g_signal_connect(agent_, "candidate-gathering-done", G_CALLBACK(on_gathering_done), this);
  g_signal_connect(agent_, "component-state-changed", G_CALLBACK(on_component_state), this);
  g_signal_connect(agent_, "new-selected-pair-full", G_CALLBACK(on_selected_pair), this);

  stream_ = nice_agent_add_stream(agent_, 1);
  nice_agent_set_stream_name(agent_, stream_, "application");
  if (config.port_min != 0 || config.port_max != 0)
    nice_agent_set_port_range(agent_, stream_, kComponent, config.port_min, config.port_max);
  nice_agent_attach_recv(agent_, stream_, kComponent, context_, on_receive, this);

  gchar* ufrag = nullptr;
  gchar* pwd = nullptr;
  if (nice_agent_get_local_credentials(agent_, stream_, &ufrag, &pwd)) {
    local_ufrag_ = ufrag;
    local_pwd_ = pwd;
  }
  g_free(ufrag);
  g_free(pwd);
}

IceTransport::~IceTransport() {
  drop_selected_socket();
  if (agent_ == nullptr) return;
  nice_agent_attach_recv(agent_, stream_, kComponent, context_, nullptr, nullptr);
  g_signal_handlers_disconnect_by_data(agent_, this);
  nice_agent_remove_stream(agent_, stream_);
  // libnice finishes its own teardown (sockets, timers) on the context after the last unref.
  nice_agent_close_async(agent_, nullptr, nullptr);
  g_object_unref(agent_);
}

bool IceTransport::gather() {
  if (!nice_agent_gather_candidates(agent_, stream_)) {
    logger()->error("libnice refused to gather candidates");
    return false;
  }
  return true;
}

bool IceTransport::set_remote_credentials(const std::string& ufrag, const std::string& pwd) {
  credentials_set_ = nice_agent_set_remote_credentials(agent_, stream_, ufrag.c_str(), pwd.c_str());
  return credentials_set_;
}

bool IceTransport::add_remote_candidate(std::string_view candidate) {
  std::string line(candidate);
  if (line.rfind("a=", 0) != 0) line = "a=" + line;
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  NiceCandidate* parsed = nice_agent_parse_remote_candidate_sdp(agent_, stream_, line.c_str());
  if (parsed == nullptr) {
    logger()->debug("ignoring remote candidate '{}' (libnice cannot use it)", line);
    return false;
  }
  bool usable = parsed->transport == NICE_CANDIDATE_TRANSPORT_UDP && parsed->component_id == kComponent;
  if (usable) {
    GSList* list = g_slist_append(nullptr, parsed);
    usable = nice_agent_set_remote_candidates(agent_, stream_, kComponent, list) > 0;
    g_slist_free(list);
  }
  if (usable) remote_candidates_.push_back(line.substr(2));
  nice_candidate_free(parsed);
  return usable;
}

void IceTransport::remote_gathering_done() { nice_agent_peer_candidate_gathering_done(agent_, stream_); }

bool IceTransport::send(std::span<const uint8_t> datagram) {
  if (state_ != State::kConnected) return false;
  if (selected_fd_ >= 0)
    return sendto(selected_fd_, datagram.data(), datagram.size(), MSG_DONTWAIT,
                  reinterpret_cast<const sockaddr*>(&selected_remote_),
                  selected_remote_length_) == static_cast<ssize_t>(datagram.size());
  return nice_agent_send(agent_, stream_, kComponent, static_cast<guint>(datagram.size()),
                         reinterpret_cast<const gchar*>(datagram.data())) == static_cast<gint>(datagram.size());
}

void IceTransport::set_state(State state) {
  if (state == state_) return;
  state_ = state;
  if (callbacks_.on_state) callbacks_.on_state(state);
}

void IceTransport::on_new_candidate(NiceAgent* agent, NiceCandidate* candidate, gpointer data) {
  auto* self = static_cast<IceTransport*>(data);
  gchar* sdp = nice_agent_generate_local_candidate_sdp(agent, candidate);
  if (sdp == nullptr) return;
  std::string line = sdp;
  g_free(sdp);
  if (line.rfind("a=", 0) == 0) line.erase(0, 2);
  if (!self->config_.nat_1_1.empty() && candidate->type == NICE_CANDIDATE_TYPE_HOST) {
    // Advertise the public address in place of the host one (1:1 NAT): field 5 is the address.
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= line.size(); ++i)
      if (i == line.size() || line[i] == ' ') {
        fields.push_back(line.substr(start, i - start));
        start = i + 1;
      }
    if (fields.size() > 4) {
      fields[4] = self->config_.nat_1_1;
      line.clear();
      for (auto& f : fields) line += (line.empty() ? "" : " ") + f;
    }
  }
  self->local_candidates_.push_back(line);
  if (self->callbacks_.on_candidate) self->callbacks_.on_candidate(line);
}

void IceTransport::on_gathering_done(NiceAgent*, guint, gpointer data) {
  auto* self = static_cast<IceTransport*>(data);
  if (self->callbacks_.on_gathering_done) self->callbacks_.on_gathering_done();
}

void IceTransport::on_component_state(NiceAgent*, guint, guint, guint state, gpointer data) {
  auto* self = static_cast<IceTransport*>(data);
  switch (state) {
    case NICE_COMPONENT_STATE_CONNECTING: self->set_state(State::kChecking); break;
    case NICE_COMPONENT_STATE_CONNECTED:
    case NICE_COMPONENT_STATE_READY: self->set_state(State::kConnected); break;
    case NICE_COMPONENT_STATE_FAILED:
      self->drop_selected_socket();
      self->set_state(State::kFailed);
      break;
    default: break;
  }
}

void IceTransport::on_selected_pair(NiceAgent*, guint, guint, NiceCandidate* local, NiceCandidate* remote,
                                    gpointer data) {
  auto* self = static_cast<IceTransport*>(data);
  self->selected_pair_ = describe(local) + " <-> " + describe(remote);
  self->use_selected_socket(remote);
  logger()->debug("selected pair {}{}", self->selected_pair_, self->selected_fd_ >= 0 ? "" : " (sent through libnice)");
}

void IceTransport::use_selected_socket(const NiceCandidate* remote) {
  drop_selected_socket();
  if (remote->transport != NICE_CANDIDATE_TRANSPORT_UDP) return;
  GSocket* socket = nice_agent_get_selected_socket(agent_, stream_, kComponent);
  if (socket == nullptr) return;  // relayed: TURN framing is libnice's
  sockaddr_storage address{};
  nice_address_copy_to_sockaddr(&remote->addr, reinterpret_cast<sockaddr*>(&address));
  if (address.ss_family != AF_INET && address.ss_family != AF_INET6) {
    g_object_unref(socket);
    return;
  }
  selected_socket_ = socket;
  selected_fd_ = g_socket_get_fd(socket);
  selected_remote_ = address;
  selected_remote_length_ = address.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
}

void IceTransport::drop_selected_socket() {
  if (selected_socket_ != nullptr) g_object_unref(selected_socket_);
  selected_socket_ = nullptr;
  selected_fd_ = -1;
}

void IceTransport::on_receive(NiceAgent*, guint, guint, guint length, gchar* data, gpointer user) {
  auto* self = static_cast<IceTransport*>(user);
  if (!self->callbacks_.on_packet) return;
  ForwardingLatency::Datagram arrived(std::chrono::steady_clock::now());
  self->callbacks_.on_packet(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data), length));
}

}  // namespace junction::transports
