#include "backup/backup_dir.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <sstream>
#include <string_view>
#include <system_error>
#include <vector>

#include "backup/staging.h"
#include "common/disk_space.h"
#include "common/files.h"
#include "common/hex.h"

namespace roentgen::backup {
namespace {

namespace fs = std::filesystem;
constexpr std::string_view kFormat = "roentgen-backup 1";

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }
  void Update(std::string_view bytes) { EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()); }
  std::string Hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_DigestFinal_ex(ctx_.get(), digest, &size);
    return ToHex(std::span<const uint8_t>(digest, size));
  }

 private:
  struct Free {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
};

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", utc.tm_year + 1900, utc.tm_mon + 1,
                     utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
}

// Whether `dir` exists; an error unless it is missing or an empty directory.
Result<bool> ExistsEmpty(const std::string& dir, std::string_view what) {
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (!fs::exists(status)) return false;
  if (!fs::is_directory(status)) {
    return Status::AlreadyExists(fmt::format("{} {} exists and is not a directory", what, dir));
  }
  fs::directory_iterator it(dir, ec);
  if (ec) return Status::IOError(fmt::format("cannot list {} {}: {}", what, dir, ec.message()));
  if (it != fs::directory_iterator()) {
    return Status::AlreadyExists(fmt::format(
        "{} {} is not empty (it holds {}, …): give a new or empty directory; nothing is ever "
        "overwritten",
        what, dir, it->path().filename().string()));
  }
  return true;
}

// A directory to fill, `what` naming it in messages: created with its
// parents when missing (true), else it must be an empty directory (false).
Result<bool> PrepareTarget(const std::string& dir, std::string_view what) {
  Result<bool> exists = ExistsEmpty(dir, what);
  if (!exists.ok()) return exists.status();
  if (*exists) return false;
  std::error_code ec;
  const fs::path parent = fs::path(dir).parent_path();
  if (!parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec) {
      return Status::IOError(
          fmt::format("cannot create {} {}: {}", what, parent.string(), ec.message()));
    }
  }
  if (::mkdir(dir.c_str(), 0700) != 0) {
    return ErrnoStatus(errno, fmt::format("cannot create {} {}", what, dir), dir);
  }
  return true;
}

// Undoes PrepareTarget and what was written since.
void RemoveWritten(const std::string& dir, bool created) {
  std::error_code ec;
  if (created) {
    fs::remove_all(dir, ec);
    return;
  }
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ignored;
    fs::remove_all(it->path(), ignored);
  }
}

// A path from a manifest: relative, downwards only.
bool SafeRelativePath(const std::string& path) {
  if (path.empty() || path.front() == '/') return false;
  for (const fs::path& part : fs::path(path)) {
    if (part == ".." || part == "." || part.empty()) return false;
  }
  return true;
}

// Creates the directories of `relative` under `root` (mode 0700), noting
// each in `dirs` for a final fsync.
Status MakeParents(const std::string& root, const std::string& relative,
                   std::set<std::string>& dirs) {
  fs::path at(root);
  const fs::path parent = fs::path(relative).parent_path();
  for (const fs::path& part : parent) {
    at /= part;
    if (::mkdir(at.c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, fmt::format("mkdir {}", at.string()), at.string());
    }
    dirs.insert(at.string());
  }
  return Status::Ok();
}

// Every directory written, deepest first, then `root`.
Status SyncDirs(const std::set<std::string>& dirs, const std::string& root) {
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) RG_RETURN_IF_ERROR(SyncDir(*it));
  return SyncDir(root);
}

struct StagedFile {
  std::string source;    // absolute, in the staging directory
  std::string relative;  // in the backup
  uint64_t bytes = 0;
};

