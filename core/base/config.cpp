#include "core/base/config.h"

#include "core/base/http_url.h"
#include "core/base/log.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

namespace junction {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& key, const std::string& expected, const json& got) {
  throw ConfigError("config key '" + key + "': expected " + expected + ", got " + got.dump());
}

int64_t as_int(const std::string& key, const json& v, int64_t min, int64_t max) {
  std::string expected = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (!v.is_number_integer()) bad(key, expected, v);
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(max)) bad(key, expected, v);
  int64_t n = v.get<int64_t>();
  if (n < min || n > max) bad(key, expected, v);
  return n;
}

std::string as_string(const std::string& key, const json& v) {
  if (!v.is_string()) bad(key, "a string", v);
  return v.get<std::string>();
}

bool as_bool(const std::string& key, const json& v) {
  if (!v.is_boolean()) bad(key, "true or false", v);
  return v.get<bool>();
}

bool is_address(const std::string& s) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

struct Key {
  const char* name;
  std::function<void(const std::string&, const json&, Config&)> apply;
  std::function<json(const Config&)> read;
};

const std::vector<Key>& keys() {
  static const std::vector<Key> table = {
      {"bind",
       [](auto& k, auto& v, Config& c) {
         std::string s = as_string(k, v);
         if (!is_address(s)) bad(k, "an IPv4 or IPv6 address", v);
         c.bind = s;
       },
       [](const Config& c) { return json(c.bind); }},
      {"ws_port", [](auto& k, auto& v, Config& c) { c.ws_port = as_int(k, v, 0, 65535); },
       [](const Config& c) { return json(c.ws_port); }},
      {"http_port", [](auto& k, auto& v, Config& c) { c.http_port = as_int(k, v, 0, 65535); },
       [](const Config& c) { return json(c.http_port); }},
      {"admin_port", [](auto& k, auto& v, Config& c) { c.admin_port = as_int(k, v, 0, 65535); },
       [](const Config& c) { return json(c.admin_port); }},
      {"admin_ws_port", [](auto& k, auto& v, Config& c) { c.admin_ws_port = as_int(k, v, 0, 65535); },
       [](const Config& c) { return json(c.admin_ws_port); }},
      {"tls_certificate", [](auto& k, auto& v, Config& c) { c.tls_certificate = as_string(k, v); },
       [](const Config& c) { return json(c.tls_certificate); }},
      {"tls_private_key", [](auto& k, auto& v, Config& c) { c.tls_private_key = as_string(k, v); },
       [](const Config& c) { return json(c.tls_private_key); }},
      {"admin_secret", [](auto& k, auto& v, Config& c) { c.admin_secret = as_string(k, v); },
       [](const Config& c) { return json(c.admin_secret); }},
      {"api_secret", [](auto& k, auto& v, Config& c) { c.api_secret = as_string(k, v); },
       [](const Config& c) { return json(c.api_secret); }},
      {"token_auth", [](auto& k, auto& v, Config& c) { c.token_auth = as_bool(k, v); },
       [](const Config& c) { return json(c.token_auth); }},
      {"event_push_url",
       [](auto& k, auto& v, Config& c) {
         std::string s = as_string(k, v);
         if (!s.empty() && !parse_http_url(s)) bad(k, "\"http://host[:port][/path]\" or \"\"", v);
         c.event_push_url = s;
       },
       [](const Config& c) { return json(c.event_push_url); }},
      {"plugins_dir", [](auto& k, auto& v, Config& c) { c.plugins_dir = as_string(k, v); },
       [](const Config& c) { return json(c.plugins_dir); }},
      {"web_dir", [](auto& k, auto& v, Config& c) { c.web_dir = as_string(k, v); },
       [](const Config& c) { return json(c.web_dir); }},
      {"state_dir", [](auto& k, auto& v, Config& c) { c.state_dir = as_string(k, v); },
       [](const Config& c) { return json(c.state_dir); }},
      {"log_level",
       [](auto& k, auto& v, Config& c) {
         std::string s = as_string(k, v);
         if (!log::parse_level(s)) bad(k, "one of trace, debug, info, warn, error, critical, off", v);
         c.log_level = s;
       },
       [](const Config& c) { return json(c.log_level); }},
      {"media_workers",
       [](auto& k, auto& v, Config& c) { c.media_workers = as_int(k, v, 0, 256); },
       [](const Config& c) { return json(c.media_workers); }},
      {"session_timeout",
       [](auto& k, auto& v, Config& c) { c.session_timeout = as_int(k, v, 0, 86400); },
       [](const Config& c) { return json(c.session_timeout); }},
      {"reclaim_session_timeout",
       [](auto& k, auto& v, Config& c) { c.reclaim_session_timeout = as_int(k, v, 0, 86400); },
       [](const Config& c) { return json(c.reclaim_session_timeout); }},
      {"long_poll_timeout",
       [](auto& k, auto& v, Config& c) { c.long_poll_timeout = as_int(k, v, 1, 300); },
       [](const Config& c) { return json(c.long_poll_timeout); }},
      {"max_message_size",
       [](auto& k, auto& v, Config& c) { c.max_message_size = as_int(k, v, 4096, 64 << 20); },
       [](const Config& c) { return json(c.max_message_size); }},
      {"max_sessions",
       [](auto& k, auto& v, Config& c) { c.max_sessions = as_int(k, v, 0, 10'000'000); },
       [](const Config& c) { return json(c.max_sessions); }},
      {"server_name",
       [](auto& k, auto& v, Config& c) {
         std::string s = as_string(k, v);
         if (s.empty() || s.size() > 128) bad(k, "a name of 1 to 128 characters", v);
         c.server_name = s;
       },
       [](const Config& c) { return json(c.server_name); }},
      {"ice_addresses",
       [](auto& k, auto& v, Config& c) {
         if (!v.is_array()) bad(k, "a list of IP addresses", v);
         c.ice_addresses.clear();
         for (const json& a : v) {
           if (!a.is_string() || !is_address(a.get<std::string>())) bad(k, "a list of IP addresses", v);
           c.ice_addresses.push_back(a.get<std::string>());
         }
       },
       [](const Config& c) { return json(c.ice_addresses); }},
      {"rtp_port_range",
       [](auto& k, auto& v, Config& c) {
         std::string s = as_string(k, v);
         if (s.empty()) {
           c.rtp_port_min = c.rtp_port_max = 0;
           return;
         }
         int lo = 0, hi = 0;
         char extra = 0;
         if (std::sscanf(s.c_str(), "%d-%d%c", &lo, &hi, &extra) != 2 || lo < 1 || hi > 65535 || lo > hi)
           bad(k, "\"min-max\" with 1 <= min <= max <= 65535, or \"\"", v);
         c.rtp_port_min = lo;
         c.rtp_port_max = hi;
       },
       [](const Config& c) {
         return json(c.rtp_port_min == 0 ? std::string()
                                          : std::to_string(c.rtp_port_min) + "-" + std::to_string(c.rtp_port_max));
       }},
      {"stun_server",
       [](auto& k, auto& v, Config& c) {
         std::string s = as_string(k, v);
         auto colon = s.rfind(':');
         if (!s.empty() && (colon == std::string::npos || colon == 0 || std::atoi(s.c_str() + colon + 1) <= 0 ||
                            std::atoi(s.c_str() + colon + 1) > 65535))
           bad(k, "\"host:port\" or \"\"", v);
         c.stun_server = s;
       },
       [](const Config& c) { return json(c.stun_server); }},
      {"nat_1_1_mapping",
       [](auto& k, auto& v, Config& c) {
         std::string s = as_string(k, v);
         if (!s.empty() && !is_address(s)) bad(k, "an IP address or \"\"", v);
         c.nat_1_1_mapping = s;
       },
       [](const Config& c) { return json(c.nat_1_1_mapping); }},
      {"ice_lite", [](auto& k, auto& v, Config& c) { c.ice_lite = as_bool(k, v); },
       [](const Config& c) { return json(c.ice_lite); }},
      {"ice_consent_timeout",
       [](auto& k, auto& v, Config& c) { c.ice_consent_timeout = as_int(k, v, 5, 300); },
       [](const Config& c) { return json(c.ice_consent_timeout); }},
      {"no_media_timer", [](auto& k, auto& v, Config& c) { c.no_media_timer = as_int(k, v, 1, 60); },
       [](const Config& c) { return json(c.no_media_timer); }},
      {"slowlink_threshold",
       [](auto& k, auto& v, Config& c) { c.slowlink_threshold = as_int(k, v, 0, 100000); },
       [](const Config& c) { return json(c.slowlink_threshold); }},
      {"dtls_certificate", [](auto& k, auto& v, Config& c) { c.dtls_certificate = as_string(k, v); },
       [](const Config& c) { return json(c.dtls_certificate); }},
      {"dtls_private_key", [](auto& k, auto& v, Config& c) { c.dtls_private_key = as_string(k, v); },
       [](const Config& c) { return json(c.dtls_private_key); }},
      {"plugins",
       [](auto& k, auto& v, Config& c) {
         if (!v.is_object()) bad(k, "an object of package name -> settings object", v);
         for (auto& [name, settings] : v.items())
           if (!settings.is_object()) bad(k + "." + name, "an object", settings);
         c.plugins = v;
       },
       [](const Config& c) { return c.plugins; }},
  };
  return table;
}

}  // namespace

