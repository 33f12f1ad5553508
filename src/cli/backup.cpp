#include "cli/backup.h"

#include <fmt/format.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <system_error>

#include "backup/backup_dir.h"
#include "backup/control_socket.h"
#include "backup/staging.h"
#include "cli/command_line.h"
#include "cli/store_part.h"
#include "common/disk_space.h"

namespace roentgen::cli {
namespace {

namespace fs = std::filesystem;

// A data dir holds a store of one of the engines (cli/store_part.h).
Status CheckDataDir(const std::string& data_dir) {
  std::error_code ec;
  const fs::file_status status = fs::status(data_dir, ec);
  if (!fs::exists(status)) {
    return Status::NotFound(fmt::format("there is no data dir {}", data_dir));
  }
  if (!fs::is_directory(status)) {
    return Status::InvalidArgument(fmt::format("the data dir {} is not a directory", data_dir));
  }
  Result<std::optional<StoreEngine>> engine = DetectStoreEngine(data_dir);
  if (!engine.ok()) return engine.status();
  if (!engine->has_value()) {
    return Status::InvalidArgument(fmt::format(
        "{} is not a Roentgen data dir (it holds no store: no CURRENT file, no blocks/CURRENT)",
        data_dir));
  }
  return Status::Ok();
}

// Opens the store a data dir holds, of whichever engine wrote it, as a
// stopped server's (retention and indexing priority as serve's defaults).
Result<std::unique_ptr<store::Store>> OpenDataDirStore(const std::string& data_dir) {
  Result<std::optional<StoreEngine>> engine = DetectStoreEngine(data_dir);
  if (!engine.ok()) return engine.status();
  if (!engine->has_value()) {
    return Status::InvalidArgument(fmt::format("{} holds no store", data_dir));
  }
  ServeConfig defaults;
  defaults.low_priority_indexing = false;
  return OpenStore(**engine, data_dir, defaults);
}

// Whether `inner` is `outer` or inside it (both need not exist).
bool Inside(const std::string& inner, const std::string& outer) {
  std::error_code ec;
  const fs::path a = fs::weakly_canonical(fs::absolute(inner), ec);
  const fs::path b = fs::weakly_canonical(fs::absolute(outer), ec);
  auto [end, _] = std::mismatch(b.begin(), b.end(), a.begin(), a.end());
  return end == b.end();
}

std::string Absolute(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path), ec);
  return ec ? path : p.string();
}

// The data dir of a stopped server: opened here (which takes its lock, so
// no server starts on it meanwhile), staged, copied, unstaged.
Result<backup::CopyStats> BackupStopped(const BackupConfig& config,
                                        const backup::BackupInfo& info) {
  // Opening the store writes files into the data dir (a manifest, a log):
  // made by another user (root), they would lock its owner, the server, out.
  struct stat dir {};
  if (::stat(config.data_dir.c_str(), &dir) == 0 && dir.st_uid != ::geteuid()) {
    const passwd* owner = ::getpwuid(dir.st_uid);
    return Status::PermissionDenied(fmt::format(
        "no server runs on {}, so this command opens its store, which writes files into it; run "
        "it as the data dir's owner ({}), so that they stay theirs: sudo -u {} roentgen backup …",
        config.data_dir, owner != nullptr ? owner->pw_name : std::to_string(dir.st_uid),
        owner != nullptr ? owner->pw_name : "#" + std::to_string(dir.st_uid)));
  }
  Result<std::unique_ptr<store::Store>> opened = OpenDataDirStore(config.data_dir);
  if (!opened.ok()) {
    if (opened.status().code() == StatusCode::kUnavailable) {
      return Status::Unavailable(fmt::format(
          "{} is in use by another process, but no server answers on its {} (a server starting "
          "or stopping, or one older than this roentgen): retry, or stop it and retry",
          config.data_dir, backup::kControlSocket));
    }
    return opened.status();
  }
  std::unique_ptr<store::Store> store = std::move(opened).value();
  // Holding the store, this process is the data dir's only user: what an
  // earlier backup that died left staged goes.
  if (Status s = backup::RemoveStaging(config.data_dir); !s.ok()) spdlog::warn("{}", s.message());
  Result<backup::StagedSnapshot> staged = backup::StageBackup(config.data_dir, *store);
  if (!staged.ok()) return staged.status();
  Result<backup::CopyStats> copied =
      backup::WriteBackup(backup::StagingPath(config.data_dir, staged->name), config.to, info);
  if (Status s = backup::RemoveStaging(config.data_dir, staged->name); !s.ok()) {
    spdlog::warn("{}", s.message());
  }
  return copied;
}

}  // namespace

