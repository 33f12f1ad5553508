#include "auth/keys_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "auth/actions.h"
#include "auth/amz_time.h"
#include "auth/crypto.h"

namespace roentgen::auth {
namespace {

using nlohmann::json;

bool ValidAccessKeyId(std::string_view id) {
  if (id.size() < 3 || id.size() > 128) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

Status Bad(std::string message) { return Status::InvalidArgument("keys file: " + message); }

Status ErrnoStatus(const std::string& what) {
  return Status::IOError(fmt::format("{}: {}", what, std::strerror(errno)));
}

Status FsyncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return ErrnoStatus("fsync " + path);
  return Status::Ok();
}

}  // namespace

const KeyEntry* KeysFile::Find(std::string_view access_key_id) const {
  for (const KeyEntry& k : keys) {
    if (k.access_key_id == access_key_id) return &k;
  }
  return nullptr;
}

bool KeysFile::IsRevoked(std::string_view session_key_id) const {
  for (const RevokedSessionKey& r : revoked_session_keys) {
    if (r.access_key_id == session_key_id) return true;
  }
  return false;
}

Result<KeysFile> ParseKeysFile(std::string_view text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Bad("not a JSON object");
  KeysFile file;
  if (doc.contains("Version") && doc["Version"] != 1) {
    return Bad("Version must be 1 (this roentgen reads version 1)");
  }
  if (doc.contains("SessionTokenKey")) {
    if (!doc["SessionTokenKey"].is_string()) return Bad("SessionTokenKey must be a string");
    std::optional<std::string> raw = Base64UrlDecode(doc["SessionTokenKey"].get<std::string>());
    if (!raw || raw->size() != 32) {
      return Bad("SessionTokenKey must be 32 bytes in URL-safe base64 without padding");
    }
    file.session_token_key = std::move(*raw);
  }
  std::set<std::string, std::less<>> ids;
  if (doc.contains("Keys")) {
    if (!doc["Keys"].is_array()) return Bad("Keys must be an array");
    size_t index = 0;
    for (const json& k : doc["Keys"]) {
      const std::string where = fmt::format("Keys[{}]", index++);
      if (!k.is_object()) return Bad(where + " must be an object");
      KeyEntry entry;
      if (!k.contains("AccessKeyId") || !k["AccessKeyId"].is_string()) {
        return Bad(where + ".AccessKeyId is missing");
      }
      entry.access_key_id = k["AccessKeyId"].get<std::string>();
      if (!ValidAccessKeyId(entry.access_key_id)) {
        return Bad(where + ".AccessKeyId must be 3-128 letters, digits, '_' or '-'");
      }
      if (entry.access_key_id.starts_with(kSessionKeyPrefix)) {
        return Bad(fmt::format("{}.AccessKeyId may not start with {} (session keys' prefix)", where,
                               kSessionKeyPrefix));
      }
      if (!ids.insert(entry.access_key_id).second) {
        return Bad(fmt::format("{}.AccessKeyId {} appears twice", where, entry.access_key_id));
      }
      if (!k.contains("SecretAccessKey") || !k["SecretAccessKey"].is_string() ||
          k["SecretAccessKey"].get<std::string>().size() < 16) {
        return Bad(where + ".SecretAccessKey must be a string of at least 16 characters");
      }
      entry.secret_access_key = k["SecretAccessKey"].get<std::string>();
      if (k.contains("Name")) {
        if (!k["Name"].is_string()) return Bad(where + ".Name must be a string");
        entry.name = k["Name"].get<std::string>();
      }
      if (!k.contains("Actions") || !k["Actions"].is_array()) {
        return Bad(where + ".Actions must be an array of actions (\"xray:PutTraceSegments\", …)");
      }
      for (const json& a : k["Actions"]) {
        if (!a.is_string() || !IsValidActionPattern(a.get<std::string>())) {
          return Bad(
              fmt::format("{}.Actions: {} is not an action (\"xray:GetTraceSummaries\", "
                          "\"xray:Get*\", \"roentgen:*\", \"*\")",
                          where, a.dump()));
        }
        entry.actions.push_back(a.get<std::string>());
      }
      if (k.contains("Created")) {
        std::optional<int64_t> t =
            k["Created"].is_string() ? ParseIso8601(k["Created"].get<std::string>()) : std::nullopt;
        if (!t) return Bad(where + ".Created must be a time like 2026-01-31T12:00:00Z");
        entry.created_s = *t;
      }
      file.keys.push_back(std::move(entry));
    }
  }
  if (doc.contains("RevokedSessionKeys")) {
    if (!doc["RevokedSessionKeys"].is_array()) return Bad("RevokedSessionKeys must be an array");
    size_t index = 0;
    for (const json& r : doc["RevokedSessionKeys"]) {
      const std::string where = fmt::format("RevokedSessionKeys[{}]", index++);
      if (!r.is_object() || !r.contains("AccessKeyId") || !r["AccessKeyId"].is_string()) {
        return Bad(where + ".AccessKeyId is missing");
      }
      RevokedSessionKey revoked;
      revoked.access_key_id = r["AccessKeyId"].get<std::string>();
      if (r.contains("Revoked")) {
        std::optional<int64_t> t =
            r["Revoked"].is_string() ? ParseIso8601(r["Revoked"].get<std::string>()) : std::nullopt;
        if (!t) return Bad(where + ".Revoked must be a time like 2026-01-31T12:00:00Z");
        revoked.revoked_s = *t;
      }
      file.revoked_session_keys.push_back(std::move(revoked));
    }
  }
  return file;
}

std::string SerializeKeysFile(const KeysFile& file) {
  json doc = json::object();
  doc["Version"] = 1;
  if (!file.session_token_key.empty()) {
    doc["SessionTokenKey"] = Base64UrlEncode(file.session_token_key);
  }
  json keys = json::array();
  for (const KeyEntry& k : file.keys) {
    json entry = {{"AccessKeyId", k.access_key_id},
                  {"SecretAccessKey", k.secret_access_key},
                  {"Actions", k.actions}};
    if (!k.name.empty()) entry["Name"] = k.name;
    if (k.created_s != 0) entry["Created"] = FormatIso8601(k.created_s);
    keys.push_back(std::move(entry));
  }
  doc["Keys"] = std::move(keys);
  json revoked = json::array();
  for (const RevokedSessionKey& r : file.revoked_session_keys) {
    json entry = {{"AccessKeyId", r.access_key_id}};
    if (r.revoked_s != 0) entry["Revoked"] = FormatIso8601(r.revoked_s);
    revoked.push_back(std::move(entry));
  }
  doc["RevokedSessionKeys"] = std::move(revoked);
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<KeysFile> ReadKeysFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return Status::NotFound(fmt::format("keys file {} does not exist", path));
    return ErrnoStatus("cannot read keys file " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  Result<KeysFile> parsed = ParseKeysFile(text.str());
  if (!parsed.ok()) return Status::InvalidArgument(path + ": " + parsed.status().message());
  return parsed;
}

Status WriteKeysFile(const std::string& path, const KeysFile& file) {
  const std::filesystem::path target(path);
  const std::filesystem::path dir =
      target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  const std::string temp =
      (dir / fmt::format(".{}.tmp-{}", target.filename().string(), Base64UrlEncode(RandomBytes(6))))
          .string();
  const std::string text = SerializeKeysFile(file);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("cannot create " + temp);
  // The file replaced keeps its owner: root running `roentgen keys create`
  // on the keys file of a server that runs as its own user (the systemd
  // unit's roentgen) must not take the file away from it. Only root may
  // give a file away; for others the new file is theirs, as before.
  struct stat old {};
  if (::stat(path.c_str(), &old) == 0 && ::geteuid() == 0) {
    if (::fchown(fd, old.st_uid, old.st_gid) != 0) {
      Status s = ErrnoStatus("cannot keep the owner of " + path);
      ::close(fd);
      ::unlink(temp.c_str());
      return s;
    }
  }
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = ErrnoStatus("cannot write " + temp);
      ::close(fd);
      ::unlink(temp.c_str());
      return s;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    Status s = ErrnoStatus("cannot sync " + temp);
    ::unlink(temp.c_str());
    return s;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    Status s = ErrnoStatus("cannot replace " + path);
    ::unlink(temp.c_str());
    return s;
  }
  return FsyncPath(dir.string(), O_RDONLY | O_DIRECTORY);
}

Result<KeysFileLock> KeysFileLock::Acquire(const std::string& keys_path) {
  const std::string lock_path = keys_path + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("cannot open lock file " + lock_path);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    Status s = ErrnoStatus("cannot lock " + lock_path);
    ::close(fd);
    return s;
  }
  return KeysFileLock(fd);
}

KeysFileLock::~KeysFileLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

std::string NewAccessKeyId(bool session) {
  static constexpr char kBase32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const std::string random = RandomBytes(16);
  std::string id(session ? kSessionKeyPrefix : kAccessKeyPrefix);
  for (char c : random) id.push_back(kBase32[static_cast<unsigned char>(c) % 32]);
  return id;
}

std::string NewSecretAccessKey() { return Base64Encode(RandomBytes(30)); }

std::string NewSessionTokenKey() { return RandomBytes(32); }

}  // namespace roentgen::auth
