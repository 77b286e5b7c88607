#include "core/gateway/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "signaling/api_error.h"

namespace junction::gateway {

using nlohmann::json;
using signaling::ApiError;
using signaling::ApiException;

namespace {

// The string value of `field`, or null when absent or not a string.
const std::string* string_field(const json& request, const char* field) {
  auto it = request.find(field);
  if (it == request.end() || !it->is_string()) return nullptr;
  return &it->get_ref<const std::string&>();
}

}  // namespace

bool secrets_equal(std::string_view a, std::string_view b) {
  unsigned char da[SHA256_DIGEST_LENGTH], db[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(a.data()), a.size(), da);
  SHA256(reinterpret_cast<const unsigned char*>(b.data()), b.size(), db);
  return CRYPTO_memcmp(da, db, sizeof da) == 0;
}

// --- TokenStore ---

void TokenStore::add(const std::string& token, std::set<std::string> plugins) { tokens_[token] = std::move(plugins); }

bool TokenStore::remove(const std::string& token) { return tokens_.erase(token) != 0; }

bool TokenStore::allow(const std::string& token, const std::vector<std::string>& plugins) {
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return false;
  it->second.insert(plugins.begin(), plugins.end());
  return true;
}

bool TokenStore::disallow(const std::string& token, const std::vector<std::string>& plugins) {
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return false;
  for (const std::string& p : plugins) it->second.erase(p);
  return true;
}

bool TokenStore::allows(const std::string& token, std::string_view plugin) const {
  auto it = tokens_.find(token);
  return it != tokens_.end() && it->second.count(std::string(plugin)) != 0;
}

const std::set<std::string>* TokenStore::plugins(const std::string& token) const {
  auto it = tokens_.find(token);
  return it == tokens_.end() ? nullptr : &it->second;
}

// --- Auth ---

Auth::Auth(std::string api_secret, bool token_auth, std::string admin_secret)
    : api_secret_(std::move(api_secret)), token_auth_(token_auth), admin_secret_(std::move(admin_secret)) {}

bool Auth::secret_ok(const json& request) const {
  if (!api_secret_enabled()) return false;
  const std::string* given = string_field(request, "apisecret");
  return given != nullptr && secrets_equal(*given, api_secret_);
}

bool Auth::token_ok(const json& request) const {
  if (!token_auth_) return false;
  const std::string* given = string_field(request, "token");
  return given != nullptr && tokens_.contains(*given);
}

void Auth::check_client(const json& request) const {
  if (!client_auth_required() || secret_ok(request) || token_ok(request)) return;
  ++client_failures_;
  throw ApiException(ApiError::kUnauthorized, signaling::default_reason(ApiError::kUnauthorized));
}

void Auth::check_plugin(const json& request, std::string_view plugin) const {
  // Admitted by the secret (or no authentication at all): every plugin is open.
  if (!token_auth_ || secret_ok(request) || !token_ok(request)) return;
  if (tokens_.allows(*string_field(request, "token"), plugin)) return;
  ++client_failures_;
  throw ApiException(ApiError::kUnauthorizedPlugin,
                     "Provided token can't access plugin '" + std::string(plugin) + "'");
}

void Auth::check_admin(const json& request) const {
  if (!admin_secret_enabled()) return;
  const std::string* given = string_field(request, "admin_secret");
  if (given != nullptr && secrets_equal(*given, admin_secret_)) return;
  ++admin_failures_;
  throw ApiException(ApiError::kUnauthorized, signaling::default_reason(ApiError::kUnauthorized));
}

}  // namespace junction::gateway
