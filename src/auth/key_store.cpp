#include "auth/key_store.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "auth/actions.h"

namespace roentgen::auth {
namespace {

AuthError Unrecognized() {
  return {AuthErrorKind::kUnrecognizedClient,
          "The security token included in the request is invalid."};
}

}  // namespace

bool Identity::Allows(std::string_view action) const {
  if (!AnyAllows(actions, action)) return false;
  return parent.empty() || AnyAllows(parent_actions, action);
}

std::string Identity::Arn() const { return "arn:roentgen:iam::key/" + access_key_id; }

KeyStore::KeyStore(KeyStoreConfig config, const Clock& clock)
    : config_(std::move(config)), clock_(clock), file_(std::make_shared<KeysFile>()) {}

KeyStore::FileStamp KeyStore::Stat() const {
  struct stat st {};
  if (::stat(config_.path.c_str(), &st) != 0) return {};
  return {static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size),
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec, true};
}

Status KeyStore::Load() {
  const FileStamp stamp = Stat();
  Result<KeysFile> file = ReadKeysFile(config_.path);
  if (!file.ok()) return file.status();
  struct stat st {};
  if (::stat(config_.path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    spdlog::warn("keys file {} can be read by other users (mode {:o}): chmod 600 it", config_.path,
                 st.st_mode & 0777);
  }
  MutexLock lock(mu_);
  file_ = std::make_shared<const KeysFile>(std::move(file).value());
  stamp_ = stamp;
  last_check_us_ = clock_.NowMicros();
  return Status::Ok();
}

void KeyStore::Reload() { MaybeReload(/*force=*/true); }

void KeyStore::MaybeReload(bool force) {
  MutexLock lock(mu_);
  const int64_t now = clock_.NowMicros();
  if (!force && now - last_check_us_ < config_.check_interval_us) return;
  last_check_us_ = now;
  const FileStamp stamp = Stat();
  if (stamp == stamp_) return;
  const FileStamp previous = stamp_;
  stamp_ = stamp;
  if (!stamp.exists) {
    spdlog::error(
        "keys file {} is gone: no keys, every signed request is refused until it "
        "is back",
        config_.path);
    file_ = std::make_shared<const KeysFile>();
    return;
  }
  Result<KeysFile> file = ReadKeysFile(config_.path);
  if (!file.ok()) {
    spdlog::error("keys file not reloaded, the keys last loaded stay in use: {}",
                  file.status().message());
    return;
  }
  file_ = std::make_shared<const KeysFile>(std::move(file).value());
  spdlog::info("keys file {} {}: {} keys", config_.path, previous.exists ? "reloaded" : "loaded",
               file_->keys.size());
}

std::shared_ptr<const KeysFile> KeyStore::Snapshot() {
  MutexLock lock(mu_);
  return file_;
}

AuthResult<ResolvedKey> KeyStore::Resolve(std::string_view access_key_id,
                                          std::string_view session_token) {
  MaybeReload(/*force=*/false);
  AuthResult<ResolvedKey> found = Lookup(*Snapshot(), access_key_id, session_token);
  if (!found.ok() && found.error().kind == AuthErrorKind::kUnrecognizedClient) {
    // Perhaps added (or its maker added) a moment ago: look at the file now.
    MaybeReload(/*force=*/true);
    found = Lookup(*Snapshot(), access_key_id, session_token);
  }
  return found;
}

AuthResult<ResolvedKey> KeyStore::Lookup(const KeysFile& file, std::string_view access_key_id,
                                         std::string_view session_token) const {
  if (const KeyEntry* key = file.Find(access_key_id)) {
    // A long-lived key signs without a token; one sent anyway is not its own.
    if (!session_token.empty()) return Unrecognized();
    ResolvedKey resolved;
    resolved.identity.access_key_id = key->access_key_id;
    resolved.identity.name = key->name;
    resolved.identity.actions = key->actions;
    resolved.secret_access_key = key->secret_access_key;
    return resolved;
  }
  if (session_token.empty()) return Unrecognized();
  std::optional<SessionClaims> claims = OpenSessionToken(file.session_token_key, session_token);
  if (!claims || claims->access_key_id != access_key_id) return Unrecognized();
  if (clock_.NowMicros() / 1'000'000 >= claims->expiration_s) {
    return AuthError{AuthErrorKind::kExpiredToken,
                     "The security token included in the request is expired"};
  }
  if (file.IsRevoked(access_key_id)) return Unrecognized();
  ResolvedKey resolved;
  if (!claims->parent.empty()) {
    const KeyEntry* parent = file.Find(claims->parent);
    if (parent == nullptr) return Unrecognized();  // its maker was revoked
    resolved.identity.parent_actions = parent->actions;
  }
  resolved.identity.access_key_id = claims->access_key_id;
  resolved.identity.name = claims->name;
  resolved.identity.actions = claims->actions;
  resolved.identity.session = true;
  resolved.identity.parent = claims->parent;
  resolved.identity.expiration_s = claims->expiration_s;
  resolved.secret_access_key = SessionSecret(file.session_token_key, session_token);
  return resolved;
}

}  // namespace roentgen::auth
