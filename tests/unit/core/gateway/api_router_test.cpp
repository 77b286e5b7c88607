#include "core/gateway/api_router.h"

#include <gtest/gtest.h>

#include <deque>
#include <fstream>
#include <sstream>
#include <set>
#include <thread>

#include "core/base/ids.h"
#include "core/gateway/gateway.h"

namespace junction::gateway {
namespace {

using nlohmann::json;
using signaling::ApiException;

// A plugin whose answers the test chooses through the message body.
class FakePlugin : public plugin::Plugin {
 public:
  plugin::Info info() const override { return {"test.plugin.fake", "Fake", "for tests", "tests", "1", 1}; }
  void init(plugin::Services& services, const json&) override { services_ = &services; }
  void shutdown() override { shut_down = true; }
  void create_session(plugin::HandleId handle) override {
    if (refuse_attach) throw std::runtime_error("refused");
    handles.insert(handle);
  }
  void destroy_session(plugin::HandleId handle) override { handles.erase(handle); }
  json query_session(plugin::HandleId) override { return json::object(); }
  plugin::MessageResult handle_message(plugin::HandleId handle, const std::string& transaction,
                                       const json& body, const json& jsep) override {
    last_jsep = jsep;
    std::string mode = body.value("mode", "ack");
    if (mode == "sync") return plugin::MessageResult::ok({{"answer", 42}});
    if (mode == "fail") return plugin::MessageResult::error("no thanks");
    services_->push_event(handle, transaction, {{"async", true}});
    return plugin::MessageResult::ack("working");
  }

