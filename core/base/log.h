#pragma once
// Tagged, levelled logging on spdlog. Each subsystem asks for its own logger by tag
// ("core", "ws", "http", "plugin.echotest", ...). Lines are formatted only when the level is
// enabled (spdlog checks before formatting) and are written by one background thread, so a
// media worker never waits on stderr.
#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace junction::log {

// Starts the background writer and sets the initial level. Safe to call more than once (tests).
void init(spdlog::level::level_enum level);
// Flushes and stops the background writer.
void shutdown();

// The logger for a tag, created on first use with the current global level.
std::shared_ptr<spdlog::logger> get(const std::string& tag);

// Changes the level of every logger, now and for those created later.
void set_level(spdlog::level::level_enum level);
spdlog::level::level_enum level();

// "trace", "debug", "info", "warn", "error", "critical", "off" (case-sensitive).
std::optional<spdlog::level::level_enum> parse_level(std::string_view name);
std::string_view level_name(spdlog::level::level_enum level);

}  // namespace junction::log
