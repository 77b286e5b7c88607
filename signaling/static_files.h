#pragma once
// The web demo's static files on the client HTTP listener: which file a URL path names (never
// one outside the folder), its Content-Type, its cache policy and validator.
//
// Cache policy: every file is `no-cache` with an ETag, so a browser keeps its copy but asks
// each time (a 304 costs one round trip on the LAN this serves). A demo's HTML and its ES
// modules change together when the server is updated: a max-age on the modules would let a
// new page run with old modules for that long.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace junction::signaling {

struct StaticFile {
  std::filesystem::path path;
  std::string content_type;
  std::string etag;  // quoted, from size and modification time
  std::uintmax_t size = 0;
};

// The Content-Type for a file name by its extension (html, js/mjs, css, svg, png, jpg, gif, ico,
// json, webmanifest, map, txt, wasm, woff2), text types with charset=utf-8; nullopt for an
// extension we do not serve.
std::optional<std::string> content_type_for(std::string_view filename);

// The file that `url_path` (the request path, without the query) names under `root`: "/" and
// folders give their index.html. nullopt for a path with "..", a backslash, a control character
// or a hidden segment (".git"), for a file that is not a regular file, for one whose real path
// (symbolic links resolved) is outside root, and for a type content_type_for does not know.
std::optional<StaticFile> resolve_static_file(const std::filesystem::path& root,
                                              std::string_view url_path);

// Whether an If-None-Match header value matches `etag` ("*" or a list containing it, weak or not).
bool etag_matches(std::string_view if_none_match, std::string_view etag);

inline constexpr std::string_view kStaticCacheControl = "no-cache";

}  // namespace junction::signaling
