#include "core/gateway/auth.h"

#include <gtest/gtest.h>

#include "signaling/api_error.h"

namespace junction::gateway {
namespace {

using nlohmann::json;
using signaling::ApiException;

int code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ApiException& e) {
    return static_cast<int>(e.code());
  }
  return 0;
}

TEST(SecretsEqual, ComparesWholeValues) {
  EXPECT_TRUE(secrets_equal("s3cret", "s3cret"));
  EXPECT_FALSE(secrets_equal("s3cret", "s3cre"));
  EXPECT_FALSE(secrets_equal("s3cret", "s3cret "));
  EXPECT_FALSE(secrets_equal("s3cret", ""));
  EXPECT_TRUE(secrets_equal("", ""));
  EXPECT_FALSE(secrets_equal(std::string("a\0b", 3), "a"));
}

TEST(TokenStore, AddAllowDisallowRemove) {
  TokenStore store;
  EXPECT_FALSE(store.contains("t"));
  store.add("t", {"p.one"});
  EXPECT_TRUE(store.contains("t"));
  EXPECT_TRUE(store.allows("t", "p.one"));
  EXPECT_FALSE(store.allows("t", "p.two"));
  EXPECT_TRUE(store.allow("t", {"p.two", "p.three"}));
  EXPECT_TRUE(store.allows("t", "p.two"));
  EXPECT_TRUE(store.disallow("t", {"p.one"}));
  EXPECT_FALSE(store.allows("t", "p.one"));
  EXPECT_EQ(*store.plugins("t"), (std::set<std::string>{"p.three", "p.two"}));
  EXPECT_FALSE(store.allow("nope", {"p.one"}));
  EXPECT_FALSE(store.disallow("nope", {"p.one"}));
  EXPECT_EQ(store.plugins("nope"), nullptr);
  store.add("t", {});  // re-adding replaces the plugins
  EXPECT_TRUE(store.plugins("t")->empty());
  EXPECT_TRUE(store.remove("t"));
  EXPECT_FALSE(store.remove("t"));
  EXPECT_FALSE(store.allows("t", "p.two"));
}

TEST(Auth, OpenWhenNothingIsConfigured) {
  Auth auth("", false, "");
  EXPECT_FALSE(auth.client_auth_required());
  EXPECT_EQ(code_of([&] { auth.check_client(json::object()); }), 0);
  EXPECT_EQ(code_of([&] { auth.check_plugin(json::object(), "p.one"); }), 0);
  EXPECT_EQ(code_of([&] { auth.check_admin(json::object()); }), 0);
}

TEST(Auth, ApiSecret) {
  Auth auth("api", false, "");
  EXPECT_EQ(code_of([&] { auth.check_client({{"apisecret", "api"}}); }), 0);
  EXPECT_EQ(code_of([&] { auth.check_client(json::object()); }), 403);
  EXPECT_EQ(code_of([&] { auth.check_client({{"apisecret", "API"}}); }), 403);
  EXPECT_EQ(code_of([&] { auth.check_client({{"apisecret", 5}}); }), 403);
  EXPECT_EQ(code_of([&] { auth.check_client({{"token", "api"}}); }), 403) << "no token auth: a token is no secret";
  EXPECT_EQ(auth.client_failures(), 4u);
  EXPECT_EQ(code_of([&] { auth.check_plugin({{"apisecret", "api"}}, "p.any"); }), 0);
}

TEST(Auth, StoredTokensLimitPlugins) {
  Auth auth("", true, "");
  auth.tokens().add("tok", {"p.one"});
  EXPECT_EQ(code_of([&] { auth.check_client({{"token", "tok"}}); }), 0);
  EXPECT_EQ(code_of([&] { auth.check_client({{"token", "other"}}); }), 403);
  EXPECT_EQ(code_of([&] { auth.check_client(json::object()); }), 403);
  EXPECT_EQ(code_of([&] { auth.check_plugin({{"token", "tok"}}, "p.one"); }), 0);
  EXPECT_EQ(code_of([&] { auth.check_plugin({{"token", "tok"}}, "p.two"); }), 405);
  auth.tokens().remove("tok");
  EXPECT_EQ(code_of([&] { auth.check_client({{"token", "tok"}}); }), 403) << "a removed token no longer admits";
}

TEST(Auth, EitherSecretOrTokenSuffices) {
  Auth auth("api", true, "");
  auth.tokens().add("tok", {"p.one"});
  EXPECT_EQ(code_of([&] { auth.check_client({{"apisecret", "api"}}); }), 0);
  EXPECT_EQ(code_of([&] { auth.check_client({{"token", "tok"}}); }), 0);
  EXPECT_EQ(code_of([&] { auth.check_client({{"apisecret", "bad"}, {"token", "tok"}}); }), 0);
  EXPECT_EQ(code_of([&] { auth.check_client({{"apisecret", "bad"}, {"token", "bad"}}); }), 403);
  // Admitted by the secret, the token's plugin list does not apply.
  EXPECT_EQ(code_of([&] { auth.check_plugin({{"apisecret", "api"}, {"token", "tok"}}, "p.two"); }), 0);
  EXPECT_EQ(code_of([&] { auth.check_plugin({{"token", "tok"}}, "p.two"); }), 405);
}

TEST(Auth, AdminSecretIsIndependent) {
  Auth auth("api", false, "adm");
  EXPECT_EQ(code_of([&] { auth.check_admin({{"admin_secret", "adm"}}); }), 0);
  EXPECT_EQ(code_of([&] { auth.check_admin({{"admin_secret", "api"}}); }), 403);
  EXPECT_EQ(code_of([&] { auth.check_admin({{"apisecret", "adm"}}); }), 403);
  EXPECT_EQ(code_of([&] { auth.check_admin(json::object()); }), 403);
  EXPECT_EQ(code_of([&] { auth.check_client({{"apisecret", "adm"}}); }), 403);
  EXPECT_EQ(auth.admin_failures(), 3u);
}

}  // namespace
}  // namespace junction::gateway
