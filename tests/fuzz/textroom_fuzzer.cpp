// libFuzzer target for text room requests (plugins/textroom/rooms.h): every data channel message
// a participant sends to janus.plugin.textroom is one.
//
// Checks, on every input: the input parsed as JSON (as the plugin does, nesting limited) goes to
// Rooms::handle over the data channel for one of three participants, and over the JSON API;
// handle never throws; its reply is null (a message without ack) or an object whose "textroom"
// is a string, and "error" replies carry an integer error_code in 411..423 or 499 and the
// request's transaction when it had one; replies and every message for others serialize.
// A few fixed requests (a room, joins) run first so that inputs reach the room logic.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "core/base/json_limits.h"
#include "plugins/textroom/rooms.h"

namespace {

using namespace junction::textroom;

#define FUZZ_CHECK(cond)                                                                      \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      std::fprintf(stderr, "textroom_fuzzer: check failed: %s (line %d)\n", #cond, __LINE__); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)

void check(const Outcome& out, const json& request, bool over_channel) {
  if (out.reply.is_null()) return;
  FUZZ_CHECK(out.reply.is_object());
  FUZZ_CHECK(out.reply.contains("textroom") && out.reply["textroom"].is_string());
  const std::string& kind = out.reply["textroom"].get_ref<const std::string&>();
  if (kind == "error" || out.reply.contains("error_code")) {
    FUZZ_CHECK(out.reply["error_code"].is_number_integer());
    int code = out.reply["error_code"].get<int>();
    FUZZ_CHECK((code >= 411 && code <= 423) || code == 499);
    FUZZ_CHECK(out.sends.empty());
  }
  if (over_channel && request.is_object() && request.contains("transaction") && request["transaction"].is_string())
    FUZZ_CHECK(out.reply.value("transaction", json()) == request["transaction"]);
  FUZZ_CHECK(!serialize(out.reply).empty());
  for (const auto& [to, text] : out.sends) FUZZ_CHECK(to >= 1 && to <= 3 && !text.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (junction::json_nesting_depth(text, 64) > 64) return 0;
  json request = json::parse(text, nullptr, false);
  if (request.is_discarded()) return 0;
  Rooms rooms;
  rooms.add({{"room", 1234}, {"secret", "s"}, {"history", 3}});
  rooms.handle(1, {{"textroom", "join"}, {"transaction", "a"}, {"room", 1234}, {"username", "alice"}}, true);
  rooms.handle(2, {{"textroom", "join"}, {"transaction", "b"}, {"room", 1234}, {"username", "bob"}}, true);
  for (uint64_t from = 1; from <= 3; ++from) {
    Outcome out = rooms.handle(from, request, true);
    check(out, request, true);
  }
  check(rooms.handle(3, request, false), request, false);
  for (const auto& [to, text] : rooms.forget(1)) FUZZ_CHECK(to == 2 || to == 3);
  return 0;
}
