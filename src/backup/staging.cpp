#include "backup/staging.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <ctime>
#include <filesystem>
#include <system_error>

#include "common/files.h"

namespace roentgen::backup {
namespace {

// "20261125T140312Z-4711-1": when, by which process, which of its snapshots.
std::string NewName() {
  static std::atomic<uint64_t> counter{0};
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  return fmt::format("{:%Y%m%dT%H%M%SZ}-{}-{}", utc, ::getpid(), ++counter);
}

Result<StagedSnapshot> Stage(const std::string& data_dir, store::Store& store,
                             const std::string& dir, StagedSnapshot snapshot) {
  // The spools before the store: see ingest/spool_snapshot.h.
  for (size_t i = 0; i < std::size(kSpoolDirs); ++i) {
    Result<ingest::SpoolSnapshotStats> spool = ingest::SnapshotSpool(
        fmt::format("{}/{}", data_dir, kSpoolDirs[i]), fmt::format("{}/{}", dir, kSpoolDirs[i]));
    if (!spool.ok()) return spool.status();
    snapshot.spools[i] = *spool;
  }
  RG_RETURN_IF_ERROR(store.Checkpoint(fmt::format("{}/{}", dir, kStoreDir)));
  RG_RETURN_IF_ERROR(SyncDir(dir));
  return snapshot;
}

}  // namespace

std::string StagingPath(const std::string& data_dir, const std::string& name) {
  return fmt::format("{}/{}/{}", data_dir, kStagingDir, name);
}

Result<StagedSnapshot> StageBackup(const std::string& data_dir, store::Store& store) {
  const std::string parent = fmt::format("{}/{}", data_dir, kStagingDir);
  if (::mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, fmt::format("mkdir {}", parent), parent);
  }
  StagedSnapshot snapshot;
  snapshot.name = NewName();
  const std::string dir = StagingPath(data_dir, snapshot.name);
  if (::mkdir(dir.c_str(), 0700) != 0) {
    return ErrnoStatus(errno, fmt::format("mkdir {}", dir), dir);
  }
  Result<StagedSnapshot> staged = Stage(data_dir, store, dir, std::move(snapshot));
  if (!staged.ok()) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return staged;
}

Status RemoveStaging(const std::string& data_dir, const std::string& name) {
  const std::string path =
      name.empty() ? fmt::format("{}/{}", data_dir, kStagingDir) : StagingPath(data_dir, name);
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return Status::IOError(fmt::format("cannot remove {}: {}", path, ec.message()));
  // The parent too once empty: a data dir shows backup-staging/ only while
  // a backup runs.
  const std::string parent = fmt::format("{}/{}", data_dir, kStagingDir);
  ::rmdir(parent.c_str());
  return Status::Ok();
}

}  // namespace roentgen::backup