json read_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("config file '" + path + "': cannot be opened");
  std::stringstream text;
  text << in.rdbuf();
  try {
    json j = json::parse(text.str(), nullptr, true, /*ignore_comments=*/true);
    if (!j.is_object()) throw ConfigError("config file '" + path + "': must hold a JSON object");
    return j;
  } catch (const json::parse_error& e) {
    throw ConfigError("config file '" + path + "': not valid JSON: " + e.what());
  }
}

Config make_config(const json& values) {
  if (!values.is_object()) throw ConfigError("config: must be a JSON object");
  Config config;
  // Not a structured binding: clang before 16 cannot capture one in the lambda below, and the
  // clang sanitizer build (scripts/sanitize.sh --ci, with the fuzzers) compiles this file too.
  for (const auto& item : values.items()) {
    const std::string& name = item.key();
    const json& value = item.value();
    auto it = std::find_if(keys().begin(), keys().end(), [&](const Key& k) { return name == k.name; });
    if (it == keys().end()) {
      std::string known;
      for (auto& k : keys()) known += std::string(known.empty() ? "" : ", ") + k.name;
      throw ConfigError("config key '" + name + "': unknown key (known keys: " + known + ")");
    }
    it->apply(name, value, config);
  }
  // Each listener needs its own port.
  const std::pair<const char*, int> ports[] = {
      {"ws_port", config.ws_port},
      {"http_port", config.http_port},
      {"admin_port", config.admin_port},
      {"admin_ws_port", config.admin_ws_port}};
  for (std::size_t i = 0; i < std::size(ports); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (ports[i].second != 0 && ports[i].second == ports[j].second)
        throw ConfigError(std::string("config key '") + ports[i].first + "': port " + std::to_string(ports[i].second) +
                          " is already used by '" + ports[j].first + "'");
  if (config.dtls_certificate.empty() != config.dtls_private_key.empty())
    throw ConfigError("config key 'dtls_certificate': set it together with 'dtls_private_key' (or neither)");
  if (config.tls_certificate.empty() != config.tls_private_key.empty())
    throw ConfigError("config key 'tls_certificate': set it together with 'tls_private_key' (or neither)");
  return config;
}

std::vector<std::string> config_keys() {
  std::vector<std::string> names;
  for (auto& k : keys()) names.emplace_back(k.name);
  return names;
}

json config_to_json(const Config& config) {
  json out = json::object();
  for (auto& k : keys()) out[k.name] = k.read(config);
  return out;
}

json config_to_log_json(const Config& config) {
  json out = config_to_json(config);
  for (const char* secret : {"admin_secret", "api_secret"})
    if (!out[secret].get_ref<const std::string&>().empty()) out[secret] = "********";
  return out;
}

}  // namespace junction
