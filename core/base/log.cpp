#include "core/base/log.h"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <atomic>
#include <mutex>

namespace junction::log {
namespace {

std::mutex g_mutex;
std::atomic<spdlog::level::level_enum> g_level{spdlog::level::info};
std::shared_ptr<spdlog::sinks::sink> g_sink;

std::shared_ptr<spdlog::sinks::sink> sink_locked() {
  if (!g_sink) g_sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  return g_sink;
}

}  // namespace

void init(spdlog::level::level_enum level) {
  std::lock_guard lock(g_mutex);
  if (!spdlog::thread_pool()) spdlog::init_thread_pool(8192, 1);
  g_level = level;
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v");
  spdlog::apply_all([level](const std::shared_ptr<spdlog::logger>& l) { l->set_level(level); });
}

void shutdown() {
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->flush(); });
  spdlog::shutdown();
  std::lock_guard lock(g_mutex);
  g_sink.reset();
}

std::shared_ptr<spdlog::logger> get(const std::string& tag) {
  if (auto existing = spdlog::get(tag)) return existing;
  std::lock_guard lock(g_mutex);
  if (auto existing = spdlog::get(tag)) return existing;
  if (!spdlog::thread_pool()) spdlog::init_thread_pool(8192, 1);
  // Overflow policy: a full queue drops the oldest line rather than blocking the caller.
  auto logger = std::make_shared<spdlog::async_logger>(tag, sink_locked(), spdlog::thread_pool(),
                                                       spdlog::async_overflow_policy::overrun_oldest);
  logger->set_level(g_level.load());
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v");
  logger->flush_on(spdlog::level::warn);
  spdlog::register_logger(logger);
  return logger;
}

void set_level(spdlog::level::level_enum level) {
  std::lock_guard lock(g_mutex);
  g_level = level;
  spdlog::apply_all([level](const std::shared_ptr<spdlog::logger>& l) { l->set_level(level); });
}

spdlog::level::level_enum level() { return g_level.load(); }

std::optional<spdlog::level::level_enum> parse_level(std::string_view name) {
  for (int i = spdlog::level::trace; i < spdlog::level::n_levels; ++i) {
    auto lvl = static_cast<spdlog::level::level_enum>(i);
    if (level_name(lvl) == name) return lvl;
  }
  return std::nullopt;
}

std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    case spdlog::level::off: return "off";
    default: return "?";
  }
}

}  // namespace junction::log
