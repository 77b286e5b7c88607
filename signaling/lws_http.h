#pragma once
// Small helpers shared by the HTTP servers on libwebsockets (client API and admin API).
#include <libwebsockets.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace junction::signaling {

// The value of one request header, or "" when absent.
std::string lws_header(lws* wsi, lws_token_indexes token);

// A path segment that names a session or handle: a positive decimal integer, nothing else.
bool parse_path_id(std::string_view text, uint64_t& out);

}  // namespace junction::signaling
