// KeyStore: the keys file as the server sees it, kept current while it runs,
// and the lookup of the key a request was signed with.
//
// Reloading: every lookup checks the file's identity (inode, size, mtime) with
// one stat(2) at most once per check_interval (1 s), and at once when a key is
// not found, so a key added by `roentgen keys create` works on its first
// request and a revoked key stops within a second. Reload() (SIGHUP) forces a
// check. A file that no longer parses keeps the keys last loaded (logged
// once per change); a file that was deleted means no keys (every signed
// request refused).
//
// Thread-safe: lookups run concurrently on the HTTP threads; a reload swaps an
// immutable snapshot under a mutex. The Clock must outlive the store.
// Errors: Load() fails (NotFound, InvalidArgument, IOError) when the file
// cannot be used at start; lookups return AWS's UnrecognizedClientException
// and ExpiredTokenException.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth_error.h"
#include "auth/keys_file.h"
#include "auth/session_token.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"

namespace roentgen::auth {

// Who signed a request and what it may do.
struct Identity {
  std::string access_key_id;
  std::string name;
  std::vector<std::string> actions;
  bool session = false;
  std::string parent;                       // session keys made through the API: the maker
  std::vector<std::string> parent_actions;  // …whose actions bound the session key's
  int64_t expiration_s = 0;                 // session keys only

  bool Allows(std::string_view action) const;
  // "arn:roentgen:iam::key/AKRG…", as AccessDeniedException names the caller.
  std::string Arn() const;
};

struct ResolvedKey {
  Identity identity;
  std::string secret_access_key;
};

struct KeyStoreConfig {
  std::string path;
  int64_t check_interval_us = 1'000'000;
};

class KeyStore {
 public:
  KeyStore(KeyStoreConfig config, const Clock& clock);

  // Loads the file for the first time.
  Status Load();
  // Checks the file now and reloads it if it changed.
  void Reload();

  // The key `access_key_id` (with `session_token` for a session key).
  AuthResult<ResolvedKey> Resolve(std::string_view access_key_id, std::string_view session_token);

  // The file as last loaded.
  std::shared_ptr<const KeysFile> Snapshot();
  const std::string& path() const { return config_.path; }

 private:
  struct FileStamp {
    uint64_t inode = 0, size = 0;
    int64_t mtime_ns = 0;
    bool exists = false;
    bool operator==(const FileStamp&) const = default;
  };
  FileStamp Stat() const;
  // Re-reads the file if its stamp changed (and, unless forced, the interval passed).
  void MaybeReload(bool force);
  AuthResult<ResolvedKey> Lookup(const KeysFile& file, std::string_view access_key_id,
                                 std::string_view session_token) const;

  const KeyStoreConfig config_;
  const Clock& clock_;
  Mutex mu_;
  std::shared_ptr<const KeysFile> file_ GUARDED_BY(mu_);
  FileStamp stamp_ GUARDED_BY(mu_);
  int64_t last_check_us_ GUARDED_BY(mu_) = 0;
};

}  // namespace roentgen::auth