// The staged snapshot's files as a data dir lays them out: the store's at
// the top, each spool's in its directory.
Result<std::vector<StagedFile>> ListStaged(const std::string& staged) {
  std::vector<StagedFile> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(staged, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    fs::path relative = fs::relative(it->path(), staged, ec);
    if (ec) break;
    if (*relative.begin() == kStoreDir) relative = relative.lexically_relative(kStoreDir);
    files.push_back({it->path().string(), relative.generic_string(), it->file_size(ec)});
    if (ec) break;
  }
  if (ec) return Status::IOError(fmt::format("cannot list {}: {}", staged, ec.message()));
  std::sort(files.begin(), files.end(),
            [](const StagedFile& a, const StagedFile& b) { return a.relative < b.relative; });
  return files;
}

// Refuses at once a copy the disk cannot hold, rather than failing midway.
Status CheckRoom(const std::string& dir, uint64_t bytes) {
  Result<DiskSpace> space = GetDiskSpace(dir);
  constexpr uint64_t kMargin = 1 << 20;  // directories, the manifest
  if (space.ok() && space->available_bytes < bytes + kMargin) {
    return Status::ResourceExhausted(fmt::format("not enough room for {} in {}: {}",
                                                 FormatBytes(bytes), dir, DescribeDiskSpace(dir)));
  }
  return Status::Ok();
}

Status WriteManifest(const std::string& dir, const nlohmann::json& manifest) {
  const std::string path = fmt::format("{}/{}", dir, kManifestName);
  const std::string tmp = path + ".tmp";
  const std::string text = manifest.dump(1) + "\n";
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd.valid()) return ErrnoStatus(errno, fmt::format("create {}", tmp), tmp);
    for (size_t done = 0; done < text.size();) {
      ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus(errno, fmt::format("write {}", tmp), tmp);
      done += static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return ErrnoStatus(errno, fmt::format("fsync {}", tmp), tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return ErrnoStatus(errno, fmt::format("rename {}", tmp), path);
  }
  return SyncDir(dir);
}

Result<CopyStats> CopyStaged(const std::string& staged, const std::string& to,
                             const BackupInfo& info) {
  Result<std::vector<StagedFile>> files = ListStaged(staged);
  if (!files.ok()) return files.status();
  uint64_t total = 0;
  for (const StagedFile& f : *files) total += f.bytes;
  RG_RETURN_IF_ERROR(CheckRoom(to, total));

  nlohmann::json entries = nlohmann::json::array();
  std::set<std::string> dirs;
  CopyStats stats;
  for (const StagedFile& f : *files) {
    RG_RETURN_IF_ERROR(MakeParents(to, f.relative, dirs));
    Sha256 sha;
    Result<uint64_t> copied = CopyFile(f.source, fmt::format("{}/{}", to, f.relative), UINT64_MAX,
                                       [&sha](std::string_view bytes) { sha.Update(bytes); });
    if (!copied.ok()) return copied.status();
    entries.push_back({{"path", f.relative}, {"bytes", *copied}, {"sha256", sha.Hex()}});
    ++stats.files;
    stats.bytes += *copied;
  }
  RG_RETURN_IF_ERROR(SyncDirs(dirs, to));
  const nlohmann::json manifest = {{"format", kFormat},
                                   {"created", UtcNow()},
                                   {"roentgen", info.roentgen},
                                   {"data_dir", info.data_dir},
                                   {"server_running", info.server_running},
                                   {"bytes", stats.bytes},
                                   {"files", std::move(entries)}};
  RG_RETURN_IF_ERROR(WriteManifest(to, manifest));
  return stats;
}

