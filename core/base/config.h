#pragma once
// Junction's configuration: one JSON file (comments allowed), every key optional, every key
// overridable on the command line. `conf/junction.sample.jsonc` documents each key; a unit test
// keeps that file and the table in config.cpp in agreement.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace junction {

struct Config {
  std::string bind = "127.0.0.1";        // address every listener binds to
  int ws_port = 8188;                    // WebSocket API (subprotocol janus-protocol); 0 = off
  int http_port = 8088;                  // HTTP API at /janus and the web demo at /; 0 = off
  int admin_port = 7088;                 // admin API over HTTP (/admin, /metrics, /health); 0 = off
  int admin_ws_port = 7188;              // admin API over WebSocket (janus-admin-protocol); 0 = off
  std::string admin_secret;              // required in every admin request (`admin_secret`); empty: none
  std::string api_secret;                // required in every client request (`apisecret`); empty: none
  bool token_auth = false;               // client requests need a stored `token` (added via the admin API)
  std::string tls_certificate, tls_private_key;  // PEM files: every listener speaks TLS (wss, https)
  std::string event_push_url;            // http://host:port/path: events POSTed there in batches; empty: off
  std::string plugins_dir;               // empty: <folder of the binary>/plugins
  std::string web_dir;                   // empty: <folder of the binary>/web-demo
  std::string state_dir;                 // plugins' persistent files; empty: the config file's folder
  std::string log_level = "info";        // trace|debug|info|warn|error|critical|off
  int media_workers = 0;                 // 0: one per core
  int session_timeout = 60;              // seconds without a request; 0 = never
  int reclaim_session_timeout = 0;       // seconds a closed WebSocket's sessions wait for `claim`
  int long_poll_timeout = 30;            // seconds an HTTP GET waits for events
  int64_t max_message_size = 9 << 20;    // bytes, largest request on either transport (8 MiB bodies fit)
  int max_sessions = 0;                  // 0: no limit
  std::string server_name = "Junction";  // reported by `info`
  // WebRTC transport
  std::vector<std::string> ice_addresses;  // empty: the bind address (or every interface for 0.0.0.0/::)
  int rtp_port_min = 0, rtp_port_max = 0;  // from "rtp_port_range" "min-max"; 0: any
  std::string stun_server;                 // "host:port" for server-reflexive candidates
  std::string nat_1_1_mapping;             // public address advertised instead of host addresses
  bool ice_lite = false;
  int ice_consent_timeout = 30;            // seconds without anything from a peer: hangup
  int no_media_timer = 1;                  // seconds without packets on a stream: `media` receiving false
  int slowlink_threshold = 4;              // packets lost in a second that trigger `slowlink`; 0 = off
  std::string dtls_certificate, dtls_private_key;  // PEM files; empty: generated at start
  nlohmann::json plugins = nlohmann::json::object();  // package name -> that plugin's settings
};

// A configuration value that stops the start. `what()` names the key.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads a config file (JSON with // and /* */ comments). Throws ConfigError naming the file.
nlohmann::json read_config_file(const std::string& path);

// Validates `values` (an object of config keys) on top of the defaults. Throws ConfigError naming
// the first unknown key, wrong type or bad value.
Config make_config(const nlohmann::json& values);

// Every key the configuration knows, in documentation order.
std::vector<std::string> config_keys();

// The configuration as JSON (every key, defaults included).
nlohmann::json config_to_json(const Config& config);

// The same, with every secret that is set replaced by "********": what may be logged.
nlohmann::json config_to_log_json(const Config& config);

}  // namespace junction
