// libFuzzer target for the JSON API envelope (signaling/api_message.h): every WebSocket message
// and HTTP body a client sends goes through parse_request first.
//
// Checks, on every input, for parse_request without a path (WebSocket, HTTP POST /janus) and with
// the ids of an HTTP path (/janus/<session>/<handle>):
// - it never throws and gives exactly one of a request or an error reply;
// - an error reply is {"janus":"error", "error":{"code":<int>, "reason":<string>}} (plus the
//   transaction when one was read) and serialises without throwing, as it is sent back;
// - a request has the `janus` and `transaction` strings of its message, a handle only with a
//   session, path ids in place of body ids, and its message serialises without throwing.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "signaling/api_message.h"

namespace {

using namespace junction::signaling;

#define FUZZ_CHECK(cond)                                                                       \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "api_request_fuzzer: check failed: %s (line %d)\n", #cond, __LINE__); \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)

volatile size_t g_sink;

void check(std::string_view text, const PathIds* path) {
  ParseOutcome outcome = parse_request(text, path);
  if (!outcome.request) {
    const json& e = outcome.error;
    FUZZ_CHECK(e.is_object());
    FUZZ_CHECK(e.value("janus", "") == "error");
    FUZZ_CHECK(e.contains("error") && e["error"].is_object());
    FUZZ_CHECK(e["error"].contains("code") && e["error"]["code"].is_number_integer());
    FUZZ_CHECK(e["error"].contains("reason") && e["error"]["reason"].is_string());
    if (e.contains("transaction")) FUZZ_CHECK(e["transaction"].is_string());
    g_sink = e.dump().size();
    return;
  }
  const Request& r = *outcome.request;
  FUZZ_CHECK(outcome.error.is_null());
  FUZZ_CHECK(r.message.is_object());
  FUZZ_CHECK(r.message.at("janus").is_string() && r.message.at("janus") == r.verb);
  FUZZ_CHECK(r.message.at("transaction").is_string() && r.message.at("transaction") == r.transaction);
  FUZZ_CHECK(r.handle_id == 0 || r.session_id != 0);
  if (path != nullptr) {
    FUZZ_CHECK(r.session_id == path->session_id && r.handle_id == path->handle_id);
  } else {
    FUZZ_CHECK(read_id_field(r.message, "session_id") == r.session_id);
    FUZZ_CHECK(read_id_field(r.message, "handle_id") == r.handle_id);
  }
  // What the server does next: answer it (the transaction is echoed), log it.
  g_sink = make_reply("ack", r.transaction, r.session_id).dump().size() + r.message.dump().size() +
           make_error(ApiError::kUnknownRequest, "", r.transaction, r.session_id).dump().size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check(text, nullptr);
  const PathIds session_only{1234, 0};
  check(text, &session_only);
  const PathIds session_and_handle{1234, 5678};
  check(text, &session_and_handle);
  // A handle without a session is refused whatever the body says.
  const PathIds handle_only{0, 5678};
  FUZZ_CHECK(!parse_request(text, &handle_only).request);
  return 0;
}
