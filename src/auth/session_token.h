// Session keys: short-lived access keys that need no entry in the keys file.
// The session token carries the key's claims (its access key id, expiration,
// actions, the long-lived key it was made with) sealed with the keys file's
// SessionTokenKey (HMAC-SHA-256); the key's secret is derived from the same
// key and the claims, so the server can check a signature made with it without
// storing anything. Tokens look like "RGST1.<claims>.<mac>" (URL-safe base64).
//
// A token cannot be altered (the MAC covers every claim) or made without the
// SessionTokenKey; replacing that key in the keys file invalidates every
// session key at once. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roentgen::auth {

struct SessionClaims {
  std::string access_key_id;  // "ASRG…"
  int64_t issued_s = 0;
  int64_t expiration_s = 0;
  std::vector<std::string> actions;
  std::string parent;  // the long-lived key it was made with; empty: made by `roentgen keys`
  std::string name;
};

struct SessionKeys {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  int64_t expiration_s = 0;
};

// Seals `claims` (whose access_key_id must be set) into keys for a client.
SessionKeys MintSessionKeys(std::string_view session_token_key, const SessionClaims& claims);

// The claims of a token sealed with this key, or nullopt (not a token, altered,
// or sealed with another key). Expiration is not checked here.
std::optional<SessionClaims> OpenSessionToken(std::string_view session_token_key,
                                              std::string_view token);

// The secret of the session key a token (opened by OpenSessionToken) stands for.
std::string SessionSecret(std::string_view session_token_key, std::string_view token);

}  // namespace roentgen::auth
