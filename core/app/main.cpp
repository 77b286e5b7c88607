// junction: the server's command line. Flags override the config file, which overrides the
// built-in defaults; all three go through the same validation (core/base/config.cpp).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "core/app/server.h"
#include "core/base/config.h"
#include "core/base/log.h"
#include "core/base/version.h"

namespace {

std::filesystem::path binary_folder() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::current_path() : self.parent_path();
}

}  // namespace

int main(int argc, char** argv) {
  using nlohmann::json;
  CLI::App app{"Junction: a WebRTC media server speaking the Janus JSON API", "junction"};
  app.set_version_flag("-V,--version", std::string("junction ") + junction::kVersionString);

  std::string config_path, bind, plugins_dir, web_dir, log_level, admin_secret, api_secret;
  int ws_port = -1, http_port = -1, admin_port = -1, admin_ws_port = -1, media_workers = -1, session_timeout = -1;
  app.add_option("-c,--config", config_path, "JSON config file (comments allowed); see conf/junction.sample.jsonc")
      ->check(CLI::ExistingFile);
  app.add_option("--bind", bind, "Address every listener binds to (default 127.0.0.1)");
  app.add_option("--ws-port", ws_port, "WebSocket API port, 0 = off (default 8188)");
  app.add_option("--http-port", http_port, "HTTP API and web demo port, 0 = off (default 8088)");
  app.add_option("--admin-port", admin_port, "Admin API HTTP port (/admin, /metrics, /health), 0 = off (default 7088)");
  app.add_option("--admin-ws-port", admin_ws_port, "Admin API WebSocket port (janus-admin-protocol), 0 = off (default 7188)");
  // Command lines are visible to other local users (ps): prefer the config file for secrets.
  app.add_option("--admin-secret", admin_secret, "Secret required by admin requests (prefer the config file)");
  app.add_option("--api-secret", api_secret, "Secret required by client requests (prefer the config file)");
  app.add_option("--plugins-dir", plugins_dir, "Folder of plugin libraries (default: plugins/ beside the binary)");
  app.add_option("--web-dir", web_dir, "Folder of the web demo (default: web-demo/ beside the binary)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off (default info)");
  app.add_option("--media-workers", media_workers, "Media worker threads, 0 = one per core (default 0)");
  app.add_option("--session-timeout", session_timeout, "Seconds before an idle session expires, 0 = never (default 60)");
  CLI11_PARSE(app, argc, argv);

  try {
    json values = config_path.empty() ? json::object() : junction::read_config_file(config_path);
    if (!bind.empty()) values["bind"] = bind;
    if (app.count("--ws-port")) values["ws_port"] = ws_port;
    if (app.count("--http-port")) values["http_port"] = http_port;
    if (app.count("--admin-port")) values["admin_port"] = admin_port;
    if (app.count("--admin-ws-port")) values["admin_ws_port"] = admin_ws_port;
    if (app.count("--admin-secret")) values["admin_secret"] = admin_secret;
    if (app.count("--api-secret")) values["api_secret"] = api_secret;
    if (!plugins_dir.empty()) values["plugins_dir"] = plugins_dir;
    if (!web_dir.empty()) values["web_dir"] = web_dir;
    if (!log_level.empty()) values["log_level"] = log_level;
    if (app.count("--media-workers")) values["media_workers"] = media_workers;
    if (app.count("--session-timeout")) values["session_timeout"] = session_timeout;
    junction::Config config = junction::make_config(values);

    // Defaults that depend on where the binary is.
    auto here = binary_folder();
    if (config.plugins_dir.empty()) config.plugins_dir = (here / "plugins").string();
    if (config.web_dir.empty()) config.web_dir = (here / "web-demo").string();
    for (const auto& [key, path] : {std::pair{"tls_certificate", config.tls_certificate},
                                    std::pair{"tls_private_key", config.tls_private_key}})
      if (!path.empty() && ::access(path.c_str(), R_OK) != 0)
        throw junction::ConfigError(std::string("config key '") + key + "': cannot read " + path);
    if (config.state_dir.empty()) {
      std::filesystem::path folder = std::filesystem::path(config_path).parent_path();
      config.state_dir = (folder.empty() ? std::filesystem::current_path() : std::filesystem::absolute(folder)).string();
    }
    if (config.media_workers == 0) config.media_workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

    junction::log::init(*junction::log::parse_level(config.log_level));
    junction::log::get("core")->info("configuration: {}", junction::config_to_log_json(config).dump());
    int code = junction::run_server(config);
    junction::log::shutdown();
    return code;
  } catch (const junction::ConfigError& e) {
    std::cerr << "junction: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "junction: cannot start: " << e.what() << "\n";
    junction::log::shutdown();
    return 1;
  }
}
