#pragma once
// How Janus's room plugins answer a `message` (API.md §4): the body's "request" names the verb;
// synchronous verbs are answered at once (`success` carrying the plugin data), asynchronous ones
// get `ack` now and an `event` with the same transaction later. A refused request is not an API
// error: it is plugin data {"<plugin>": "event", "error_code": N, "error": "..."}.
//
// `Error` is the plugin's request error: constructible from (code, text), with a `code` member.
#include <nlohmann/json.hpp>

#include <exception>
#include <string>
#include <utility>

#include "core/gateway/plugin.h"

namespace junction::plugins {

struct RequestCodes {
  const char* plugin;    // the key of the plugin data: "videoroom", "audiobridge"
  int invalid_json;      // an admin request that is not an object
  int missing;           // no "request"
  int invalid_element;   // "request" is not a string
  int unknown_request;   // a verb the plugin does not know
  int unknown;           // anything else that went wrong
};

inline plugin::json error_data(const RequestCodes& codes, int code, const std::string& why) {
  return {{codes.plugin, "event"}, {"error_code", code}, {"error", why}};
}

template <typename Error>
std::string request_name(const RequestCodes& codes, const plugin::json& body) {
  auto r = body.find("request");
  if (r == body.end() || r->is_null()) throw Error(codes.missing, "Missing element (request)");
  if (!r->is_string()) throw Error(codes.invalid_element, "Invalid element (request should be a string)");
  return r->template get<std::string>();
}

// `is_sync` / `is_async` classify a verb; `sync(request)` returns the plugin data (its own errors
// already turned into error data); `async(request)` returns {data, jsep} or throws Error;
// `refused(error)` runs after an asynchronous request was refused (e.g. to drop a
// PeerConnection an unusable offer made).
template <typename Error, typename IsSync, typename IsAsync, typename Sync, typename Async, typename Refused>
plugin::MessageResult dispatch_request(plugin::Services& services, plugin::HandleId handle,
                                       const std::string& transaction, const plugin::json& body,
                                       const RequestCodes& codes, IsSync is_sync, IsAsync is_async, Sync sync,
                                       Async async, Refused refused) {
  std::string request;
  try {
    request = request_name<Error>(codes, body);
    if (is_sync(request)) return plugin::MessageResult::ok(sync(request));
    if (!is_async(request)) throw Error(codes.unknown_request, "Unknown request '" + request + "'");
  } catch (const Error& e) {
    return plugin::MessageResult::ok(error_data(codes, e.code, e.what()));
  }
  plugin::json data, jsep = nullptr;
  try {
    std::tie(data, jsep) = async(request);
  } catch (const Error& e) {
    data = error_data(codes, e.code, e.what());
    jsep = nullptr;
    refused(e);
  } catch (const std::exception& e) {
    data = error_data(codes, codes.unknown, e.what());
    jsep = nullptr;
  }
  services.push_event(handle, transaction, std::move(data), std::move(jsep));
  return plugin::MessageResult::ack();
}

// The admin API's `message_plugin` for a room plugin: the read-only verbs, through `sync`.
template <typename Error, typename Sync>
plugin::json admin_request(const RequestCodes& codes, const plugin::json& request, Sync sync) {
  try {
    if (!request.is_object()) throw Error(codes.invalid_json, "JSON error: not an object");
    std::string name = request_name<Error>(codes, request);
    if (name != "list" && name != "exists" && name != "listparticipants")
      throw Error(codes.unknown_request, "Unknown request '" + name + "'");
    return sync(name);
  } catch (const Error& e) {
    return error_data(codes, e.code, e.what());
  }
}

}  // namespace junction::plugins
