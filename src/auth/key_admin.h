// What the `roentgen keys` commands do to a keys file, each a locked
// read-modify-write (keys_file.h), so they may run while a server uses the
// file (it picks the change up within a second: key_store.h).
//
//   create: a long-lived key (added to the file), or with a TTL a session key
//           (sealed in its token, nothing stored); a missing file is created
//           (mode 0600) with a fresh SessionTokenKey. Returns what to give the
//           client: {"AccessKeyId", "SecretAccessKey"[, "SessionToken", "Expiration"]}.
//   list:   the long-lived keys without their secrets.
//   revoke: removes a long-lived key (its session keys die with it), or lists
//           a session key id among the revoked until it would have expired.
//   revoke all session keys: a new SessionTokenKey.
//
// Thread-safe as far as the file lock goes. Errors: InvalidArgument (bad
// actions or TTL, a bad file), NotFound (no such key or file), IOError.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace roentgen::auth {

// The longest --ttl of `roentgen keys create`; revoked session key ids are kept
// this long after their revocation.
inline constexpr int64_t kMaxCliSessionSeconds = 7 * 24 * 3600;

struct CreateKeyOptions {
  std::vector<std::string> actions;
  std::optional<int64_t> ttl_s;  // set: a session key
  std::string name;
};

Result<nlohmann::json> CreateKey(const std::string& path, const CreateKeyOptions& options,
                                 int64_t now_s);
Result<nlohmann::json> ListKeys(const std::string& path);
// A message for the operator saying what was revoked.
Result<std::string> RevokeKey(const std::string& path, const std::string& access_key_id,
                              int64_t now_s);
Status RevokeAllSessionKeys(const std::string& path);

}  // namespace roentgen::auth
