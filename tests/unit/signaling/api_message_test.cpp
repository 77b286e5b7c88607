#include "signaling/api_message.h"

#include <gtest/gtest.h>

#include <set>

namespace junction::signaling {
namespace {

int code_of(const ParseOutcome& outcome) { return outcome.error["error"]["code"].get<int>(); }

struct BadCase {
  const char* name;
  std::string text;
  int code;
  bool has_transaction;
};

class ParseRequestErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParseRequestErrors, AnswerWithTheJanusCode) {
  const BadCase& c = GetParam();
  ParseOutcome outcome = parse_request(c.text);
  ASSERT_FALSE(outcome.request) << c.name;
  EXPECT_EQ(outcome.error["janus"], "error");
  EXPECT_EQ(code_of(outcome), c.code) << c.name << ": " << outcome.error.dump();
  EXPECT_EQ(outcome.error.contains("transaction"), c.has_transaction) << c.name;
  EXPECT_FALSE(outcome.error["error"]["reason"].get<std::string>().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Envelope, ParseRequestErrors,
    ::testing::Values(
        BadCase{"not json", "hello", 454, false},
        BadCase{"truncated", "{\"janus\":", 454, false},
        BadCase{"empty", "", 454, false},
        BadCase{"json string", "\"create\"", 454, false},
        BadCase{"json number", "42", 454, false},
        BadCase{"binary garbage", std::string("\x00\xff\xfe{", 4), 454, false},
        BadCase{"deep nesting", std::string(100000, '['), 454, false},
        BadCase{"array", "[{\"janus\":\"ping\",\"transaction\":\"a\"}]", 456, false},
        BadCase{"no janus", "{\"transaction\":\"a\"}", 456, false},
        BadCase{"janus not string", "{\"janus\":1,\"transaction\":\"a\"}", 467, false},
        BadCase{"no transaction", "{\"janus\":\"ping\"}", 456, false},
        BadCase{"transaction not string", "{\"janus\":\"ping\",\"transaction\":5}", 467, false},
        BadCase{"session id string", "{\"janus\":\"keepalive\",\"transaction\":\"a\",\"session_id\":\"12\"}", 457, true},
        BadCase{"session id negative", "{\"janus\":\"keepalive\",\"transaction\":\"a\",\"session_id\":-3}", 457, true},
        BadCase{"handle id float", "{\"janus\":\"message\",\"transaction\":\"a\",\"session_id\":1,\"handle_id\":1.5}", 457, true},
        BadCase{"handle without session", "{\"janus\":\"message\",\"transaction\":\"a\",\"handle_id\":7}", 457, true}),
    [](const auto& info) {
      std::string n = info.param.name;
      for (char& ch : n)
        if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return n;
    });

TEST(ParseRequest, ValidRequestKeepsItsFields) {
  ParseOutcome outcome =
      parse_request(R"({"janus":"message","transaction":"tx","session_id":12,"handle_id":34,"body":{}})");
  ASSERT_TRUE(outcome.request);
  EXPECT_EQ(outcome.request->verb, "message");
  EXPECT_EQ(outcome.request->transaction, "tx");
  EXPECT_EQ(outcome.request->session_id, 12u);
  EXPECT_EQ(outcome.request->handle_id, 34u);
  EXPECT_TRUE(outcome.request->message["body"].is_object());
}

TEST(ParseRequest, ZeroIdsMeanNone) {
  ParseOutcome outcome = parse_request(R"({"janus":"create","transaction":"t","session_id":0})");
  ASSERT_TRUE(outcome.request);
  EXPECT_EQ(outcome.request->session_id, 0u);
}

TEST(ParseRequest, HttpPathIdsReplaceBodyIds) {
  PathIds path{55, 66};
  ParseOutcome outcome = parse_request(R"({"janus":"detach","transaction":"t","session_id":"junk"})", &path);
  ASSERT_TRUE(outcome.request);
  EXPECT_EQ(outcome.request->session_id, 55u);
  EXPECT_EQ(outcome.request->handle_id, 66u);
}

TEST(ParseRequest, LargestJsSafeIdIsAccepted) {
  ParseOutcome outcome = parse_request(R"({"janus":"keepalive","transaction":"t","session_id":9007199254740991})");
  ASSERT_TRUE(outcome.request);
  EXPECT_EQ(outcome.request->session_id, 9007199254740991u);
}

TEST(Replies, ErrorShape) {
  json e = make_error(ApiError::kSessionNotFound, "", "tx", 9);
  EXPECT_EQ(e["janus"], "error");
  EXPECT_EQ(e["transaction"], "tx");
  EXPECT_EQ(e["session_id"], 9);
  EXPECT_EQ(e["error"]["code"], 458);
  EXPECT_EQ(e["error"]["reason"], "Session not found");
  json bare = make_error(ApiError::kInvalidJson, "bad");
  EXPECT_FALSE(bare.contains("transaction"));
  EXPECT_FALSE(bare.contains("session_id"));
  EXPECT_EQ(bare["error"]["reason"], "bad");
}

TEST(Replies, EveryCodeHasItsOwnReason) {
  const int codes[] = {403, 405, 450, 452, 453, 454, 455, 456, 457, 458, 459, 460, 461,
                       462, 463, 464, 465, 466, 467, 468, 469, 470, 471, 472, 490};
  std::set<std::string> reasons;
  for (int code : codes) reasons.insert(default_reason(static_cast<ApiError>(code)));
  EXPECT_EQ(reasons.size(), std::size(codes));
}

}  // namespace
}  // namespace junction::signaling