  plugin::Services* services_ = nullptr;
  std::set<plugin::HandleId> handles;
  bool refuse_attach = false;
  bool shut_down = false;
  json last_jsep;
};

std::string aiortc_offer() {
  std::ifstream in(std::string(JUNCTION_SOURCE_DIR) + "/tests/unit/core/media/fixtures/aiortc-1.4-offer-audio-video-data.sdp");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class RecordingConnection : public signaling::ClientConnection {
 public:
  void send_event(const json& event) override { events.push_back(event); }
  bool is_open() const override { return true; }
  std::string describe() const override { return "test connection"; }
  std::deque<json> events;
};

class ApiRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uv_loop_init(&loop_);
    make_gateway(make_config(json::object()));
  }
  void TearDown() override {
    router_.reset();
    gateway_.reset();
    run_loop();
    uv_loop_close(&loop_);
  }
  void make_gateway(const Config& config) {
    router_.reset();
    gateway_.reset();
    gateway_ = std::make_unique<Gateway>(&loop_, config);
    auto plugin = std::make_unique<FakePlugin>();
    plugin_ = plugin.get();
    gateway_->plugins().add(std::move(plugin), *gateway_, json::object());
    router_ = std::make_unique<ApiRouter>(*gateway_);
  }
  void run_loop() {
    for (int i = 0; i < 10; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
  }

  // Sends a request the way the WebSocket transport does; API errors become error replies.
  json send(json message, const std::shared_ptr<RecordingConnection>& connection = nullptr) {
    auto parsed = signaling::parse_request(message.dump());
    if (!parsed.request) return parsed.error;
    try {
      return router_->handle_request(*parsed.request, connection ? connection : conn_);
    } catch (const ApiException& e) {
      return signaling::make_error(e.code(), e.what(), parsed.request->transaction);
    }
  }
  static int code(const json& reply) { return reply["janus"] == "error" ? reply["error"]["code"].get<int>() : 0; }

  uint64_t create() { return send({{"janus", "create"}, {"transaction", "c"}})["data"]["id"]; }
  uint64_t attach(uint64_t session) {
    return send({{"janus", "attach"}, {"transaction", "a"}, {"session_id", session}, {"plugin", "test.plugin.fake"}})
        ["data"]["id"];
  }

  uv_loop_t loop_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<ApiRouter> router_;
  FakePlugin* plugin_ = nullptr;
  std::shared_ptr<RecordingConnection> conn_ = std::make_shared<RecordingConnection>();
};

TEST_F(ApiRouterTest, CreateAttachMessageDetachDestroy) {
  uint64_t s = create();
  EXPECT_GT(s, 0u);
  EXPECT_LE(s, kMaxJsSafeId);
  uint64_t h = attach(s);
  EXPECT_EQ(plugin_->handles.count(h), 1u);

  json sync = send({{"janus", "message"}, {"transaction", "m1"}, {"session_id", s}, {"handle_id", h},
                    {"body", {{"mode", "sync"}}}});
  EXPECT_EQ(sync["janus"], "success");
  EXPECT_EQ(sync["sender"], h);
  EXPECT_EQ(sync["plugindata"]["plugin"], "test.plugin.fake");
  EXPECT_EQ(sync["plugindata"]["data"]["answer"], 42);

  json junk = send({{"janus", "message"}, {"transaction", "m2"}, {"session_id", s}, {"handle_id", h},
                    {"body", json::object()}, {"jsep", {{"type", "offer"}, {"sdp", "v=0\r\n"}}}});
  EXPECT_EQ(code(junk), 465) << "an SDP without o=, s= and m= lines";
  EXPECT_TRUE(plugin_->last_jsep.is_null()) << "the plugin never sees an unusable SDP";

  json ack = send({{"janus", "message"}, {"transaction", "m2"}, {"session_id", s}, {"handle_id", h},
                   {"body", json::object()}, {"jsep", {{"type", "offer"}, {"sdp", aiortc_offer()}}}});
  EXPECT_EQ(ack["janus"], "ack");
  EXPECT_EQ(ack["hint"], "working");
  EXPECT_EQ(plugin_->last_jsep["type"], "offer");
  EXPECT_FALSE(plugin_->last_jsep.contains("update")) << "a first offer is not a renegotiation";
  EXPECT_TRUE(conn_->events.empty()) << "events wait for the loop, after the reply";
  run_loop();
  ASSERT_EQ(conn_->events.size(), 1u);
  json event = conn_->events.front();
  EXPECT_EQ(event["janus"], "event");
  EXPECT_EQ(event["transaction"], "m2");
  EXPECT_EQ(event["session_id"], s);
  EXPECT_EQ(event["sender"], h);
  EXPECT_EQ(event["plugindata"]["data"]["async"], true);
  conn_->events.clear();

  json failed = send({{"janus", "message"}, {"transaction", "m3"}, {"session_id", s}, {"handle_id", h},
                      {"body", {{"mode", "fail"}}}});
  EXPECT_EQ(code(failed), 462);
  EXPECT_EQ(failed["error"]["reason"], "no thanks");

  json detached = send({{"janus", "detach"}, {"transaction", "d"}, {"session_id", s}, {"handle_id", h}});
  EXPECT_EQ(detached["janus"], "success");
  EXPECT_EQ(plugin_->handles.count(h), 0u);
  EXPECT_TRUE(conn_->events.empty()) << "`detached` follows the success reply";
  run_loop();
  ASSERT_EQ(conn_->events.size(), 1u);
  EXPECT_EQ(conn_->events.front()["janus"], "detached");
  EXPECT_EQ(conn_->events.front()["sender"], h);

  EXPECT_EQ(code(send({{"janus", "detach"}, {"transaction", "d"}, {"session_id", s}, {"handle_id", h}})), 459);
  EXPECT_EQ(send({{"janus", "destroy"}, {"transaction", "x"}, {"session_id", s}})["janus"], "success");
  EXPECT_EQ(code(send({{"janus", "destroy"}, {"transaction", "x"}, {"session_id", s}})), 458);
  EXPECT_TRUE(conn_->sessions().empty());
}

TEST_F(ApiRouterTest, RequestsAtTheWrongLevel) {
  uint64_t s = create();
  uint64_t h = attach(s);
  EXPECT_EQ(code(send({{"janus", "attach"}, {"transaction", "t"}, {"plugin", "test.plugin.fake"}})), 457);
  EXPECT_EQ(code(send({{"janus", "bogus"}, {"transaction", "t"}})), 457);
  EXPECT_EQ(code(send({{"janus", "bogus"}, {"transaction", "t"}, {"session_id", s}})), 453);
  EXPECT_EQ(code(send({{"janus", "bogus"}, {"transaction", "t"}, {"session_id", s}, {"handle_id", h}})), 453);
  EXPECT_EQ(code(send({{"janus", "message"}, {"transaction", "t"}, {"session_id", s}, {"body", json::object()}})), 457);
  EXPECT_EQ(code(send({{"janus", "attach"}, {"transaction", "t"}, {"session_id", s}, {"handle_id", h},
                       {"plugin", "test.plugin.fake"}})), 457);
  EXPECT_EQ(code(send({{"janus", "keepalive"}, {"transaction", "t"}, {"session_id", s}, {"handle_id", h}})), 457);
  EXPECT_EQ(code(send({{"janus", "create"}, {"transaction", "t"}, {"session_id", s}})), 457);
  EXPECT_EQ(send({{"janus", "ping"}, {"transaction", "t"}})["janus"], "pong");
  EXPECT_EQ(send({{"janus", "info"}, {"transaction", "t"}})["janus"], "server_info");
  EXPECT_TRUE(send({{"janus", "info"}, {"transaction", "t"}})["plugins"].contains("test.plugin.fake"));
}

TEST_F(ApiRouterTest, UnknownIdsAndMissingFields) {
  uint64_t s = create();
  uint64_t h = attach(s);
  uint64_t other = create();
  EXPECT_EQ(code(send({{"janus", "keepalive"}, {"transaction", "t"}, {"session_id", s + 1}})), 458);
  // A real handle id under another session is not found: handles belong to their session.
  EXPECT_EQ(code(send({{"janus", "message"}, {"transaction", "t"}, {"session_id", other}, {"handle_id", h},
                       {"body", json::object()}})), 459);
  EXPECT_EQ(code(send({{"janus", "attach"}, {"transaction", "t"}, {"session_id", s}})), 456);
  EXPECT_EQ(code(send({{"janus", "attach"}, {"transaction", "t"}, {"session_id", s}, {"plugin", 5}})), 467);
  EXPECT_EQ(code(send({{"janus", "attach"}, {"transaction", "t"}, {"session_id", s}, {"plugin", "nope"}})), 460);
  EXPECT_EQ(code(send({{"janus", "attach"}, {"transaction", "t"}, {"session_id", s}, {"plugin", "test.plugin.fake"},
                       {"opaque_id", 3}})), 467);
  plugin_->refuse_attach = true;
  EXPECT_EQ(code(send({{"janus", "attach"}, {"transaction", "t"}, {"session_id", s}, {"plugin", "test.plugin.fake"}})), 461);

  auto msg = [&](json extra) {
    json m = {{"janus", "message"}, {"transaction", "t"}, {"session_id", s}, {"handle_id", h}};
    m.update(extra);
    return code(send(m));
  };
  EXPECT_EQ(msg(json::object()), 456);
  EXPECT_EQ(msg({{"body", "x"}}), 467);
  EXPECT_EQ(msg({{"body", json::object()}, {"jsep", {{"type", "pranswer"}, {"sdp", "v=0"}}}}), 464);
  EXPECT_EQ(msg({{"body", json::object()}, {"jsep", {{"type", "offer"}}}}), 456);
  EXPECT_EQ(msg({{"body", json::object()}, {"jsep", {{"sdp", "v=0"}}}}), 456);
  EXPECT_EQ(msg({{"body", json::object()}, {"jsep", {{"type", "offer"}, {"sdp", "hello"}}}}), 465);
  EXPECT_EQ(msg({{"body", json::object()}, {"jsep", "offer"}}), 467);
}

TEST_F(ApiRouterTest, ChosenSessionIdAndConflict) {
  EXPECT_EQ(send({{"janus", "create"}, {"transaction", "t"}, {"id", 777}})["data"]["id"], 777);
  EXPECT_EQ(code(send({{"janus", "create"}, {"transaction", "t"}, {"id", 777}})), 468);
  EXPECT_EQ(code(send({{"janus", "create"}, {"transaction", "t"}, {"id", "777"}})), 467);
}

TEST_F(ApiRouterTest, TrickleIsAckedAndQueued) {
  uint64_t s = create();
  uint64_t h = attach(s);
  auto trickle = [&](json extra) {
    json m = {{"janus", "trickle"}, {"transaction", "t"}, {"session_id", s}, {"handle_id", h}};
    m.update(extra);
    return send(m);
  };
  EXPECT_EQ(trickle({{"candidate", {{"candidate", "candidate:1 1 udp 1 127.0.0.1 9 typ host"}, {"sdpMid", "0"}}}})["janus"], "ack");
  EXPECT_EQ(trickle({{"candidates", json::array({{{"completed", true}}})}})["janus"], "ack");
  EXPECT_EQ(trickle({{"candidate", 5}})["janus"], "ack");
  EXPECT_EQ(code(trickle({{"candidate", json::object()}, {"candidates", json::array()}})), 454);
  EXPECT_EQ(code(trickle(json::object())), 456);
  EXPECT_EQ(code(trickle({{"candidates", 1}})), 467);
  EXPECT_EQ(gateway_->find_session(s)->handles.at(h)->pending_trickles.size(), 3u);
}

TEST_F(ApiRouterTest, IdleSessionTimesOutAndKeepaliveKeepsItAlive) {
  Config config = make_config({{"session_timeout", 5}});
  make_gateway(config);
  uint64_t idle = create();
  uint64_t busy = create();
  uint64_t h = attach(idle);
  // Pretend 6 s passed; the busy session sent a keepalive just now.
  gateway_->find_session(idle)->last_activity -= std::chrono::seconds(6);
  gateway_->find_session(busy)->last_activity -= std::chrono::seconds(6);
  EXPECT_EQ(send({{"janus", "keepalive"}, {"transaction", "k"}, {"session_id", busy}})["janus"], "ack");
  gateway_->sweep();
  EXPECT_EQ(gateway_->find_session(idle), nullptr);
  EXPECT_NE(gateway_->find_session(busy), nullptr);
  EXPECT_EQ(plugin_->handles.count(h), 0u) << "the plugin hears about the handle going away";
  ASSERT_FALSE(conn_->events.empty());
  EXPECT_EQ(conn_->events.front()["janus"], "timeout");
  EXPECT_EQ(conn_->events.front()["session_id"], idle);
  EXPECT_EQ(code(send({{"janus", "keepalive"}, {"transaction", "k"}, {"session_id", idle}})), 458);
}

TEST_F(ApiRouterTest, ClosedConnectionDestroysItsSessions) {
  auto other = std::make_shared<RecordingConnection>();
  uint64_t mine = create();
  uint64_t theirs = send({{"janus", "create"}, {"transaction", "c"}}, other)["data"]["id"];
  router_->connection_closed(conn_);
  EXPECT_EQ(gateway_->find_session(mine), nullptr);
  EXPECT_NE(gateway_->find_session(theirs), nullptr);
}

TEST_F(ApiRouterTest, ReclaimWindowAllowsClaimFromAnotherConnection) {
  make_gateway(make_config({{"reclaim_session_timeout", 10}}));
  uint64_t s = create();
  router_->connection_closed(conn_);
  ASSERT_NE(gateway_->find_session(s), nullptr);
  auto next = std::make_shared<RecordingConnection>();
  EXPECT_EQ(send({{"janus", "claim"}, {"transaction", "c"}, {"session_id", s}}, next)["janus"], "success");
  EXPECT_EQ(next->sessions().count(s), 1u);
  uint64_t h = attach(s);
  send({{"janus", "message"}, {"transaction", "m"}, {"session_id", s}, {"handle_id", h}, {"body", json::object()}});
  run_loop();
  EXPECT_EQ(next->events.size(), 1u) << "events now go to the claiming connection";
}

TEST_F(ApiRouterTest, UnclaimedSessionExpires) {
  make_gateway(make_config({{"reclaim_session_timeout", 1}}));
  uint64_t s = create();
  router_->connection_closed(conn_);
  gateway_->find_session(s)->orphaned_since -= std::chrono::seconds(2);
  gateway_->sweep();
  EXPECT_EQ(gateway_->find_session(s), nullptr);
}

TEST_F(ApiRouterTest, SessionLimitAnswers472) {
  make_gateway(make_config({{"max_sessions", 2}}));
  create();
  create();
  EXPECT_EQ(code(send({{"janus", "create"}, {"transaction", "t"}})), 472);
}

TEST_F(ApiRouterTest, EndSessionFromPluginDetaches) {
  uint64_t s = create();
  uint64_t h = attach(s);
  plugin_->services_->end_session(h);
  run_loop();
  EXPECT_EQ(gateway_->find_session(s)->handles.count(h), 0u);
  ASSERT_FALSE(conn_->events.empty());
  EXPECT_EQ(conn_->events.back()["janus"], "detached");
  // An event for a handle that no longer exists is dropped, not delivered.
  plugin_->services_->push_event(h, "late", {{"x", 1}});
  std::size_t before = conn_->events.size();
  run_loop();
  EXPECT_EQ(conn_->events.size(), before);
}

TEST_F(ApiRouterTest, ShutdownDetachesEveryHandleAndStopsPlugins) {
  uint64_t s = create();
  uint64_t h = attach(s);
  gateway_->shutdown();
  EXPECT_EQ(gateway_->session_count(), 0u);
  EXPECT_TRUE(plugin_->shut_down);
  ASSERT_FALSE(conn_->events.empty());
  EXPECT_EQ(conn_->events.back()["janus"], "detached");
  EXPECT_EQ(conn_->events.back()["sender"], h);
  EXPECT_EQ(code(send({{"janus", "create"}, {"transaction", "t"}})), 472);
  (void)s;
}

TEST_F(ApiRouterTest, PluginTimersFireOnTheLoop) {
  int fired = 0;
  plugin_->services_->start_timer(std::chrono::milliseconds(1), false, [&] { ++fired; });
  plugin::TimerId cancelled = plugin_->services_->start_timer(std::chrono::milliseconds(1), false, [&] { fired += 100; });
  plugin_->services_->cancel_timer(cancelled);
  for (int i = 0; i < 50 && fired == 0; ++i) {
    uv_run(&loop_, UV_RUN_NOWAIT);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  run_loop();
  EXPECT_EQ(fired, 1);
}

}  // namespace
}  // namespace junction::gateway
