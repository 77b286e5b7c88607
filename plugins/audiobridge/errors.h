#pragma once
// AudioBridge's own error codes (the values Janus's audiobridge uses, API.md §3). They travel as
// plugin data {"audiobridge":"event","error_code":N,"error":"..."}, never as API errors.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace junction::audiobridge {

using json = nlohmann::json;

enum ErrorCode : int {
  kErrorUnknown = 499,
  kErrorNoMessage = 480,
  kErrorInvalidJson = 481,
  kErrorInvalidRequest = 482,
  kErrorMissingElement = 483,
  kErrorInvalidElement = 484,
  kErrorNoSuchRoom = 485,
  kErrorRoomExists = 486,
  kErrorUnauthorized = 487,
  kErrorNoSuchUser = 488,
  kErrorLibopusError = 489,
  kErrorNotJoined = 490,
  kErrorAlreadyJoined = 491,
  kErrorIdExists = 492,
  kErrorInvalidSdp = 493,
  kErrorNoSuchFile = 494,
};

// Thrown by request handlers (control plane only); the dispatcher turns it into the error data.
struct RequestError : std::runtime_error {
  int code;
  RequestError(int c, const std::string& why) : std::runtime_error(why), code(c) {}
};

// A request body read field by field: an absent (or null) field is nullopt, a present field of
// the wrong type is 484, a required one that is absent 483.
class Body {
 public:
  explicit Body(const json& body) : body_(body) {}

  std::optional<uint64_t> id(const char* key) const {  // positive integers (rooms, participants)
    return read<uint64_t>(key, "a positive integer", [](const json& v) { return v.is_number_unsigned() && v.get<uint64_t>() > 0; });
  }
  std::optional<int64_t> integer(const char* key) const {
    return read<int64_t>(key, "an integer", [](const json& v) { return v.is_number_integer(); });
  }
  std::optional<std::string> text(const char* key) const {
    return read<std::string>(key, "a string", [](const json& v) { return v.is_string(); });
  }
  std::optional<bool> flag(const char* key) const {
    return read<bool>(key, "a boolean", [](const json& v) { return v.is_boolean(); });
  }
  const json* array(const char* key) const {
    const json* v = find(key);
    if (v != nullptr && !v->is_array()) throw RequestError(kErrorInvalidElement, std::string("Invalid element (") + key + " should be an array)");
    return v;
  }
  template <typename T>
  static T required(std::optional<T> value, const char* key) {
    if (!value) throw RequestError(kErrorMissingElement, std::string("Missing element (") + key + ")");
    return *value;
  }

 private:
  const json* find(const char* key) const {
    auto it = body_.find(key);
    return it == body_.end() || it->is_null() ? nullptr : &*it;
  }
  template <typename T, typename Check>
  std::optional<T> read(const char* key, const char* what, Check check) const {
    const json* v = find(key);
    if (v == nullptr) return std::nullopt;
    if (!check(*v)) throw RequestError(kErrorInvalidElement, std::string("Invalid element (") + key + " should be " + what + ")");
    return v->get<T>();
  }
  const json& body_;
};

}  // namespace junction::audiobridge
