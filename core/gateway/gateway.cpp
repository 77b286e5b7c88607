#include "core/gateway/gateway.h"

#include "core/base/ids.h"
#include "core/base/log.h"
#include "signaling/api_error.h"
#include "signaling/api_message.h"

namespace junction::gateway {

using signaling::ApiError;
using signaling::ApiException;
using nlohmann::json;

namespace {
auto& logger() {
  static auto l = log::get("core");
  return l;
}
}  // namespace

namespace {

transports::IceConfig ice_config(const Config& config) {
  transports::IceConfig ice;
  ice.local_addresses = config.ice_addresses;
  // Bound to one address: gather there (libnice does not enumerate loopback by itself). Bound to
  // every address: let libnice enumerate the interfaces.
  if (ice.local_addresses.empty() && config.bind != "0.0.0.0" && config.bind != "::")
    ice.local_addresses.push_back(config.bind);
  ice.port_min = static_cast<uint16_t>(config.rtp_port_min);
  ice.port_max = static_cast<uint16_t>(config.rtp_port_max);
  if (auto colon = config.stun_server.rfind(':'); colon != std::string::npos) {
    ice.stun_server = config.stun_server.substr(0, colon);
    ice.stun_port = static_cast<uint16_t>(std::stoi(config.stun_server.substr(colon + 1)));
  }
  ice.nat_1_1 = config.nat_1_1_mapping;
  ice.ice_lite = config.ice_lite;
  return ice;
}

}  // namespace

Gateway::Gateway(uv_loop_t* loop, const Config& config)
    : loop_(loop),
      config_(config),
      auth_(config.api_secret, config.token_auth, config.admin_secret),
      wake_(loop, [this] { drain_deferred(); }), sweep_timer_(loop) {
  certificate_ = config.dtls_certificate.empty()
                     ? transports::DtlsCertificate::generate()
                     : transports::DtlsCertificate::load(config.dtls_certificate, config.dtls_private_key);
  pc_config_.certificate = certificate_;
  pc_config_.ice = ice_config(config);
  pc_config_.consent_timeout = std::chrono::seconds(config.ice_consent_timeout);
  pc_config_.no_media_timeout = std::chrono::seconds(config.no_media_timer);
  pc_config_.slowlink_threshold = config.slowlink_threshold;
  if (!config.event_push_url.empty())
    events_ = std::make_unique<EventPusher>(EventPusher::Options{config.event_push_url, config.server_name});
  workers_ = std::make_unique<transports::MediaWorkers>(std::max(1, config.media_workers));
  logger()->info("{} media worker(s); DTLS fingerprint sha-256 {}", workers_->size(), certificate_->fingerprint_sha256());
  sweep_timer_.start(250, 250, [this] { sweep(); });
}

Gateway::~Gateway() { shutdown(); }

Session* Gateway::find_session(uint64_t id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second.get();
}

Session& Gateway::create_session(uint64_t requested_id,
                                 std::shared_ptr<signaling::ClientConnection> connection) {
  if (shutting_down_)
    throw ApiException(ApiError::kNotAcceptingSessions, "The server is shutting down");
  if (!accepting_) throw ApiException(ApiError::kNotAcceptingSessions, "Currently not accepting new sessions");
  if (config_.max_sessions > 0 && sessions_.size() >= static_cast<std::size_t>(config_.max_sessions))
    throw ApiException(ApiError::kNotAcceptingSessions,
                       "Session limit reached (max_sessions = " + std::to_string(config_.max_sessions) + ")");
  uint64_t id = requested_id;
  if (id != 0) {
    if (sessions_.count(id) != 0) throw ApiException(ApiError::kSessionConflict, "Session ID already in use");
  } else {
    do id = random_id();
    while (sessions_.count(id) != 0);
  }
  auto session = std::make_unique<Session>();
  session->id = id;
  session->created = session->last_activity = Clock::now();
  Session& ref = *session;
  sessions_.emplace(id, std::move(session));
  ++counts_.sessions_created;
  if (events_) ref.observer = this;
  rebind(ref, std::move(connection));
  publish(EventType::kSession, ref, 0, {{"name", "created"}});
  logger()->info("session {} created ({})", id, ref.connection ? ref.connection->describe() : "-");
  return ref;
}

void Gateway::rebind(Session& session, std::shared_ptr<signaling::ClientConnection> connection) {
  if (session.connection) session.connection->unbind(session.id);
  session.connection = std::move(connection);
  if (session.connection) session.connection->bind(session.id);
  else session.orphaned_since = Clock::now();
}

void Gateway::destroy_session(uint64_t id, std::string_view why, bool notify_handles) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  Session& session = *it->second;
  std::vector<uint64_t> handle_ids;
  for (auto& [handle_id, handle] : session.handles) handle_ids.push_back(handle_id);
  for (uint64_t handle_id : handle_ids) detach(session, handle_id, notify_handles);
  if (session.connection) session.connection->unbind(id);
  publish(EventType::kSession, session, 0, {{"name", "destroyed"}, {"reason", std::string(why)}});
  sessions_.erase(it);
  ++counts_.sessions_destroyed;
  logger()->info("session {} destroyed ({})", id, why);
}

