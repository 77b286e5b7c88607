#pragma once
// The envelope of the Janus JSON API: parsing and validating one incoming request, and building
// the replies. Knows nothing of sessions: it checks shape, not meaning.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "signaling/api_error.h"

namespace junction::signaling {

using nlohmann::json;

struct Request {
  json message;             // the whole request object
  std::string verb;         // `janus`
  std::string transaction;  // `transaction`
  uint64_t session_id = 0;  // 0: none given
  uint64_t handle_id = 0;   // 0: none given
};

// The session and handle ids an HTTP path names (`/janus/<session>/<handle>`); they take the
// place of `session_id` and `handle_id` in the body.
struct PathIds {
  uint64_t session_id = 0;
  uint64_t handle_id = 0;
};

struct ParseOutcome {
  std::optional<Request> request;  // set when valid
  json error;                      // otherwise the `error` reply to send
};

inline constexpr std::size_t kMaxJsonDepth = 64;

// Parses and validates one request text. Failures before the transaction is known (bad JSON,
// missing or mistyped `janus`/`transaction`) are answered without a `transaction`, as Janus does.
ParseOutcome parse_request(std::string_view text, const PathIds* path = nullptr);

// Reply builders. `session_id` 0 and an empty transaction are left out.
json make_reply(std::string_view janus, std::string_view transaction, uint64_t session_id = 0);
json make_error(ApiError code, std::string_view reason, std::string_view transaction = {},
                uint64_t session_id = 0);

// Reads an optional id field: absent or 0 -> 0; a positive integer -> its value; else throws 457.
uint64_t read_id_field(const json& message, const char* field);

}  // namespace junction::signaling
