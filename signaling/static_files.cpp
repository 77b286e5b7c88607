#include "signaling/static_files.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <system_error>
#include <utility>

namespace junction::signaling {
namespace fs = std::filesystem;

std::optional<std::string> content_type_for(std::string_view filename) {
  // JavaScript as text/javascript: the type HTML's module scripts are specified with (RFC 9239).
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".gif", "image/gif"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".map", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".md", "text/plain; charset=utf-8"},
      {".wasm", "application/wasm"},
      {".woff2", "font/woff2"},
  }};
  auto dot = filename.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::string extension(filename.substr(dot));
  for (char& c : extension) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  for (const auto& [ext, type] : kTypes)
    if (ext == extension) return std::string(type);
  return std::nullopt;
}

namespace {

// Each segment of the path is a plain name: no "..", ".", hidden names, backslashes or control
// characters (lws has already decoded %-escapes).
bool plain_segments(std::string_view path) {
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (!segment.empty() && segment.front() == '.') return false;
    for (char c : segment)
      if (static_cast<unsigned char>(c) < 0x20 || c == '\\' || c == 0x7f) return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

std::optional<StaticFile> resolve_static_file(const fs::path& root, std::string_view url_path) {
  if (url_path.empty() || url_path.front() != '/' || !plain_segments(url_path)) return std::nullopt;
  std::error_code ec;
  fs::path real_root = fs::canonical(root, ec);
  if (ec) return std::nullopt;
  fs::path candidate = real_root / fs::path(std::string(url_path.substr(1)));
  if (fs::is_directory(candidate, ec)) candidate /= "index.html";
  fs::path real = fs::canonical(candidate, ec);
  if (ec || !fs::is_regular_file(real, ec)) return std::nullopt;
  // Inside the root, also after symbolic links.
  auto [root_end, _] = std::mismatch(real_root.begin(), real_root.end(), real.begin(), real.end());
  if (root_end != real_root.end()) return std::nullopt;
  auto type = content_type_for(real.filename().string());
  if (!type) return std::nullopt;
  StaticFile file;
  file.size = fs::file_size(real, ec);
  if (ec) return std::nullopt;
  auto modified = fs::last_write_time(real, ec);
  if (ec) return std::nullopt;
  auto ticks =
      std::chrono::duration_cast<std::chrono::nanoseconds>(modified.time_since_epoch()).count();
  char etag[64];
  std::snprintf(etag, sizeof etag, "\"%jx-%llx\"", file.size,
                static_cast<unsigned long long>(ticks));
  file.etag = etag;
  file.path = std::move(real);
  file.content_type = std::move(*type);
  return file;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  std::size_t start = 0;
  while (start < if_none_match.size()) {
    std::size_t end = if_none_match.find(',', start);
    if (end == std::string_view::npos) end = if_none_match.size();
    std::string_view item = if_none_match.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.substr(0, 2) == "W/") item.remove_prefix(2);
    if (item == "*" || item == etag) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace junction::signaling
