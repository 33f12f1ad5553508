#include "auth/session_token.h"

#include <nlohmann/json.hpp>

#include "auth/crypto.h"

namespace roentgen::auth {
namespace {

using nlohmann::json;

constexpr std::string_view kPrefix = "RGST1.";

// Separate keys for the MAC and for secrets, both from the SessionTokenKey.
Digest MacKey(std::string_view key) { return HmacSha256(key, "roentgen session token mac v1"); }
Digest SecretKey(std::string_view key) { return HmacSha256(key, "roentgen session secret v1"); }

std::string Secret(std::string_view key, std::string_view claims_json) {
  const Digest d = HmacSha256(AsString(SecretKey(key)), claims_json);
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(d.data()), 30));
}

// The claims' JSON of a well-formed token with a valid MAC, or nullopt.
std::optional<std::string> VerifiedClaimsJson(std::string_view key, std::string_view token) {
  if (key.empty() || !token.starts_with(kPrefix)) return std::nullopt;
  token.remove_prefix(kPrefix.size());
  const size_t dot = token.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::optional<std::string> claims = Base64UrlDecode(token.substr(0, dot));
  std::optional<std::string> mac = Base64UrlDecode(token.substr(dot + 1));
  if (!claims || !mac) return std::nullopt;
  if (!ConstantTimeEquals(AsString(HmacSha256(AsString(MacKey(key)), *claims)), *mac)) {
    return std::nullopt;
  }
  return claims;
}

}  // namespace

SessionKeys MintSessionKeys(std::string_view session_token_key, const SessionClaims& claims) {
  json doc = {{"k", claims.access_key_id},
              {"i", claims.issued_s},
              {"e", claims.expiration_s},
              {"a", claims.actions}};
  if (!claims.parent.empty()) doc["p"] = claims.parent;
  if (!claims.name.empty()) doc["n"] = claims.name;
  const std::string claims_json = doc.dump(-1, ' ', false, json::error_handler_t::replace);
  const Digest mac = HmacSha256(AsString(MacKey(session_token_key)), claims_json);
  SessionKeys keys;
  keys.access_key_id = claims.access_key_id;
  keys.secret_access_key = Secret(session_token_key, claims_json);
  keys.session_token =
      std::string(kPrefix) + Base64UrlEncode(claims_json) + "." + Base64UrlEncode(AsString(mac));
  keys.expiration_s = claims.expiration_s;
  return keys;
}

std::optional<SessionClaims> OpenSessionToken(std::string_view session_token_key,
                                              std::string_view token) {
  std::optional<std::string> claims_json = VerifiedClaimsJson(session_token_key, token);
  if (!claims_json) return std::nullopt;
  json doc = json::parse(*claims_json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("k") || !doc["k"].is_string() || !doc.contains("e") ||
      !doc["e"].is_number_integer() || !doc.contains("a") || !doc["a"].is_array()) {
    return std::nullopt;
  }
  SessionClaims claims;
  claims.access_key_id = doc["k"].get<std::string>();
  claims.expiration_s = doc["e"].get<int64_t>();
  if (doc.contains("i") && doc["i"].is_number_integer()) claims.issued_s = doc["i"].get<int64_t>();
  for (const json& a : doc["a"]) {
    if (!a.is_string()) return std::nullopt;
    claims.actions.push_back(a.get<std::string>());
  }
  if (doc.contains("p") && doc["p"].is_string()) claims.parent = doc["p"].get<std::string>();
  if (doc.contains("n") && doc["n"].is_string()) claims.name = doc["n"].get<std::string>();
  return claims;
}

std::string SessionSecret(std::string_view session_token_key, std::string_view token) {
  std::optional<std::string> claims_json = VerifiedClaimsJson(session_token_key, token);
  if (!claims_json) return {};
  return Secret(session_token_key, *claims_json);
}

}  // namespace roentgen::auth