int RunBackup(const BackupConfig& config, std::ostream& out, std::ostream& err) {
  // RocksDB's and the store's informational lines are not this command's.
  spdlog::set_level(spdlog::level::warn);
  const auto began = std::chrono::steady_clock::now();
  auto fail = [&err](const Status& s) {
    err << "roentgen backup: " << s.message() << "\n";
    return 1;
  };
  if (Status s = CheckDataDir(config.data_dir); !s.ok()) return fail(s);
  if (Inside(config.to, config.data_dir)) {
    return fail(Status::InvalidArgument(fmt::format(
        "--to {} is inside the data dir {}: a backup belongs on another disk, or at least "
        "beside it",
        config.to, config.data_dir)));
  }
  if (Status s = backup::CheckBackupTarget(config.to); !s.ok()) return fail(s);
  backup::BackupInfo info;
  info.roentgen = VersionString();
  info.data_dir = Absolute(config.data_dir);

  Result<std::unique_ptr<backup::StagedByServer>> requested =
      backup::RequestSnapshot(config.data_dir);
  if (!requested.ok()) return fail(requested.status());
  Result<backup::CopyStats> copied = backup::CopyStats{};
  if (std::unique_ptr<backup::StagedByServer> staged = std::move(requested).value()) {
    info.server_running = true;
    copied =
        backup::WriteBackup(backup::StagingPath(config.data_dir, staged->name()), config.to, info);
    if (copied.ok()) {
      staged->Done();
    } else if (copied.status().code() == StatusCode::kNotFound) {
      // The server removes its snapshot when it stops.
      copied = Status::Unavailable(
          fmt::format("the server's snapshot went away while it was copied (did the server "
                      "stop?): {}",
                      copied.status().message()));
    }
  } else {
    copied = BackupStopped(config, info);
  }
  if (!copied.ok()) return fail(copied.status());
  out << fmt::format(
      "backed up {} ({}) into {}: {} files, {}, in {:.1f} s\n"
      "restore with: roentgen restore --from {} --data-dir NEW_DATA_DIR\n",
      info.data_dir, info.server_running ? "from its running server" : "no server was running",
      config.to, copied->files, FormatBytes(copied->bytes),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count(), config.to);
  return 0;
}

int RunRestore(const RestoreConfig& config, std::ostream& out, std::ostream& err) {
  spdlog::set_level(spdlog::level::warn);
  auto fail = [&err](const Status& s) {
    err << "roentgen restore: " << s.message() << "\n";
    return 1;
  };
  Result<backup::CopyStats> copied = backup::RestoreBackup(config.from, config.data_dir);
  if (!copied.ok()) return fail(copied.status());
  // The files are the backup's, checked byte for byte; opening the store
  // checks they make a store this roentgen reads.
  Result<std::unique_ptr<store::Store>> opened = OpenDataDirStore(config.data_dir);
  if (!opened.ok()) {
    return fail(Status(opened.status().code(),
                       fmt::format("the backup was copied into {}, but its store does not open: {}",
                                   config.data_dir, opened.status().message())));
  }
  const store::StoreStats stats = (*opened)->Stats();
  opened->reset();
  out << fmt::format(
      "restored {} into {}: {} files, {}; the store opens (about {} traces)\n"
      "start the server with --data-dir {} (owned by the user it runs as: chown -R if needed)\n",
      config.from, config.data_dir, copied->files, FormatBytes(copied->bytes), stats.traces,
      config.data_dir);
  return 0;
}

}  // namespace roentgen::cli
