// libFuzzer target for the admin API (core/gateway/admin_router.cpp): the bytes an admin client
// sends over /admin (HTTP) or the janus-admin-protocol WebSocket go through parse_request and
// then AdminRouter::handle_admin_request, against a real Gateway holding one session with one
// handle of a plugin that answers admin messages.
//
// The first input byte picks where the request is addressed (the HTTP path ids): the root, the
// live session, or the live handle (ids are random, so the fuzzer could not guess them in the
// body); the rest is the request body. The harness adds the right admin secret unless the low
// bit of that byte is set, so both the refusal and every verb behind it are reached.
//
// Checks, on every input:
// - the router only ever throws ApiException, never anything else;
// - every reply is an object with a `janus` string, serialises without throwing, and echoes the
//   request's transaction; an error carries an integer code and a string reason;
// - without the secret, nothing but `info` and `ping` succeeds (403), and the state is unchanged.
// State the requests change (sessions, handles, tokens, accepting, log level, timeouts) is put
// back after every input, so each input runs against the same server and memory stays bounded.
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "core/base/log.h"
#include "core/gateway/admin_router.h"
#include "core/gateway/api_router.h"
#include "core/gateway/gateway.h"

namespace {

using namespace junction;
using nlohmann::json;
using signaling::ApiException;

#define FUZZ_CHECK(cond)                                                                         \
  do {                                                                                           \
    if (!(cond)) {                                                                               \
      std::fprintf(stderr, "admin_request_fuzzer: check failed: %s (line %d)\n", #cond, __LINE__); \
      std::abort();                                                                              \
    }                                                                                            \
  } while (0)

constexpr const char* kSecret = "fuzz-admin-secret";
constexpr const char* kPackage = "fuzz.plugin.admin";

// A plugin whose admin handler echoes the request and whose sessions answer queries.
class EchoAdminPlugin : public plugin::Plugin {
 public:
  plugin::Info info() const override { return {kPackage, "Fuzz", "admin fuzzing", "tests", "1", 1}; }
  void init(plugin::Services&, const json&) override {}
  void shutdown() override {}
  void create_session(plugin::HandleId) override {}
  void destroy_session(plugin::HandleId) override {}
  json query_session(plugin::HandleId handle) override { return {{"handle", handle}}; }
  plugin::MessageResult handle_message(plugin::HandleId, const std::string&, const json&, const json&) override {
    return plugin::MessageResult::ok(json::object());
  }
  json handle_admin_message(const json& request) override { return {{"echo", request}}; }
};

class NullConnection : public signaling::ClientConnection {
 public:
  void send_event(const json&) override {}
  bool is_open() const override { return true; }
  std::string describe() const override { return "fuzz connection"; }
};

struct Fixture {
  uv_loop_t loop;
  Config config;
  // Plain pointers: the fixture lives until exit (Gateway's destructor is not virtual, so a
  // unique_ptr to it does not compile under clang's -Wdelete-non-abstract-non-virtual-dtor).
  gateway::Gateway* gateway = nullptr;
  std::unique_ptr<gateway::ApiRouter> api;
  std::unique_ptr<gateway::AdminRouter> admin;
  std::shared_ptr<NullConnection> connection = std::make_shared<NullConnection>();
  uint64_t session_id = 0;
  uint64_t handle_id = 0;

  Fixture() {
    uv_loop_init(&loop);
    log::set_level(spdlog::level::off);
    config.admin_secret = kSecret;
    config.media_workers = 1;
    gateway = new gateway::Gateway(&loop, config);
    gateway->plugins().add(std::make_unique<EchoAdminPlugin>(), *gateway, json::object());
    api = std::make_unique<gateway::ApiRouter>(*gateway);
    admin = std::make_unique<gateway::AdminRouter>(*gateway, *api);
  }

  // Puts back what an admin request may have changed; a session and a handle exist afterwards.
  void restore() {
    log::set_level(spdlog::level::off);
    gateway->set_accepting_new_sessions(true);
    gateway->auth().tokens() = gateway::TokenStore();
    gateway->set_session_timeout(config.session_timeout);
    gateway::Session* session = gateway->find_session(session_id);
    for (auto it = gateway->sessions().begin(); it != gateway->sessions().end();) {
      uint64_t id = (it++)->first;
      if (id != session_id) gateway->destroy_session(id, "fuzz reset");
    }
    if (session == nullptr) {
      session = &gateway->create_session(0, connection);
      session_id = session->id;
      handle_id = 0;
    }
    session->timeout = -1;
    if (session->handles.find(handle_id) == session->handles.end())
      handle_id = gateway->attach(*session, kPackage, "").id;
    for (int i = 0; i < 4; ++i) uv_run(&loop, UV_RUN_NOWAIT);
  }
};

Fixture& fixture() {
  static Fixture* f = [] {
    auto* made = new Fixture();  // never destroyed: libFuzzer exits without unwinding
    made->restore();
    return made;
  }();
  return *f;
}

void check_reply(const json& reply, const std::string& transaction) {
  FUZZ_CHECK(reply.is_object());
  FUZZ_CHECK(reply.contains("janus") && reply["janus"].is_string());
  FUZZ_CHECK(reply.value("transaction", "") == transaction);
  if (reply["janus"] == "error") {
    FUZZ_CHECK(reply.contains("error") && reply["error"].is_object());
    FUZZ_CHECK(reply["error"].contains("code") && reply["error"]["code"].is_number_integer());
    FUZZ_CHECK(reply["error"].contains("reason") && reply["error"]["reason"].is_string());
  }
  volatile size_t sink = reply.dump().size();
  (void)sink;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Fixture& f = fixture();
  const uint8_t mode = data[0];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool with_secret = (mode & 1) == 0;
  signaling::PathIds path{0, 0};
  const signaling::PathIds* where = nullptr;
  switch ((mode >> 1) % 3) {
    case 1: path = {f.session_id, 0}; where = &path; break;
    case 2: path = {f.session_id, f.handle_id}; where = &path; break;
    default: break;
  }
  signaling::ParseOutcome parsed = signaling::parse_request(body, where);
  if (!parsed.request) return 0;  // the envelope parser has its own fuzzer (api_request)
  signaling::Request& request = *parsed.request;
  if (with_secret) request.message["admin_secret"] = kSecret;
  else request.message.erase("admin_secret");

  const size_t sessions_before = f.gateway->session_count();
  json reply;
  try {
    reply = f.admin->handle_admin_request(request);
  } catch (const ApiException& e) {
    reply = signaling::make_error(e.code(), e.what(), request.transaction, request.session_id);
  }
  for (int i = 0; i < 4; ++i) uv_run(&f.loop, UV_RUN_NOWAIT);
  check_reply(reply, request.transaction);
  if (!with_secret && request.verb != "info" && request.verb != "ping") {
    FUZZ_CHECK(reply["janus"] == "error" && reply["error"]["code"] == 403);
    FUZZ_CHECK(f.gateway->session_count() == sessions_before);
    FUZZ_CHECK(f.gateway->find_session(f.session_id) != nullptr);
  }
  f.restore();
  return 0;
}
