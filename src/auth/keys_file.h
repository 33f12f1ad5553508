// The keys file (`roentgen serve --keys FILE`, `roentgen keys …`): access keys,
// their secrets and the actions each may call, the key that seals session
// tokens, and the session keys revoked before their expiration. JSON, mode
// 0600, documented in docs/security.md:
//
//   {"Version": 1,
//    "SessionTokenKey": "<43 characters: 32 random bytes, URL-safe base64>",
//    "Keys": [{"AccessKeyId": "AKRG…", "SecretAccessKey": "…", "Name": "ingest",
//              "Actions": ["xray:PutTraceSegments"], "Created": "2026-01-01T00:00:00Z"}],
//    "RevokedSessionKeys": [{"AccessKeyId": "ASRG…", "Revoked": "2026-01-02T00:00:00Z"}]}
//
// Writers (the `roentgen keys` commands) hold KeysFileLock and replace the file
// atomically (a temporary file, fsync, rename, fsync of the directory), so a
// server reading it sees the old or the new file, never half of one.
//
// Plain values and free functions; thread-safe. Errors: NotFound (no file),
// InvalidArgument (not a valid keys file: the message names the entry and
// field), IOError.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace roentgen::auth {

// Long-lived access key ids start with this, session key ids with kSessionKeyPrefix.
inline constexpr std::string_view kAccessKeyPrefix = "AKRG";
inline constexpr std::string_view kSessionKeyPrefix = "ASRG";

struct KeyEntry {
  std::string access_key_id;
  std::string secret_access_key;
  std::string name;  // optional, for people
  std::vector<std::string> actions;
  int64_t created_s = 0;  // 0: unknown
};

struct RevokedSessionKey {
  std::string access_key_id;
  int64_t revoked_s = 0;
};

struct KeysFile {
  std::string session_token_key;  // 32 raw bytes, or empty: no session keys can be made
  std::vector<KeyEntry> keys;
  std::vector<RevokedSessionKey> revoked_session_keys;

  const KeyEntry* Find(std::string_view access_key_id) const;
  bool IsRevoked(std::string_view session_key_id) const;
};

Result<KeysFile> ParseKeysFile(std::string_view json);
std::string SerializeKeysFile(const KeysFile& file);  // pretty-printed, ends with '\n'

Result<KeysFile> ReadKeysFile(const std::string& path);
// Replaces `path` atomically (a temporary file renamed over it), mode 0600;
// run as root, the file keeps the owner and group of the one it replaces.
Status WriteKeysFile(const std::string& path, const KeysFile& file);

// An exclusive flock(2) on "<path>.lock", held while alive, so that concurrent
// `roentgen keys` commands read-modify-write the file one at a time.
class KeysFileLock {
 public:
  static Result<KeysFileLock> Acquire(const std::string& keys_path);
  KeysFileLock(KeysFileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  KeysFileLock& operator=(KeysFileLock&&) = delete;
  ~KeysFileLock();

 private:
  explicit KeysFileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// "AKRG" (or "ASRG") + 16 characters of base32 (A-Z, 2-7) from the CSPRNG.
std::string NewAccessKeyId(bool session);
// 40 characters of base64 (30 random bytes), as AWS's secrets look.
std::string NewSecretAccessKey();
// A fresh SessionTokenKey (32 random bytes).
std::string NewSessionTokenKey();

}  // namespace roentgen::auth