Handle& Gateway::attach(Session& session, std::string_view package, std::string opaque_id) {
  LoadedPlugin* plugin = plugins_.find(package);
  if (plugin == nullptr)
    throw ApiException(ApiError::kPluginNotFound, "No such plugin '" + std::string(package) + "'");
  uint64_t id;
  do id = random_id();
  while (handle_sessions_.count(id) != 0);
  try {
    plugin->instance->create_session(id);
  } catch (const std::exception& e) {
    throw ApiException(ApiError::kPluginAttach, std::string("Couldn't attach to plugin: ") + e.what());
  }
  auto handle = std::make_unique<Handle>();
  handle->id = id;
  handle->session_id = session.id;
  handle->plugin = plugin;
  handle->opaque_id = std::move(opaque_id);
  Handle& ref = *handle;
  session.handles.emplace(id, std::move(handle));
  handle_sessions_.emplace(id, session.id);
  ++counts_.handles_attached;
  publish(EventType::kHandle, session, id, {{"name", "attached"}, {"plugin", std::string(package)}});
  logger()->debug("handle {} attached to {} in session {}", id, package, session.id);
  return ref;
}

void Gateway::detach(Session& session, uint64_t handle_id, bool notify) {
  auto it = session.handles.find(handle_id);
  if (it == session.handles.end()) return;
  hangup(session, *it->second, "Detach", it->second->webrtc_up && notify);
  std::unique_ptr<Handle> handle = std::move(it->second);
  session.handles.erase(it);
  handle_sessions_.erase(handle_id);
  ++counts_.handles_detached;
  if (events_) {
    json event = {{"name", "detached"}, {"plugin", handle->plugin->info.package}};
    if (!handle->opaque_id.empty()) event["opaque_id"] = handle->opaque_id;
    publish(EventType::kHandle, session, handle_id, std::move(event));
  }
  try {
    handle->plugin->instance->destroy_session(handle_id);
  } catch (const std::exception& e) {
    logger()->error("{}: destroy_session({}) failed: {}", handle->plugin->info.package, handle_id, e.what());
  }
  if (notify && session.connection) {
    json event = signaling::make_reply("detached", {}, session.id);
    event["sender"] = handle_id;
    if (shutting_down_) {
      session.send(event);
    } else {
      post([connection = session.connection, event = std::move(event)] { connection->send_event(event); });
    }
  }
  logger()->debug("handle {} detached from session {}", handle_id, session.id);
}

void Gateway::shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  drain_deferred();  // events already produced still reach their clients
  std::vector<uint64_t> ids;
  for (auto& [id, session] : sessions_) ids.push_back(id);
  for (uint64_t id : ids) destroy_session(id, "server shutting down", /*notify_handles=*/true);
  plugins_.shutdown_all();
  timers_.clear();
  sweep_timer_.stop();
  // The wake-up handle stays usable but no longer keeps the loop alive, so the server's final
  // turns of the loop end as soon as the transports have closed.
  uv_unref(reinterpret_cast<uv_handle_t*>(wake_.get()));
}