Result<nlohmann::json> ReadManifest(const std::string& from) {
  std::error_code ec;
  if (!fs::is_directory(from, ec)) {
    return Status::NotFound(fmt::format("there is no backup directory {}", from));
  }
  const std::string path = fmt::format("{}/{}", from, kManifestName);
  std::ifstream in(path);
  if (!in) {
    return Status::NotFound(
        fmt::format("{} is not a complete Roentgen backup: it has no {} (written last, so a backup "
                    "interrupted before it finished has none)",
                    from, kManifestName));
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json manifest = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (manifest.is_discarded() || !manifest.is_object() || !manifest.contains("files") ||
      !manifest["files"].is_array()) {
    return Status::Corruption(fmt::format("{} is damaged (not a backup manifest)", path));
  }
  if (manifest.value("format", "") != kFormat) {
    return Status::Corruption(fmt::format("{} has format '{}'; this roentgen reads '{}'", path,
                                          manifest.value("format", ""), kFormat));
  }
  return manifest;
}

Result<CopyStats> CopyBackup(const std::string& from, const nlohmann::json& manifest,
                             const std::string& to) {
  uint64_t total = 0;
  for (const nlohmann::json& f : manifest["files"]) {
    if (!f.is_object() || !f.contains("path") || !f["path"].is_string() ||
        !SafeRelativePath(f["path"].get<std::string>()) || !f.contains("bytes") ||
        !f["bytes"].is_number_unsigned() || !f.contains("sha256") || !f["sha256"].is_string()) {
      return Status::Corruption(
          fmt::format("{}/{} is damaged (a bad file entry)", from, kManifestName));
    }
    total += f["bytes"].get<uint64_t>();
  }
  RG_RETURN_IF_ERROR(CheckRoom(to, total));
  std::set<std::string> dirs;
  CopyStats stats;
  for (const nlohmann::json& f : manifest["files"]) {
    const std::string relative = f["path"].get<std::string>();
    const std::string source = fmt::format("{}/{}", from, relative);
    const std::string target = fmt::format("{}/{}", to, relative);
    RG_RETURN_IF_ERROR(MakeParents(to, relative, dirs));
    Sha256 sha;
    Result<uint64_t> copied =
        CopyFile(source, target, UINT64_MAX, [&sha](std::string_view b) { sha.Update(b); });
    if (!copied.ok()) {
      if (copied.status().code() == StatusCode::kNotFound) {
        return Status::Corruption(fmt::format("the backup is damaged: {} is missing", source));
      }
      return copied.status();
    }
    const std::string digest = sha.Hex();
    if (*copied != f["bytes"].get<uint64_t>() || digest != f["sha256"].get<std::string>()) {
      return Status::Corruption(fmt::format(
          "the backup is damaged: {} ({} bytes, SHA-256 {}) is not the file the "
          "manifest names ({} bytes, SHA-256 {})",
          source, *copied, digest, f["bytes"].get<uint64_t>(), f["sha256"].get<std::string>()));
    }
    ++stats.files;
    stats.bytes += *copied;
  }
  RG_RETURN_IF_ERROR(SyncDirs(dirs, to));
  return stats;
}

}  // namespace

Status CheckBackupTarget(const std::string& to) { return ExistsEmpty(to, "--to").status(); }

Result<CopyStats> WriteBackup(const std::string& staged, const std::string& to,
                              const BackupInfo& info) {
  Result<bool> created = PrepareTarget(to, "--to");
  if (!created.ok()) return created.status();
  Result<CopyStats> copied = CopyStaged(staged, to, info);
  if (!copied.ok()) {
    RemoveWritten(to, *created);
    return Status(copied.status().code(), fmt::format("{} (the partial copy in {} was removed)",
                                                      copied.status().message(), to));
  }
  return copied;
}

Result<CopyStats> RestoreBackup(const std::string& from, const std::string& data_dir) {
  Result<nlohmann::json> manifest = ReadManifest(from);
  if (!manifest.ok()) return manifest.status();
  Result<bool> created = PrepareTarget(data_dir, "--data-dir");
  if (!created.ok()) return created.status();
  Result<CopyStats> copied = CopyBackup(from, *manifest, data_dir);
  if (!copied.ok()) {
    RemoveWritten(data_dir, *created);
    return Status(copied.status().code(), fmt::format("{} (the partial restore in {} was removed)",
                                                      copied.status().message(), data_dir));
  }
  return copied;
}

}  // namespace roentgen::backup
