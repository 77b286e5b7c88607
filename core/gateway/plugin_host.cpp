#include "core/gateway/plugin_host.h"

#include <dlfcn.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "core/base/log.h"

namespace junction::gateway {
namespace {
auto& logger() {
  static auto l = log::get("plugins");
  return l;
}
}  // namespace

PluginHost::~PluginHost() {
  shutdown_all();
  for (auto& [package, loaded] : plugins_) {
    loaded.instance.reset();
    if (loaded.library != nullptr) dlclose(loaded.library);
  }
}

void PluginHost::shutdown_all() {
  if (shut_down_) return;
  shut_down_ = true;
  for (auto& [package, loaded] : plugins_) {
    try {
      loaded.instance->shutdown();
    } catch (const std::exception& e) {
      logger()->error("{}: shutdown failed: {}", package, e.what());
    }
  }
}

std::size_t PluginHost::load_folder(const std::string& folder, plugin::Services& services,
                                    const nlohmann::json& settings) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) {
    logger()->warn("plugins folder '{}' does not exist: no plugins loaded", folder);
    return 0;
  }
  std::vector<fs::path> files;
  for (auto& entry : fs::directory_iterator(folder, ec))
    if (entry.is_regular_file() && entry.path().extension() == ".so") files.push_back(entry.path());
  std::sort(files.begin(), files.end());

  std::size_t loaded = 0;
  for (const fs::path& file : files) {
    void* library = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) {
      logger()->error("{}: cannot load: {} (skipped)", file.string(), dlerror());
      continue;
    }
    auto entry = reinterpret_cast<const plugin::Descriptor* (*)()>(dlsym(library, plugin::kDescriptorSymbol));
    const plugin::Descriptor* descriptor = entry != nullptr ? entry() : nullptr;
    if (descriptor == nullptr) {
      logger()->error("{}: no {} symbol, not a Junction plugin (skipped)", file.string(),
                      plugin::kDescriptorSymbol);
      dlclose(library);
      continue;
    }
    if (descriptor->abi_version != plugin::kAbiVersion) {
      logger()->error("{}: plugin ABI version {} but this server needs {} (skipped; rebuild the plugin)",
                      file.string(), descriptor->abi_version, plugin::kAbiVersion);
      dlclose(library);
      continue;
    }
    std::unique_ptr<plugin::Plugin> instance(descriptor->create());
    std::size_t before = plugins_.size();
    add(std::move(instance), services, settings, file.string(), library);
    if (plugins_.size() == before) dlclose(library);
    else ++loaded;
  }
  return loaded;
}

void PluginHost::add(std::unique_ptr<plugin::Plugin> instance, plugin::Services& services,
                     const nlohmann::json& settings, std::string path, void* library) {
  plugin::Info info = instance->info();
  if (plugins_.count(info.package) != 0) {
    logger()->error("{}: package {} is already provided by {} (skipped)", path, info.package,
                    plugins_.at(info.package).path);
    return;
  }
  auto it = settings.find(info.package);
  const nlohmann::json own = it != settings.end() ? *it : nlohmann::json::object();
  try {
    instance->init(services, own);
  } catch (const std::exception& e) {
    logger()->error("{}: {} failed to start: {} (skipped)", path, info.package, e.what());
    return;
  }
  logger()->info("loaded {} {} ({}) from {}", info.package, info.version_string, info.name, path);
  std::string package = info.package;
  plugins_.emplace(package, LoadedPlugin{std::move(info), std::move(path), library, std::move(instance)});
}

LoadedPlugin* PluginHost::find(std::string_view package) {
  auto it = plugins_.find(package);
  return it == plugins_.end() ? nullptr : &it->second;
}

}  // namespace junction::gateway
