// `roentgen keys`: manages the keys file a server reads with --keys
// (src/auth/key_admin.h, docs/security.md). Safe to run while the server runs:
// it picks changes up within a second, without a restart.
//
//   roentgen keys create --keys FILE --actions A,B [--ttl 1h] [--name N]
//       prints {"AccessKeyId", "SecretAccessKey"[, "SessionToken", "Expiration"]}
//   roentgen keys list   --keys FILE        the long-lived keys, without secrets
//   roentgen keys revoke --keys FILE ACCESS_KEY_ID | --all-session-keys
//
// Exit codes: 0 done, 1 failed (the reason on stderr).
#pragma once

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace roentgen::cli {

struct KeysConfig {
  enum class Action { kCreate, kList, kRevoke };
  Action action = Action::kList;
  std::string file;
  std::vector<std::string> actions;         // create
  std::optional<std::chrono::seconds> ttl;  // create: a session key
  std::string name;                         // create
  std::string access_key_id;                // revoke
  bool all_session_keys = false;            // revoke
};

int RunKeys(const KeysConfig& config, std::ostream& out, std::ostream& err);

}  // namespace roentgen::cli