void Gateway::sweep() {
  auto now = Clock::now();
  std::vector<uint64_t> expired, unclaimed;
  for (auto& [id, session] : sessions_) {
    if (!session->connection) {
      if (now - session->orphaned_since >= std::chrono::seconds(config_.reclaim_session_timeout))
        unclaimed.push_back(id);
    } else {
      int timeout = session->timeout >= 0 ? session->timeout : config_.session_timeout;
      if (timeout > 0 && now - session->last_activity >= std::chrono::seconds(timeout)) expired.push_back(id);
    }
  }
  for (uint64_t id : expired) {
    Session& session = *sessions_.at(id);
    int timeout = session.timeout >= 0 ? session.timeout : config_.session_timeout;
    session.send(signaling::make_reply("timeout", {}, id));
    ++counts_.sessions_timed_out;
    destroy_session(id, "timed out after " + std::to_string(timeout) + " s without requests");
  }
  for (uint64_t id : unclaimed) destroy_session(id, "not claimed after its connection closed");
}

// --- event push ---

void Gateway::publish(EventType type, const Session& session, uint64_t handle_id, json event) {
  if (!events_) return;
  std::string opaque_id;
  if (auto it = session.handles.find(handle_id); it != session.handles.end()) opaque_id = it->second->opaque_id;
  if (opaque_id.empty() && event.contains("opaque_id")) opaque_id = event["opaque_id"].get<std::string>();
  event.erase("opaque_id");
  events_->publish(type, session.id, handle_id, opaque_id, std::move(event));
}

// What the client is told, as Janus's event handlers report it.
void Gateway::on_client_event(const Session& session, const json& event) {
  const std::string janus = event.value("janus", "");
  uint64_t handle_id = event.value("sender", uint64_t{0});
  if (janus == "webrtcup") {
    publish(EventType::kWebrtc, session, handle_id, {{"connection", "webrtcup"}});
  } else if (janus == "hangup") {
    publish(EventType::kWebrtc, session, handle_id, {{"connection", "hangup"}, {"reason", event.value("reason", "")}});
  } else if (janus == "media" || janus == "slowlink") {
    json e = event;
    for (const char* envelope : {"janus", "session_id", "sender", "transaction"}) e.erase(envelope);
    e["name"] = janus;
    publish(EventType::kMedia, session, handle_id, std::move(e));
  } else if (janus == "event") {
    json e = {{"plugin", event["plugindata"].value("plugin", "")}, {"data", event["plugindata"]["data"]}};
    publish(EventType::kPlugin, session, handle_id, std::move(e));
    if (event.contains("jsep"))
      publish(EventType::kJsep, session, handle_id, {{"owner", "local"}, {"jsep", {{"type", event["jsep"].value("type", "")}}}});
  } else if (janus == "timeout") {
    publish(EventType::kSession, session, 0, {{"name", "timeout"}});
  }
}

// --- PeerConnection statistics ---

nlohmann::json Gateway::pc_stats(const Handle& handle) {
  if (!handle.pc || handle.worker == nullptr) return nullptr;
  std::shared_ptr<transports::PeerConnection> pc = handle.pc;
  json stats;
  handle.worker->run_sync([&] { stats = pc->stats(); });
  return stats;
}

std::vector<Gateway::PcStats> Gateway::all_pc_stats() {
  std::map<transports::MediaWorker*, std::vector<PcStats>> by_worker;
  for (auto& [session_id, session] : sessions_)
    for (auto& [handle_id, handle] : session->handles)
      if (handle->pc && handle->worker != nullptr)
        by_worker[handle->worker].push_back({handle_id, handle->worker->index(), handle->webrtc_up, handle->pc, nullptr});
  std::vector<PcStats> out;
  for (auto& entry_of_worker : by_worker) {
    // Not a structured binding: clang before 16 (the fuzz build's) cannot capture one.
    std::vector<PcStats>& list = entry_of_worker.second;
    entry_of_worker.first->run_sync([&list] {
      for (PcStats& entry : list) entry.stats = entry.pc->stats();
    });
    for (PcStats& entry : list) out.push_back(std::move(entry));
  }
  return out;
}

