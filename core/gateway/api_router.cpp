#include "core/gateway/api_router.h"

#include "core/base/log.h"
#include "core/base/version.h"

namespace junction::gateway {

using nlohmann::json;
using signaling::ApiError;
using signaling::ApiException;
using signaling::ClientConnection;
using signaling::make_reply;
using signaling::Request;

namespace {

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

bool is_session_verb(const std::string& verb) {
  return verb == "keepalive" || verb == "attach" || verb == "destroy" || verb == "claim";
}
bool is_handle_verb(const std::string& verb) {
  return verb == "detach" || verb == "hangup" || verb == "message" || verb == "trickle";
}

json success(const Request& request, uint64_t session_id) {
  return make_reply("success", request.transaction, session_id);
}

}  // namespace

json ApiRouter::handle_request(const Request& request, const std::shared_ptr<ClientConnection>& connection) {
  if (request.verb == "info") return server_info(request.transaction);
  if (request.verb == "ping") return make_reply("pong", request.transaction);
  // Before anything is looked up or changed: a refused request learns nothing and changes nothing.
  gateway_.auth().check_client(request.message);
  if (request.session_id == 0) return root_request(request, connection);

  Session* session = gateway_.find_session(request.session_id);
  if (session == nullptr)
    throw ApiException(ApiError::kSessionNotFound, "No such session " + std::to_string(request.session_id));
  session->last_activity = Clock::now();
  if (request.handle_id == 0) return session_request(request, *session, connection);

  auto it = session->handles.find(request.handle_id);
  if (it == session->handles.end())
    throw ApiException(ApiError::kHandleNotFound, "No such handle " + std::to_string(request.handle_id) +
                                                      " in session " + std::to_string(request.session_id));
  return handle_request(request, *session, *it->second);
}

json ApiRouter::root_request(const Request& request, const std::shared_ptr<ClientConnection>& connection) {
  if (request.verb != "create") wrong_path(request.verb);
  uint64_t wanted = 0;
  if (auto id = request.message.find("id"); id != request.message.end() && !id->is_null()) {
    if (!id->is_number_unsigned() || id->get<uint64_t>() == 0) wrong_type("id", "a positive integer");
    wanted = id->get<uint64_t>();
  }
  Session& session = gateway_.create_session(wanted, connection);
  json reply = success(request, 0);
  reply["data"] = {{"id", session.id}};
  return reply;
}

json ApiRouter::session_request(const Request& request, Session& session,
                                const std::shared_ptr<ClientConnection>& connection) {
  const std::string& verb = request.verb;
  if (verb == "keepalive") return make_reply("ack", request.transaction, session.id);
  if (verb == "attach") {
    auto plugin = request.message.find("plugin");
    if (plugin == request.message.end()) missing("plugin");
    if (!plugin->is_string()) wrong_type("plugin", "a string");
    std::string opaque_id;
    if (auto opaque = request.message.find("opaque_id"); opaque != request.message.end() && !opaque->is_null()) {
      if (!opaque->is_string()) wrong_type("opaque_id", "a string");
      opaque_id = opaque->get<std::string>();
    }
    // An unknown plugin is 460 whoever asks; a known one may be closed to the caller's token (405).
    if (gateway_.plugins().find(plugin->get_ref<const std::string&>()) != nullptr)
      gateway_.auth().check_plugin(request.message, plugin->get_ref<const std::string&>());
    Handle& handle = gateway_.attach(session, plugin->get<std::string>(), std::move(opaque_id));
    json reply = success(request, session.id);
    reply["data"] = {{"id", handle.id}};
    return reply;
  }
  if (verb == "destroy") {
    uint64_t id = session.id;
    json reply = success(request, id);
    gateway_.destroy_session(id, "destroy request");
    return reply;
  }
  if (verb == "claim") {
    gateway_.rebind(session, connection);
    log::get("core")->info("session {} claimed by {}", session.id, connection->describe());
    return success(request, session.id);
  }
  if (is_handle_verb(verb)) wrong_path(verb);
  if (verb == "create") wrong_path(verb);
  throw ApiException(ApiError::kUnknownRequest, "Unknown request '" + verb + "'");
}

json ApiRouter::handle_request(const Request& request, Session& session, Handle& handle) {
  const std::string& verb = request.verb;
  if (verb == "message") return message(request, session, handle);
  if (verb == "trickle") return trickle(request, session, handle);
  if (verb == "detach") {
    uint64_t handle_id = handle.id;
    gateway_.detach(session, handle_id, /*notify=*/true);
    json reply = success(request, session.id);
    return reply;
  }
  if (verb == "hangup") {
    // Tears down the PeerConnection only; the handle stays.
    gateway_.hangup(session, handle, "Janus API", true);
    return success(request, session.id);
  }
  if (is_session_verb(verb) || verb == "create") wrong_path(verb);
  throw ApiException(ApiError::kUnknownRequest, "Unknown request '" + verb + "'");
}

json ApiRouter::message(const Request& request, Session& session, Handle& handle) {
  auto body = request.message.find("body");
  if (body == request.message.end()) missing("body");
  if (!body->is_object()) wrong_type("body", "an object");
  json jsep = nullptr;
  if (auto j = request.message.find("jsep"); j != request.message.end() && !j->is_null()) {
    if (!j->is_object()) wrong_type("jsep", "an object");
    auto type = j->find("type");
    if (type == j->end()) missing("jsep.type");
    if (!type->is_string()) wrong_type("jsep.type", "a string");
    if (*type != "offer" && *type != "answer")
      throw ApiException(ApiError::kJsepUnknownType, "JSEP error: unknown message type '" +
                                                         type->get<std::string>() + "'");
    auto sdp = j->find("sdp");
    if (sdp == j->end()) missing("jsep.sdp");
    if (!sdp->is_string()) wrong_type("jsep.sdp", "a string");
    if (sdp->get_ref<const std::string&>().rfind("v=", 0) != 0)
      throw ApiException(ApiError::kJsepInvalidSdp, "JSEP error: invalid SDP (it must start with v=)");
    jsep = gateway_.apply_remote_jsep(handle, *j, *body);
  }
  LoadedPlugin& plugin = *handle.plugin;
  plugin::MessageResult result = plugin.instance->handle_message(handle.id, request.transaction, *body, jsep);
  switch (result.kind) {
    case plugin::MessageResult::Kind::kOk: {
      json reply = success(request, session.id);
      reply["sender"] = handle.id;
      reply["plugindata"] = {{"plugin", plugin.info.package}, {"data", std::move(result.data)}};
      return reply;
    }
    case plugin::MessageResult::Kind::kAck: {
      json reply = make_reply("ack", request.transaction, session.id);
      if (!result.text.empty()) reply["hint"] = result.text;
      return reply;
    }
    case plugin::MessageResult::Kind::kError:
      throw ApiException(ApiError::kPluginMessage,
                         result.text.empty() ? "Error sending message to plugin" : result.text);
  }
  throw ApiException(ApiError::kUnknown, "Unknown plugin result");
}

json ApiRouter::trickle(const Request& request, Session& session, Handle& handle) {
  auto candidate = request.message.find("candidate");
  auto candidates = request.message.find("candidates");
  bool has_one = candidate != request.message.end();
  bool has_many = candidates != request.message.end();
  if (has_one && has_many)
    throw ApiException(ApiError::kInvalidJson, "Can't have both candidate and candidates");
  if (!has_one && !has_many) missing("candidate");
  if (has_many && !candidates->is_array()) wrong_type("candidates", "an array");
  if (has_one) gateway_.trickle(handle, *candidate);
  else
    for (const json& c : *candidates) gateway_.trickle(handle, c);
  return make_reply("ack", request.transaction, session.id);
}

void ApiRouter::connection_closed(const std::shared_ptr<ClientConnection>& connection) {
  std::vector<uint64_t> ids(connection->sessions().begin(), connection->sessions().end());
  for (uint64_t id : ids) {
    Session* session = gateway_.find_session(id);
    if (session == nullptr) continue;
    if (gateway_.config().reclaim_session_timeout > 0) {
      gateway_.rebind(*session, nullptr);
      log::get("core")->info("session {} waits {} s to be claimed ({} closed)", id,
                             gateway_.config().reclaim_session_timeout, connection->describe());
    } else {
      gateway_.destroy_session(id, connection->describe() + " closed");
    }
  }
}

bool ApiRouter::touch_session(uint64_t session_id, const json& credentials) {
  gateway_.auth().check_client(credentials);
  Session* session = gateway_.find_session(session_id);
  if (session == nullptr) return false;
  session->last_activity = Clock::now();
  return true;
}

json ApiRouter::server_info(std::string_view transaction) {
  const Config& config = gateway_.config();
  json info = make_reply("server_info", transaction);
  info["name"] = "Junction";
  info["version"] = kVersion;
  info["version_string"] = kVersionString;
  info["author"] = "The Junction authors";
  info["commit-hash"] = "not-a-git-build";
  info["compile-time"] = __DATE__ " " __TIME__;
  info["server-name"] = config.server_name;
  info["local-ip"] = config.bind;
  info["accepting-new-sessions"] = gateway_.accepting_new_sessions();
  info["session-timeout"] = config.session_timeout;
  info["reclaim-session-timeout"] = config.reclaim_session_timeout;
  info["candidates-timeout"] = 45;
  info["data_channels"] = false;
  info["ipv6"] = false;
  info["ice-lite"] = false;
  info["ice-tcp"] = false;
  info["full-trickle"] = true;
  info["mdns-enabled"] = false;
  info["api_secret"] = gateway_.auth().api_secret_enabled();
  info["auth_token"] = gateway_.auth().token_auth_enabled();
  info["event_handlers"] = false;
  info["opaqueid_in_api"] = false;
  info["dependencies"] = {{"libuv", uv_version_string()}, {"nlohmann-json", "3"}};
  json transports = json::object();
  if (config.ws_port != 0)
    transports["janus.transport.websockets"] = {{"name", "Junction WebSocket transport"},
                                                {"description", "JSON API over WebSocket (janus-protocol)"},
                                                {"version", kVersion}, {"version_string", kVersionString},
                                                {"author", "The Junction authors"}};
  if (config.http_port != 0)
    transports["janus.transport.http"] = {{"name", "Junction HTTP transport"},
                                          {"description", "JSON API over HTTP with long polls"},
                                          {"version", kVersion}, {"version_string", kVersionString},
                                          {"author", "The Junction authors"}};
  info["transports"] = transports;
  json plugins = json::object();
  for (auto& [package, loaded] : gateway_.plugins().all())
    plugins[package] = {{"name", loaded.info.name}, {"author", loaded.info.author},
                        {"description", loaded.info.description},
                        {"version_string", loaded.info.version_string}, {"version", loaded.info.version}};
  info["plugins"] = plugins;
  info["events"] = json::object();
  info["loggers"] = json::object();
  return info;
}

}  // namespace junction::gateway
