#pragma once
// Typed readers for the fields of a request body: a missing required field is error 429, a field
// of the wrong type 430, as Janus's videoroom answers (API.md §4).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "plugins/videoroom/errors.h"

namespace junction::videoroom {

using json = nlohmann::json;

inline const json* field(const json& body, const char* key) {
  auto it = body.find(key);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

inline std::optional<uint64_t> opt_uint(const json& body, const char* key) {
  const json* v = field(body, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_integer() || v->get<int64_t>() < 0)
    throw RequestError(kErrorInvalidElement, std::string("Invalid element (") + key + " should be a positive integer)");
  return v->get<uint64_t>();
}

inline uint64_t req_uint(const json& body, const char* key) {
  auto v = opt_uint(body, key);
  if (!v) throw RequestError(kErrorMissingElement, std::string("Missing element (") + key + ")");
  return *v;
}

inline std::optional<std::string> opt_string(const json& body, const char* key) {
  const json* v = field(body, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) throw RequestError(kErrorInvalidElement, std::string("Invalid element (") + key + " should be a string)");
  return v->get<std::string>();
}

inline std::string req_string(const json& body, const char* key) {
  auto v = opt_string(body, key);
  if (!v) throw RequestError(kErrorMissingElement, std::string("Missing element (") + key + ")");
  return *v;
}

inline std::optional<bool> opt_bool(const json& body, const char* key) {
  const json* v = field(body, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) throw RequestError(kErrorInvalidElement, std::string("Invalid element (") + key + " should be a boolean)");
  return v->get<bool>();
}

}  // namespace junction::videoroom
