#include "core/gateway/admin_router.h"

#include "core/base/log.h"

namespace junction::gateway {

using nlohmann::json;
using signaling::ApiError;
using signaling::ApiException;
using signaling::make_reply;
using signaling::Request;

namespace {

auto& logger() {
  static auto l = log::get("admin");
  return l;
}

[[noreturn]] void missing(const char* field) {
  throw ApiException(ApiError::kMissingMandatoryElement, std::string("Missing mandatory element (") + field + ")");
}
[[noreturn]] void wrong_type(const char* field, const char* expected) {
  throw ApiException(ApiError::kInvalidElementType,
                     std::string("Invalid element type (") + field + " should be " + expected + ")");
}
[[noreturn]] void wrong_path(const std::string& verb) {
  throw ApiException(ApiError::kInvalidRequestPath, "Unhandled request '" + verb + "' at this path");
}

const json& required(const json& message, const char* field) {
  auto it = message.find(field);
  if (it == message.end()) missing(field);
  return *it;
}

std::vector<std::string> string_list(const json& message, const char* field) {
  const json& list = required(message, field);
  if (!list.is_array()) wrong_type(field, "an array of strings");
  std::vector<std::string> out;
  for (const json& item : list) {
    if (!item.is_string()) wrong_type(field, "an array of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

json success(const Request& request, uint64_t session_id = 0) {
  return make_reply("success", request.transaction, session_id);
}

// Janus's numeric log levels (0 none ... 7 debug) and our level names.
std::optional<spdlog::level::level_enum> parse_log_level(const json& value) {
  if (value.is_string()) return log::parse_level(value.get<std::string>());
  if (!value.is_number_integer()) return std::nullopt;
  static const spdlog::level::level_enum janus[] = {spdlog::level::off,  spdlog::level::critical,
                                                    spdlog::level::err,  spdlog::level::warn,
                                                    spdlog::level::info, spdlog::level::debug,
                                                    spdlog::level::debug, spdlog::level::trace};
  int64_t n = value.get<int64_t>();
  if (n < 0 || n > 7) return std::nullopt;
  return janus[n];
}

// Microseconds between two steady-clock points, for `handle_info` ages.
int64_t micros(Clock::duration d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); }

json timeout_value(const json& message) {
  const json& timeout = required(message, "timeout");
  if (!timeout.is_number_integer() || timeout.get<int64_t>() < -1 || timeout.get<int64_t>() > 86400)
    wrong_type("timeout", "an integer from 0 to 86400 (-1 for a session: the global timeout)");
  return timeout;
}

}  // namespace

json AdminRouter::handle_admin_request(const Request& request) {
  if (request.verb == "info") return api_.server_info(request.transaction);
  if (request.verb == "ping") return make_reply("pong", request.transaction);
  gateway_.auth().check_admin(request.message);
  if (request.session_id == 0) return root_request(request);
  Session* session = gateway_.find_session(request.session_id);
  if (session == nullptr)
    throw ApiException(ApiError::kSessionNotFound, "No such session " + std::to_string(request.session_id));
  if (request.handle_id == 0) return session_request(request, *session);
  auto it = session->handles.find(request.handle_id);
  if (it == session->handles.end())
    throw ApiException(ApiError::kHandleNotFound, "No such handle " + std::to_string(request.handle_id) +
                                                      " in session " + std::to_string(request.session_id));
  return handle_request(request, *session, *it->second);
}

json AdminRouter::root_request(const Request& request) {
  const std::string& verb = request.verb;
  const json& message = request.message;
  if (verb == "get_status") {
    json reply = success(request);
    const Config& config = gateway_.config();
    reply["status"] = {{"token_auth", gateway_.auth().token_auth_enabled()},
                       {"api_secret", gateway_.auth().api_secret_enabled()},
                       {"session_timeout", config.session_timeout},
                       {"reclaim_session_timeout", config.reclaim_session_timeout},
                       {"log_level", std::string(log::level_name(log::level()))},
                       {"no_media_timer", config.no_media_timer},
                       {"slowlink_threshold", config.slowlink_threshold},
                       {"accepting_new_sessions", gateway_.accepting_new_sessions()},
                       {"sessions", gateway_.session_count()},
                       {"media_workers", gateway_.media_worker_count()}};
    return reply;
  }
  if (verb == "list_sessions") {
    json ids = json::array();
    for (auto& [id, session] : gateway_.sessions()) ids.push_back(id);
    json reply = success(request);
    reply["sessions"] = std::move(ids);
    return reply;
  }
  if (verb == "set_session_timeout") {
    json timeout = timeout_value(message);
    if (timeout.get<int64_t>() < 0) wrong_type("timeout", "an integer from 0 to 86400");
    gateway_.set_session_timeout(timeout.get<int>());
    logger()->info("global session timeout set to {} s", timeout.get<int>());
    json reply = success(request);
    reply["timeout"] = timeout;
    return reply;
  }
  if (verb == "set_log_level") {
    const json& level = required(message, "level");
    auto parsed = parse_log_level(level);
    if (!parsed) wrong_type("level", "0 to 7 or one of trace, debug, info, warn, error, critical, off");
    log::set_level(*parsed);
    logger()->info("log level set to {}", log::level_name(*parsed));
    json reply = success(request);
    reply["level"] = level;
    reply["level_name"] = log::level_name(*parsed);
    return reply;
  }
  if (verb == "accept_new_sessions") {
    const json& accept = required(message, "accept");
    if (!accept.is_boolean()) wrong_type("accept", "a boolean");
    gateway_.set_accepting_new_sessions(accept.get<bool>());
    logger()->info("new sessions are {}", accept.get<bool>() ? "accepted" : "refused");
    json reply = success(request);
    reply["accept"] = accept;
    return reply;
  }
  if (verb == "message_plugin") {
    const json& package = required(message, "plugin");
    if (!package.is_string()) wrong_type("plugin", "a string");
    auto body = message.find("request");
    if (body == message.end()) missing("request");
    LoadedPlugin* plugin = gateway_.plugins().find(package.get_ref<const std::string&>());
    if (plugin == nullptr)
      throw ApiException(ApiError::kPluginNotFound, "No such plugin '" + package.get<std::string>() + "'");
    json response;
    try {
      response = plugin->instance->handle_admin_message(*body);
    } catch (const std::exception& e) {
      throw ApiException(ApiError::kPluginMessage, std::string("Error sending message to plugin: ") + e.what());
    }
    json reply = success(request);
    reply["response"] = std::move(response);
    return reply;
  }
  if (verb == "add_token" || verb == "list_tokens" || verb == "allow_token" || verb == "disallow_token" ||
      verb == "remove_token")
    return token_request(request);
  wrong_path(verb);
}

json AdminRouter::token_request(const Request& request) {
  const std::string& verb = request.verb;
  const json& message = request.message;
  Auth& auth = gateway_.auth();
  if (!auth.token_auth_enabled())
    throw ApiException(ApiError::kUnknown, "Stored-token authentication is disabled (token_auth is false)");
  TokenStore& tokens = auth.tokens();
  if (verb == "list_tokens") {
    json list = json::array();
    for (auto& [token, plugins] : tokens.all()) list.push_back({{"token", token}, {"allowed_plugins", plugins}});
    json reply = success(request);
    reply["data"] = {{"tokens", std::move(list)}};
    return reply;
  }
  const json& token_field = required(message, "token");
  if (!token_field.is_string() || token_field.get_ref<const std::string&>().empty())
    wrong_type("token", "a non-empty string");
  const std::string& token = token_field.get_ref<const std::string&>();
  // Every named plugin must exist before anything changes.
  auto plugin_names = [&](bool required_list) {
    std::vector<std::string> names;
    if (required_list || message.contains("plugins")) names = string_list(message, "plugins");
    for (const std::string& name : names)
      if (gateway_.plugins().find(name) == nullptr)
        throw ApiException(ApiError::kPluginNotFound, "No such plugin '" + name + "'");
    return names;
  };
  json reply = success(request);
  if (verb == "add_token") {
    std::vector<std::string> names = plugin_names(false);
    std::set<std::string> allowed(names.begin(), names.end());
    // No list: the token opens every plugin loaded now (as Janus does).
    if (!message.contains("plugins"))
      for (auto& [package, loaded] : gateway_.plugins().all()) allowed.insert(package);
    tokens.add(token, allowed);
    logger()->info("token added ({} plugin(s))", allowed.size());
    reply["data"] = {{"plugins", allowed}};
    return reply;
  }
  if (!tokens.contains(token)) throw ApiException(ApiError::kTokenNotFound, "Token not found");
  if (verb == "remove_token") {
    tokens.remove(token);
    logger()->info("token removed");
    return reply;
  }
  std::vector<std::string> names = plugin_names(true);
  if (verb == "allow_token") tokens.allow(token, names);
  else tokens.disallow(token, names);
  reply["data"] = {{"plugins", *tokens.plugins(token)}};
  return reply;
}

json AdminRouter::session_request(const Request& request, Session& session) {
  const std::string& verb = request.verb;
  if (verb == "list_handles") {
    json ids = json::array();
    for (auto& [id, handle] : session.handles) ids.push_back(id);
    json reply = success(request, session.id);
    reply["handles"] = std::move(ids);
    return reply;
  }
  if (verb == "destroy_session") {
    uint64_t id = session.id;
    json reply = success(request, id);
    gateway_.destroy_session(id, "admin request");
    return reply;
  }
  if (verb == "set_session_timeout") {
    json timeout = timeout_value(request.message);
    session.timeout = timeout.get<int>();
    json reply = success(request, session.id);
    reply["timeout"] = timeout;
    return reply;
  }
  wrong_path(verb);
}

json AdminRouter::handle_request(const Request& request, Session& session, Handle& handle) {
  const std::string& verb = request.verb;
  if (verb == "handle_info") return handle_info(request, session, handle);
  if (verb == "detach_handle") {
    uint64_t id = handle.id;
    gateway_.detach(session, id, /*notify=*/true);
    json reply = success(request, session.id);
    reply["handle_id"] = id;
    return reply;
  }
  if (verb == "hangup_webrtc") {
    gateway_.hangup(session, handle, "Admin API", /*notify=*/true);
    json reply = success(request, session.id);
    reply["handle_id"] = handle.id;
    return reply;
  }
  wrong_path(verb);
}

json AdminRouter::handle_info(const Request& request, Session& session, Handle& handle) {
  json plugin_specific;
  try {
    plugin_specific = handle.plugin->instance->query_session(handle.id);
  } catch (const std::exception& e) {
    plugin_specific = {{"error", e.what()}};
  }
  const json plugin_only = request.message.value("plugin_only", json(false));
  if (!plugin_only.is_boolean()) wrong_type("plugin_only", "a boolean");
  json info;
  if (plugin_only.get<bool>()) {
    info = {{"plugin", handle.plugin->info.package}, {"plugin_specific", std::move(plugin_specific)}};
  } else {
    auto now = Clock::now();
    int timeout = session.timeout >= 0 ? session.timeout : gateway_.config().session_timeout;
    info = {{"session_id", session.id},
            {"session_age_us", micros(now - session.created)},
            {"session_idle_us", micros(now - session.last_activity)},
            {"session_timeout", timeout},
            {"session_transport", session.connection ? session.connection->describe() : ""},
            {"handle_id", handle.id},
            {"handle_age_us", micros(now - handle.created)},
            {"opaque_id", handle.opaque_id},
            {"plugin", handle.plugin->info.package},
            {"plugin_specific", std::move(plugin_specific)},
            {"flags",
             {{"got_remote_description", handle.remote_set},
              {"sent_local_description", handle.local_sent},
              {"offer_pending", handle.offer_pending},
              {"webrtc_up", handle.webrtc_up}}},
            {"mids", handle.mids},
            {"media_worker", handle.worker != nullptr ? json(handle.worker->index()) : json(nullptr)},
            // ICE (state, candidates, selected pair), DTLS (state, role, SRTP profile), RTT,
            // per-stream and total RTP/RTCP counters; null without a PeerConnection.
            {"webrtc", gateway_.pc_stats(handle)}};
  }
  json reply = success(request, session.id);
  reply["handle_id"] = handle.id;
  reply["info"] = std::move(info);
  return reply;
}

}  // namespace junction::gateway