std::size_t Gateway::media_worker_count() const { return workers_ ? workers_->size() : 0; }

std::vector<transports::ForwardingLatency::Snapshot> Gateway::forwarding_latency() const {
  std::vector<transports::ForwardingLatency::Snapshot> out;
  for (std::size_t i = 0; i < media_worker_count(); ++i) out.push_back(workers_->at(i).forwarding_latency().snapshot());
  return out;
}

// --- plugin services ---

void Gateway::push_event(plugin::HandleId handle, std::string_view transaction, json data, json jsep) {
  {
    std::lock_guard lock(deferred_mutex_);
    deferred_.push_back({Deferred::Kind::kEvent, handle, std::string(transaction), std::move(data), std::move(jsep), {}});
  }
  wake_.send();
}

void Gateway::post(std::function<void()> work) {
  {
    std::lock_guard lock(deferred_mutex_);
    deferred_.push_back({Deferred::Kind::kCall, 0, {}, nullptr, nullptr, std::move(work)});
  }
  wake_.send();
}

void Gateway::end_session(plugin::HandleId handle) {
  {
    std::lock_guard lock(deferred_mutex_);
    deferred_.push_back({Deferred::Kind::kEndSession, handle, {}, nullptr, nullptr, {}});
  }
  wake_.send();
}

void Gateway::drain_deferred() {
  std::deque<Deferred> batch;
  {
    std::lock_guard lock(deferred_mutex_);
    batch.swap(deferred_);
  }
  for (Deferred& item : batch) {
    if (item.kind == Deferred::Kind::kCall) {
      item.call();
      continue;
    }
    auto owner = handle_sessions_.find(item.handle);
    if (owner == handle_sessions_.end()) continue;  // the handle went away meanwhile
    Session& session = *sessions_.at(owner->second);
    Handle& handle = *session.handles.at(item.handle);
    if (item.kind == Deferred::Kind::kEndSession) {
      detach(session, item.handle, /*notify=*/true);
      continue;
    }
    json event = signaling::make_reply("event", item.transaction, session.id);
    event["sender"] = item.handle;
    event["plugindata"] = {{"plugin", handle.plugin->info.package}, {"data", std::move(item.data)}};
    if (!item.jsep.is_null()) {
      json jsep = complete_local_jsep(session, handle, item.jsep);
      if (!jsep.is_null()) event["jsep"] = std::move(jsep);
    }
    session.send(event);
  }
}

plugin::TimerId Gateway::start_timer(std::chrono::milliseconds delay, bool repeat,
                                     std::function<void()> callback) {
  plugin::TimerId id = next_timer_++;
  auto timer = std::make_unique<UvTimer>(loop_);
  auto ms = static_cast<uint64_t>(std::max<int64_t>(delay.count(), 1));
  timer->start(ms, repeat ? ms : 0, [this, id, repeat, callback = std::move(callback)] {
    if (!repeat) timers_.erase(id);  // safe: UvTimer runs a copy of this callback
    callback();
  });
  timers_.emplace(id, std::move(timer));
  return id;
}

void Gateway::cancel_timer(plugin::TimerId timer) { timers_.erase(timer); }

namespace {
spdlog::level::level_enum to_spdlog(plugin::LogLevel level) {
  switch (level) {
    case plugin::LogLevel::kTrace: return spdlog::level::trace;
    case plugin::LogLevel::kDebug: return spdlog::level::debug;
    case plugin::LogLevel::kInfo: return spdlog::level::info;
    case plugin::LogLevel::kWarn: return spdlog::level::warn;
    case plugin::LogLevel::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}
}  // namespace

void Gateway::log(plugin::LogLevel level, std::string_view message) {
  static auto plugin_logger = log::get("plugin");
  plugin_logger->log(to_spdlog(level), "{}", message);
}

bool Gateway::log_enabled(plugin::LogLevel level) const {
  return log::level() <= to_spdlog(level);
}

}  // namespace junction::gateway
