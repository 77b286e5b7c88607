#include "core/gateway/admin_router.h"

#include <gtest/gtest.h>

#include "core/base/log.h"

namespace junction::gateway {
namespace {

using nlohmann::json;
using signaling::ApiException;

class AdminFakePlugin : public plugin::Plugin {
 public:
  explicit AdminFakePlugin(std::string package) : package_(std::move(package)) {}
  plugin::Info info() const override { return {package_, "Fake", "for tests", "tests", "1", 1}; }
  void init(plugin::Services&, const json&) override {}
  void shutdown() override {}
  void create_session(plugin::HandleId) override {}
  void destroy_session(plugin::HandleId) override {}
  json query_session(plugin::HandleId handle) override { return {{"queried", handle}}; }
  plugin::MessageResult handle_message(plugin::HandleId, const std::string&, const json&, const json&) override {
    return plugin::MessageResult::ok(json::object());
  }
  json handle_admin_message(const json& request) override { return {{"echo", request}}; }

 private:
  std::string package_;
};

class NullConnection : public signaling::ClientConnection {
 public:
  void send_event(const json&) override {}
  bool is_open() const override { return true; }
  std::string describe() const override { return "test connection"; }
};

class AdminRouterTest : public ::testing::Test {
 protected:
  void SetUp() override { uv_loop_init(&loop_); }
  void TearDown() override {
    admin_.reset();
    api_.reset();
    gateway_.reset();
    for (int i = 0; i < 10; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
    uv_loop_close(&loop_);
  }
  void start(const json& config) {
    gateway_ = std::make_unique<Gateway>(&loop_, make_config(config));
    gateway_->plugins().add(std::make_unique<AdminFakePlugin>("test.plugin.one"), *gateway_, json::object());
    gateway_->plugins().add(std::make_unique<AdminFakePlugin>("test.plugin.two"), *gateway_, json::object());
    api_ = std::make_unique<ApiRouter>(*gateway_);
    admin_ = std::make_unique<AdminRouter>(*gateway_, *api_);
  }
  template <typename Handler>
  static json call(Handler& handler, json message, std::shared_ptr<signaling::ClientConnection> connection) {
    message["transaction"] = "t";
    auto parsed = signaling::parse_request(message.dump());
    if (!parsed.request) return parsed.error;
    try {
      if constexpr (std::is_same_v<Handler, AdminRouter>) return handler.handle_admin_request(*parsed.request);
      else return handler.handle_request(*parsed.request, connection);
    } catch (const ApiException& e) {
      return signaling::make_error(e.code(), e.what(), parsed.request->transaction);
    }
  }
  json admin(json message) {
    if (!message.contains("admin_secret")) message["admin_secret"] = "adm";
    return call(*admin_, std::move(message), nullptr);
  }
  json client(json message) { return call(*api_, std::move(message), conn_); }
  static int code(const json& reply) { return reply["janus"] == "error" ? reply["error"]["code"].get<int>() : 0; }

  uv_loop_t loop_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<ApiRouter> api_;
  std::unique_ptr<AdminRouter> admin_;
  std::shared_ptr<NullConnection> conn_ = std::make_shared<NullConnection>();
};

TEST_F(AdminRouterTest, AdminSecretGuardsAllButInfoAndPing) {
  start({{"admin_secret", "adm"}});
  EXPECT_EQ(call(*admin_, {{"janus", "info"}}, nullptr)["janus"], "server_info");
  EXPECT_EQ(call(*admin_, {{"janus", "ping"}}, nullptr)["janus"], "pong");
  EXPECT_EQ(code(call(*admin_, {{"janus", "list_sessions"}}, nullptr)), 403);
  EXPECT_EQ(code(admin({{"janus", "list_sessions"}, {"admin_secret", "wrong"}})), 403);
  EXPECT_EQ(code(call(*admin_, {{"janus", "bogus"}}, nullptr)), 403) << "the secret is checked first";
  EXPECT_EQ(code(admin({{"janus", "bogus"}})), 457);
  EXPECT_EQ(admin({{"janus", "list_sessions"}})["sessions"], json::array());
}

TEST_F(AdminRouterTest, SessionsHandlesAndTheirInfo) {
  start(json::object());
  uint64_t s1 = client({{"janus", "create"}})["data"]["id"];
  uint64_t s2 = client({{"janus", "create"}})["data"]["id"];
  uint64_t h = client({{"janus", "attach"}, {"session_id", s1}, {"plugin", "test.plugin.one"}, {"opaque_id", "op"}})
      ["data"]["id"];
  json sessions = admin({{"janus", "list_sessions"}})["sessions"];
  EXPECT_EQ(std::set<uint64_t>(sessions.begin(), sessions.end()), (std::set<uint64_t>{s1, s2}));
  EXPECT_EQ(admin({{"janus", "list_handles"}, {"session_id", s1}})["handles"], json::array({h}));
  EXPECT_EQ(code(admin({{"janus", "list_handles"}})), 457);
  EXPECT_EQ(code(admin({{"janus", "list_handles"}, {"session_id", s1 ^ 1}})), 458);

  json info = admin({{"janus", "handle_info"}, {"session_id", s1}, {"handle_id", h}});
  EXPECT_EQ(info["janus"], "success");
  EXPECT_EQ(info["info"]["plugin"], "test.plugin.one");
  EXPECT_EQ(info["info"]["opaque_id"], "op");
  EXPECT_EQ(info["info"]["plugin_specific"]["queried"], h);
  EXPECT_TRUE(info["info"]["webrtc"].is_null()) << "no PeerConnection yet";
  EXPECT_EQ(code(admin({{"janus", "handle_info"}, {"session_id", s2}, {"handle_id", h}})), 459);
  // Found by admin_request_fuzzer: a non-boolean plugin_only was an internal error (490).
  EXPECT_EQ(code(admin({{"janus", "handle_info"}, {"session_id", s1}, {"handle_id", h}, {"plugin_only", "yes"}})),
            467);
  EXPECT_EQ(admin({{"janus", "handle_info"}, {"session_id", s1}, {"handle_id", h}, {"plugin_only", true}})
                ["info"].contains("session_id"), false);

  EXPECT_EQ(admin({{"janus", "detach_handle"}, {"session_id", s1}, {"handle_id", h}})["janus"], "success");
  EXPECT_EQ(admin({{"janus", "list_handles"}, {"session_id", s1}})["handles"], json::array());
  EXPECT_EQ(admin({{"janus", "destroy_session"}, {"session_id", s2}})["janus"], "success");
  EXPECT_EQ(admin({{"janus", "list_sessions"}})["sessions"], json::array({s1}));
}

TEST_F(AdminRouterTest, AcceptNewSessions) {
  start(json::object());
  EXPECT_EQ(admin({{"janus", "accept_new_sessions"}, {"accept", false}})["accept"], false);
  EXPECT_EQ(code(client({{"janus", "create"}})), 472);
  EXPECT_EQ(client({{"janus", "info"}})["accepting-new-sessions"], false);
  EXPECT_EQ(code(admin({{"janus", "accept_new_sessions"}, {"accept", "yes"}})), 467);
  admin({{"janus", "accept_new_sessions"}, {"accept", true}});
  EXPECT_EQ(client({{"janus", "create"}})["janus"], "success");
}

TEST_F(AdminRouterTest, SessionTimeouts) {
  start(json::object());
  uint64_t s = client({{"janus", "create"}})["data"]["id"];
  EXPECT_EQ(admin({{"janus", "set_session_timeout"}, {"timeout", 120}})["timeout"], 120);
  EXPECT_EQ(gateway_->config().session_timeout, 120);
  EXPECT_EQ(admin({{"janus", "set_session_timeout"}, {"session_id", s}, {"timeout", 0}})["timeout"], 0);
  EXPECT_EQ(gateway_->find_session(s)->timeout, 0);
  EXPECT_EQ(code(admin({{"janus", "set_session_timeout"}, {"timeout", -1}})), 467);
  EXPECT_EQ(code(admin({{"janus", "set_session_timeout"}})), 456);
}

TEST_F(AdminRouterTest, LogLevel) {
  start(json::object());
  auto before = log::level();
  EXPECT_EQ(admin({{"janus", "set_log_level"}, {"level", "debug"}})["level_name"], "debug");
  EXPECT_EQ(log::level(), spdlog::level::debug);
  EXPECT_EQ(admin({{"janus", "set_log_level"}, {"level", 3}})["level_name"], "warn");
  EXPECT_EQ(code(admin({{"janus", "set_log_level"}, {"level", 9}})), 467);
  EXPECT_EQ(code(admin({{"janus", "set_log_level"}, {"level", "loud"}})), 467);
  log::set_level(before);
}

TEST_F(AdminRouterTest, TokensThroughTheAdminApi) {
  start({{"token_auth", true}});
  EXPECT_EQ(code(client({{"janus", "create"}})), 403);
  EXPECT_EQ(code(admin({{"janus", "add_token"}, {"token", "tok"}, {"plugins", {"test.plugin.nope"}}})), 460);
  EXPECT_EQ(code(client({{"janus", "create"}, {"token", "tok"}})), 403) << "a refused add_token adds nothing";
  EXPECT_EQ(admin({{"janus", "add_token"}, {"token", "tok"}, {"plugins", {"test.plugin.one"}}})["data"]["plugins"],
            json::array({"test.plugin.one"}));
  uint64_t s = client({{"janus", "create"}, {"token", "tok"}})["data"]["id"];
  EXPECT_EQ(client({{"janus", "attach"}, {"session_id", s}, {"token", "tok"}, {"plugin", "test.plugin.one"}})["janus"],
            "success");
  EXPECT_EQ(code(client({{"janus", "attach"}, {"session_id", s}, {"token", "tok"}, {"plugin", "test.plugin.two"}})),
            405);
  EXPECT_EQ(code(client({{"janus", "attach"}, {"session_id", s}, {"token", "tok"}, {"plugin", "test.plugin.x"}})),
            460);
  EXPECT_EQ(admin({{"janus", "allow_token"}, {"token", "tok"}, {"plugins", {"test.plugin.two"}}})["data"]["plugins"],
            json::array({"test.plugin.one", "test.plugin.two"}));
  EXPECT_EQ(client({{"janus", "attach"}, {"session_id", s}, {"token", "tok"}, {"plugin", "test.plugin.two"}})["janus"],
            "success");
  admin({{"janus", "disallow_token"}, {"token", "tok"}, {"plugins", {"test.plugin.one"}}});
  json list = admin({{"janus", "list_tokens"}})["data"]["tokens"];
  EXPECT_EQ(list, json::parse(R"([{"token":"tok","allowed_plugins":["test.plugin.two"]}])"));
  EXPECT_EQ(code(admin({{"janus", "allow_token"}, {"token", "nope"}, {"plugins", {"test.plugin.two"}}})), 470);
  // A token without a plugin list opens every plugin.
  EXPECT_EQ(admin({{"janus", "add_token"}, {"token", "all"}})["data"]["plugins"].size(), 2u);
  EXPECT_EQ(admin({{"janus", "remove_token"}, {"token", "tok"}})["janus"], "success");
  EXPECT_EQ(code(client({{"janus", "keepalive"}, {"session_id", s}, {"token", "tok"}})), 403);
  EXPECT_EQ(code(admin({{"janus", "remove_token"}, {"token", "tok"}})), 470);
}

TEST_F(AdminRouterTest, TokenVerbsNeedTokenAuth) {
  start(json::object());
  EXPECT_EQ(code(admin({{"janus", "add_token"}, {"token", "tok"}})), 490);
  EXPECT_EQ(code(admin({{"janus", "list_tokens"}})), 490);
}

TEST_F(AdminRouterTest, MessagePlugin) {
  start(json::object());
  json reply = admin({{"janus", "message_plugin"}, {"plugin", "test.plugin.one"}, {"request", {{"q", 1}}}});
  EXPECT_EQ(reply["response"]["echo"]["q"], 1);
  EXPECT_EQ(code(admin({{"janus", "message_plugin"}, {"plugin", "nope"}, {"request", json::object()}})), 460);
  EXPECT_EQ(code(admin({{"janus", "message_plugin"}, {"plugin", "test.plugin.one"}})), 456);
}

TEST_F(AdminRouterTest, ApiSecretRefusalsChangeNothing) {
  start({{"api_secret", "api"}});
  EXPECT_EQ(code(client({{"janus", "create"}})), 403);
  EXPECT_EQ(code(client({{"janus", "create"}, {"apisecret", "nope"}})), 403);
  EXPECT_EQ(gateway_->session_count(), 0u);
  EXPECT_EQ(client({{"janus", "info"}})["api_secret"], true);
  uint64_t s = client({{"janus", "create"}, {"apisecret", "api"}})["data"]["id"];
  EXPECT_EQ(code(client({{"janus", "destroy"}, {"session_id", s}})), 403);
  EXPECT_NE(gateway_->find_session(s), nullptr);
  // HTTP long polls bring their credentials from the query string.
  EXPECT_THROW(api_->touch_session(s, json::object()), ApiException);
  EXPECT_TRUE(api_->touch_session(s, {{"apisecret", "api"}}));
  EXPECT_FALSE(api_->touch_session(s ^ 1, {{"apisecret", "api"}}));
}

TEST_F(AdminRouterTest, MetricsCountSessions) {
  start(json::object());
  std::string before = admin_->metrics();
  EXPECT_NE(before.find("\njunction_sessions_created_total 0\n"), std::string::npos) << before;
  client({{"janus", "create"}});
  std::string after = admin_->metrics();
  EXPECT_NE(after.find("\njunction_sessions_created_total 1\n"), std::string::npos) << after;
  EXPECT_NE(after.find("\njunction_sessions 1\n"), std::string::npos) << after;
  EXPECT_NE(after.find("# TYPE junction_rtp_packets_total counter\n"), std::string::npos);
  EXPECT_EQ(admin_->health()["status"], "ok");
}

}  // namespace
}  // namespace junction::gateway
