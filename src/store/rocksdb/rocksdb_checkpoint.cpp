// RocksDbStore::Checkpoint: a consistent copy of the store for backups
// (docs/storage.md, "Backup and restore").
//
// RocksDB's Checkpoint flushes the memtables, keeps file deletions off while
// it works, hard-links every live table file into the new directory (copies
// them across filesystems) and copies the manifest, options and the WAL
// written since the flush: the copy holds every write committed before the
// call, and opens as a store of its own. It runs beside writers, flushes and
// compactions; only its flush competes with them.
#include <fmt/format.h>
#include <rocksdb/utilities/checkpoint.h>

#include <filesystem>
#include <memory>
#include <system_error>

#include "common/disk_space.h"
#include "store/rocksdb/rocksdb_store_impl.h"

namespace roentgen::store {

Status RocksDbStore::Checkpoint(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) {
    return Status::AlreadyExists(fmt::format("checkpoint: {} already exists", dir));
  }
  // A store that refuses writes (a full disk, an I/O error) cannot flush:
  // say why instead of RocksDB's background error.
  if (const StoreFaults::State faults = faults_->state(); faults.read_only) {
    return Status::Unavailable(fmt::format(
        "checkpoint: the store refuses writes now ({}), so it cannot be flushed for a copy; "
        "retry once writes resume",
        faults.disk_full ? "its disk is full: " + DescribeDiskSpace(config_.path)
                         : std::string("after an I/O error")));
  }
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw);
  if (!s.ok()) return FromRocks(s, "checkpoint");
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // log_size_for_flush 0: always flush, so the copy's WAL is short and the
  // table files (linked, not copied) hold nearly everything.
  s = checkpoint->CreateCheckpoint(dir, /*log_size_for_flush=*/0);
  if (s.ok()) return Status::Ok();
  // RocksDB removes its partial copy (DIR.tmp) on most failures, not all.
  std::filesystem::remove_all(dir + ".tmp", ec);
  if (s.IsNoSpace() || (s.IsIOError() && s.subcode() == rocksdb::Status::kSpaceLimit)) {
    const std::filesystem::path parent = std::filesystem::path(dir).parent_path();
    return Status::ResourceExhausted(
        fmt::format("checkpoint: no room for a copy of the store in {}: the disk is full ({}): {}",
                    dir, DescribeDiskSpace(parent.empty() ? "." : parent.string()), s.ToString()));
  }
  return FromRocks(s, fmt::format("checkpoint into {}", dir));
}

}  // namespace roentgen::store
