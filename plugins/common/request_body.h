#pragma once
// A request body read field by field, for the room plugins: an absent (or null) field is
// nullopt, a present field of the wrong type is the plugin's "invalid element" error, a required
// one that is absent its "missing element" error. `Error` is constructible from (code, text).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace junction::plugins {

template <typename Error, int kMissing, int kInvalid>
class RequestBody {
 public:
  using json = nlohmann::json;
  explicit RequestBody(const json& body) : body_(body) {}

  std::optional<uint64_t> id(const char* key) const {  // positive integers (rooms, participants)
    return read<uint64_t>(key, "a positive integer", [](const json& v) { return v.is_number_unsigned() && v.template get<uint64_t>() > 0; });
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
    if (v != nullptr && !v->is_array()) throw Error(kInvalid, std::string("Invalid element (") + key + " should be an array)");
    return v;
  }
  // An integer within [lo, hi], else the invalid-element error naming the range.
  std::optional<int64_t> integer_in(const char* key, int64_t lo, int64_t hi) const {
    auto v = integer(key);
    if (v && (*v < lo || *v > hi))
      throw Error(kInvalid, std::string("Invalid element (") + key + " should be " + std::to_string(lo) + ".." + std::to_string(hi) + ")");
    return v;
  }
  template <typename T>
  static T required(std::optional<T> value, const char* key) {
    if (!value) throw Error(kMissing, std::string("Missing element (") + key + ")");
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
    if (!check(*v)) throw Error(kInvalid, std::string("Invalid element (") + key + " should be " + what + ")");
    return v->template get<T>();
  }
  const json& body_;
};

}  // namespace junction::plugins
