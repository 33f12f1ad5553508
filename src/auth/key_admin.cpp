#include "auth/key_admin.h"

#include <fmt/format.h>

#include "auth/actions.h"
#include "auth/amz_time.h"
#include "auth/keys_file.h"
#include "auth/session_token.h"

namespace roentgen::auth {
namespace {

using nlohmann::json;

// The file, or a new one when there is none.
Result<KeysFile> ReadOrNew(const std::string& path) {
  Result<KeysFile> file = ReadKeysFile(path);
  if (file.ok() || file.status().code() != StatusCode::kNotFound) return file;
  return KeysFile{};
}

void DropOldRevocations(KeysFile& file, int64_t now_s) {
  std::erase_if(file.revoked_session_keys, [now_s](const RevokedSessionKey& r) {
    return r.revoked_s != 0 && r.revoked_s + kMaxCliSessionSeconds < now_s;
  });
}

}  // namespace

Result<json> CreateKey(const std::string& path, const CreateKeyOptions& options, int64_t now_s) {
  if (options.actions.empty()) {
    return Status::InvalidArgument(
        "--actions: give at least one action (xray:PutTraceSegments, "
        "xray:GetTraceSummaries, xray:*, …)");
  }
  for (const std::string& action : options.actions) {
    if (!IsValidActionPattern(action)) {
      return Status::InvalidArgument(
          fmt::format("--actions: '{}' is not an action (xray:PutTraceSegments, xray:Get*, "
                      "roentgen:*, *)",
                      action));
    }
  }
  if (options.ttl_s && (*options.ttl_s < 1 || *options.ttl_s > kMaxCliSessionSeconds)) {
    return Status::InvalidArgument("--ttl must be from 1s to 7d");
  }
  Result<KeysFileLock> lock = KeysFileLock::Acquire(path);
  if (!lock.ok()) return lock.status();
  Result<KeysFile> read = ReadOrNew(path);
  if (!read.ok()) return read.status();
  KeysFile file = std::move(read).value();
  const bool had_token_key = !file.session_token_key.empty();
  if (!had_token_key) file.session_token_key = NewSessionTokenKey();
  DropOldRevocations(file, now_s);

  json out;
  if (options.ttl_s) {
    SessionClaims claims;
    claims.access_key_id = NewAccessKeyId(/*session=*/true);
    claims.issued_s = now_s;
    claims.expiration_s = now_s + *options.ttl_s;
    claims.actions = options.actions;
    claims.name = options.name;
    const SessionKeys keys = MintSessionKeys(file.session_token_key, claims);
    out = {{"AccessKeyId", keys.access_key_id},
           {"SecretAccessKey", keys.secret_access_key},
           {"SessionToken", keys.session_token},
           {"Expiration", FormatIso8601(keys.expiration_s)}};
    if (had_token_key) return out;  // nothing to store
  } else {
    KeyEntry entry;
    do {
      entry.access_key_id = NewAccessKeyId(/*session=*/false);
    } while (file.Find(entry.access_key_id) != nullptr);
    entry.secret_access_key = NewSecretAccessKey();
    entry.name = options.name;
    entry.actions = options.actions;
    entry.created_s = now_s;
    out = {{"AccessKeyId", entry.access_key_id}, {"SecretAccessKey", entry.secret_access_key}};
    file.keys.push_back(std::move(entry));
  }
  RG_RETURN_IF_ERROR(WriteKeysFile(path, file));
  return out;
}

Result<json> ListKeys(const std::string& path) {
  Result<KeysFile> file = ReadKeysFile(path);
  if (!file.ok()) return file.status();
  json out = json::array();
  for (const KeyEntry& k : file->keys) {
    json entry = {{"AccessKeyId", k.access_key_id}, {"Actions", k.actions}};
    if (!k.name.empty()) entry["Name"] = k.name;
    if (k.created_s != 0) entry["Created"] = FormatIso8601(k.created_s);
    out.push_back(std::move(entry));
  }
  return out;
}

Result<std::string> RevokeKey(const std::string& path, const std::string& access_key_id,
                              int64_t now_s) {
  RG_RETURN_IF_ERROR(ReadKeysFile(path).status());  // no lock file beside a missing file
  Result<KeysFileLock> lock = KeysFileLock::Acquire(path);
  if (!lock.ok()) return lock.status();
  Result<KeysFile> read = ReadKeysFile(path);
  if (!read.ok()) return read.status();
  KeysFile file = std::move(read).value();
  DropOldRevocations(file, now_s);
  std::string message;
  if (file.Find(access_key_id) != nullptr) {
    std::erase_if(file.keys, [&](const KeyEntry& k) { return k.access_key_id == access_key_id; });
    message = fmt::format("revoked {} (and the session keys made with it)", access_key_id);
  } else if (access_key_id.starts_with(kSessionKeyPrefix)) {
    if (!file.IsRevoked(access_key_id)) file.revoked_session_keys.push_back({access_key_id, now_s});
    message = fmt::format("revoked session key {}", access_key_id);
  } else {
    return Status::NotFound(fmt::format("no key {} in {}", access_key_id, path));
  }
  RG_RETURN_IF_ERROR(WriteKeysFile(path, file));
  return message;
}

Status RevokeAllSessionKeys(const std::string& path) {
  RG_RETURN_IF_ERROR(ReadKeysFile(path).status());  // no lock file beside a missing file
  Result<KeysFileLock> lock = KeysFileLock::Acquire(path);
  if (!lock.ok()) return lock.status();
  Result<KeysFile> read = ReadKeysFile(path);
  if (!read.ok()) return read.status();
  KeysFile file = std::move(read).value();
  file.session_token_key = NewSessionTokenKey();
  file.revoked_session_keys.clear();  // every one of them is invalid now
  return WriteKeysFile(path, file);
}

}  // namespace roentgen::auth
