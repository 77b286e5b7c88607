#pragma once
// Loads the plugin libraries from the plugins folder and owns them for the server's lifetime.
#include <map>
#include <memory>
#include <string>

#include "core/gateway/plugin.h"

namespace junction::gateway {

struct LoadedPlugin {
  plugin::Info info;
  std::string path;
  void* library = nullptr;                 // dlopen handle, closed after `instance` is gone
  std::unique_ptr<plugin::Plugin> instance;
};

class PluginHost {
 public:
  PluginHost() = default;
  ~PluginHost();  // shuts every plugin down, then unloads it
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // Opens every `*.so` in `folder`; a library that fails to load, has another ABI version,
  // duplicates a package name or throws from init() is skipped with a log line. `settings` is
  // the config's "plugins" object. Returns how many plugins were loaded.
  std::size_t load_folder(const std::string& folder, plugin::Services& services,
                          const nlohmann::json& settings);

  // Adds an already created plugin (used by tests and by load_folder).
  void add(std::unique_ptr<plugin::Plugin> instance, plugin::Services& services,
           const nlohmann::json& settings, std::string path = "(built in)", void* library = nullptr);

  LoadedPlugin* find(std::string_view package);
  const std::map<std::string, LoadedPlugin, std::less<>>& all() const { return plugins_; }

  void shutdown_all();

 private:
  std::map<std::string, LoadedPlugin, std::less<>> plugins_;  // by package name
  bool shut_down_ = false;
};

}  // namespace junction::gateway
