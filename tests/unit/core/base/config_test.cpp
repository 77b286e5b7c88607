#include "core/base/config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

namespace junction {
namespace {

using nlohmann::json;

std::string error_of(const json& values) {
  try {
    make_config(values);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, EmptyObjectGivesTheDocumentedDefaults) {
  Config c = make_config(json::object());
  EXPECT_EQ(c.bind, "127.0.0.1");
  EXPECT_EQ(c.ws_port, 8188);
  EXPECT_EQ(c.http_port, 8088);
  EXPECT_EQ(c.admin_port, 7088);
  EXPECT_EQ(c.admin_ws_port, 7188);
  EXPECT_EQ(c.admin_secret, "");
  EXPECT_EQ(c.api_secret, "");
  EXPECT_FALSE(c.token_auth);
  EXPECT_EQ(c.event_push_url, "");
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.session_timeout, 60);
  EXPECT_EQ(c.reclaim_session_timeout, 0);
  EXPECT_EQ(c.long_poll_timeout, 30);
  EXPECT_EQ(c.media_workers, 0);
}

TEST(Config, ValuesAreApplied) {
  Config c = make_config({{"bind", "::1"}, {"ws_port", 9000}, {"log_level", "debug"},
                          {"plugins", {{"janus.plugin.echotest", {{"x", 1}}}}}});
  EXPECT_EQ(c.bind, "::1");
  EXPECT_EQ(c.ws_port, 9000);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.plugins["janus.plugin.echotest"]["x"], 1);
}

TEST(Config, UnknownKeyIsNamed) {
  std::string e = error_of({{"wsport", 1}});
  EXPECT_NE(e.find("'wsport'"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key"), std::string::npos) << e;
}

TEST(Config, WrongTypeIsNamed) {
  std::string e = error_of({{"ws_port", "abc"}});
  EXPECT_NE(e.find("'ws_port'"), std::string::npos) << e;
  EXPECT_NE(e.find("integer"), std::string::npos) << e;
  EXPECT_NE(error_of({{"session_timeout", 1.5}}).find("'session_timeout'"), std::string::npos);
  EXPECT_NE(error_of({{"bind", 127}}).find("'bind'"), std::string::npos);
  EXPECT_NE(error_of({{"plugins", {{"janus.plugin.echotest", 3}}}}).find("'plugins.janus.plugin.echotest'"),
            std::string::npos);
}

TEST(Config, BadValuesAreNamed) {
  EXPECT_NE(error_of({{"ws_port", 70000}}).find("'ws_port'"), std::string::npos);
  EXPECT_NE(error_of({{"http_port", -1}}).find("'http_port'"), std::string::npos);
  EXPECT_NE(error_of({{"ws_port", 18446744073709551615ull}}).find("'ws_port'"), std::string::npos);
  EXPECT_NE(error_of({{"log_level", "loud"}}).find("'log_level'"), std::string::npos);
  EXPECT_NE(error_of({{"bind", "not-an-ip"}}).find("'bind'"), std::string::npos);
  EXPECT_NE(error_of({{"max_message_size", 10}}).find("'max_message_size'"), std::string::npos);
  EXPECT_NE(error_of({{"long_poll_timeout", 0}}).find("'long_poll_timeout'"), std::string::npos);
}

TEST(Config, ListenersNeedDistinctPorts) {
  std::string e = error_of({{"ws_port", 9000}, {"http_port", 9000}});
  EXPECT_NE(e.find("'http_port'"), std::string::npos) << e;
  EXPECT_NE(e.find("'ws_port'"), std::string::npos) << e;
  EXPECT_EQ(error_of({{"ws_port", 0}, {"http_port", 0}}), "") << "0 means off, not a port";
}

TEST(Config, AuthKeys) {
  Config c = make_config({{"admin_secret", "adm"}, {"api_secret", "api"}, {"token_auth", true}, {"admin_ws_port", 9100}});
  EXPECT_EQ(c.admin_secret, "adm");
  EXPECT_EQ(c.api_secret, "api");
  EXPECT_TRUE(c.token_auth);
  EXPECT_EQ(c.admin_ws_port, 9100);
  EXPECT_NE(error_of({{"token_auth", 1}}).find("'token_auth'"), std::string::npos);
  EXPECT_NE(error_of({{"api_secret", 5}}).find("'api_secret'"), std::string::npos);
  EXPECT_NE(error_of({{"admin_ws_port", 70000}}).find("'admin_ws_port'"), std::string::npos);
  EXPECT_EQ(make_config({{"event_push_url", "http://127.0.0.1:9/e"}}).event_push_url, "http://127.0.0.1:9/e");
  EXPECT_NE(error_of({{"event_push_url", "https://x/"}}).find("'event_push_url'"), std::string::npos);
  EXPECT_NE(error_of({{"event_push_url", "http://"}}).find("'event_push_url'"), std::string::npos);
  EXPECT_NE(error_of({{"event_push_url", "http://:80/"}}).find("'event_push_url'"), std::string::npos);
  EXPECT_NE(error_of({{"event_push_url", "http://x:99999/"}}).find("'event_push_url'"), std::string::npos);
  std::string e = error_of({{"admin_port", 9100}, {"admin_ws_port", 9100}});
  EXPECT_NE(e.find("'admin_ws_port'"), std::string::npos) << e;
}

// Secrets never reach the log: the logged form masks them, and leaves unset ones empty.
TEST(Config, LoggedConfigMasksSecrets) {
  json logged = config_to_log_json(make_config({{"admin_secret", "adm-s3cret"}, {"api_secret", "api-s3cret"}}));
  EXPECT_EQ(logged["admin_secret"], "********");
  EXPECT_EQ(logged["api_secret"], "********");
  EXPECT_EQ(logged.dump().find("s3cret"), std::string::npos);
  EXPECT_EQ(config_to_log_json(make_config(json::object()))["api_secret"], "");
}

TEST(Config, WebRtcKeys) {
  Config c = make_config({{"rtp_port_range", "20000-20100"}, {"ice_addresses", {"127.0.0.1", "::1"}},
                          {"stun_server", "stun.example.org:3478"}, {"ice_lite", true}});
  EXPECT_EQ(c.rtp_port_min, 20000);
  EXPECT_EQ(c.rtp_port_max, 20100);
  EXPECT_EQ(c.ice_addresses.size(), 2u);
  EXPECT_TRUE(c.ice_lite);
  EXPECT_NE(error_of({{"rtp_port_range", "9-3"}}).find("'rtp_port_range'"), std::string::npos);
  EXPECT_NE(error_of({{"rtp_port_range", "10-20x"}}).find("'rtp_port_range'"), std::string::npos);
  EXPECT_NE(error_of({{"ice_addresses", {"eth0"}}}).find("'ice_addresses'"), std::string::npos);
  EXPECT_NE(error_of({{"stun_server", "nohost"}}).find("'stun_server'"), std::string::npos);
  EXPECT_NE(error_of({{"ice_lite", "yes"}}).find("'ice_lite'"), std::string::npos);
  EXPECT_NE(error_of({{"ice_consent_timeout", 1}}).find("'ice_consent_timeout'"), std::string::npos);
  EXPECT_NE(error_of({{"dtls_certificate", "/x.pem"}}).find("'dtls_certificate'"), std::string::npos);
}

TEST(Config, ToJsonRoundTrips) {
  Config c = make_config({{"ws_port", 1234}, {"server_name", "x"}});
  json j = config_to_json(c);
  EXPECT_EQ(j.size(), config_keys().size());
  Config again = make_config(j);
  EXPECT_EQ(config_to_json(again), j);
}

// The sample config documents every key with its default: it must hold exactly the known keys
// and describe the same configuration as no file at all.
TEST(Config, SampleFileHasEveryKeyWithItsDefault) {
  json sample = read_config_file(std::string(JUNCTION_SOURCE_DIR) + "/conf/junction.sample.jsonc");
  std::vector<std::string> keys;
  for (auto& [k, v] : sample.items()) keys.push_back(k);
  std::vector<std::string> known = config_keys();
  std::sort(keys.begin(), keys.end());
  std::sort(known.begin(), known.end());
  EXPECT_EQ(keys, known);
  EXPECT_EQ(config_to_json(make_config(sample)), config_to_json(make_config(json::object())));
}

TEST(Config, FileErrorsNameTheFile) {
  std::string path = ::testing::TempDir() + "/junction_bad.json";
  std::ofstream(path) << "{ \"ws_port\": 1, ";
  try {
    read_config_file(path);
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_config_file("/nonexistent/junction.json"), ConfigError);
  std::ofstream(path) << "[1, 2]";
  EXPECT_THROW(read_config_file(path), ConfigError);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace junction
