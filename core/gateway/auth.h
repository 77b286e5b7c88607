#pragma once
// Who may use the APIs (API.md §1 "Auth"): the client API's shared secret (`apisecret`) and
// stored tokens (`token`, each allowed for some plugins), and the admin API's own secret
// (`admin_secret`). Either a valid client secret or a valid token admits a client request.
// Secrets are compared in constant time and never logged. Control loop only.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace junction::gateway {

// Equality of two secrets in time that depends on neither: compares their SHA-256 digests with
// CRYPTO_memcmp, so not even the length of the expected secret leaks.
bool secrets_equal(std::string_view a, std::string_view b);

// Stored tokens, each with the plugin packages it may attach to.
class TokenStore {
 public:
  // Adds `token` (or replaces its plugins if it exists).
  void add(const std::string& token, std::set<std::string> plugins);
  bool remove(const std::string& token);  // false: no such token
  bool contains(const std::string& token) const { return tokens_.count(token) != 0; }
  // Adds or removes plugins of an existing token; false if there is no such token.
  bool allow(const std::string& token, const std::vector<std::string>& plugins);
  bool disallow(const std::string& token, const std::vector<std::string>& plugins);
  bool allows(const std::string& token, std::string_view plugin) const;
  // The token's plugins, or null if there is no such token.
  const std::set<std::string>* plugins(const std::string& token) const;
  const std::map<std::string, std::set<std::string>>& all() const { return tokens_; }

 private:
  std::map<std::string, std::set<std::string>> tokens_;
};

class Auth {
 public:
  Auth(std::string api_secret, bool token_auth, std::string admin_secret);

  bool api_secret_enabled() const { return !api_secret_.empty(); }
  bool token_auth_enabled() const { return token_auth_; }
  bool admin_secret_enabled() const { return !admin_secret_.empty(); }
  bool client_auth_required() const { return api_secret_enabled() || token_auth_enabled(); }

  // A client request (its fields `apisecret` and `token`). Throws ApiException 403 when
  // authentication is configured and the request carries neither a valid secret nor a valid
  // token.
  void check_client(const nlohmann::json& request) const;
  // An `attach` to `plugin` that passed check_client(): throws ApiException 405 when it got in
  // with a token (not the secret) that is not allowed for `plugin`.
  void check_plugin(const nlohmann::json& request, std::string_view plugin) const;
  // An admin request (field `admin_secret`): throws ApiException 403 when a secret is configured
  // and the request does not carry it.
  void check_admin(const nlohmann::json& request) const;

  TokenStore& tokens() { return tokens_; }
  const TokenStore& tokens() const { return tokens_; }

  // Refused requests, for /metrics.
  uint64_t client_failures() const { return client_failures_; }
  uint64_t admin_failures() const { return admin_failures_; }

 private:
  bool secret_ok(const nlohmann::json& request) const;
  bool token_ok(const nlohmann::json& request) const;

  std::string api_secret_;
  bool token_auth_;
  std::string admin_secret_;
  TokenStore tokens_;
  mutable uint64_t client_failures_ = 0;
  mutable uint64_t admin_failures_ = 0;
};

}  // namespace junction::gateway
