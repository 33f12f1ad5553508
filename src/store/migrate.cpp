#include "store/migrate.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <rocksdb/db.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/files.h"
#include "store/rocksdb/rocksdb_options.h"
#include "store/rocksdb/rocksdb_store.h"

namespace roentgen::store {
namespace {

namespace fs = std::filesystem;

std::string InDir(const std::string& dir, std::string_view name) {
  return (fs::path(dir) / name).string();
}

// DATA_DIR/migration.lock, held (flock, exclusive) while a migration copies
// or a switch is finished, so two processes never move the same files.
class MigrationFileLock {
 public:
  static Result<MigrationFileLock> Acquire(const std::string& data_dir) {
    const std::string path = InDir(data_dir, kMigrationLockFile);
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd.valid()) return ErrnoStatus(errno, "open", path);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        return Status::Unavailable(fmt::format(
            "a roentgen migrate runs on the data dir {} (it holds {}): wait for it to finish",
            data_dir, path));
      }
      return ErrnoStatus(errno, "flock", path);
    }
    return MigrationFileLock(std::move(fd), path);
  }

  // Removes the lock file (still holding it): a finished migration leaves
  // nothing behind.
  void RemoveFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }

 private:
  MigrationFileLock(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
};

// The files RocksDB keeps at the top of its directory (docs/storage.md,
// "Choosing the engine"); everything else there (spools, the control socket,
// backup staging) is not the store's.
bool IsRocksDbFile(const std::string& name) {
  if (name == "CURRENT" || name == "IDENTITY" || name == "LOCK" || name == "LOG") return true;
  for (std::string_view prefix : {"LOG.old.", "MANIFEST-", "OPTIONS-"}) {
    if (name.rfind(prefix, 0) == 0) return true;
  }
  for (std::string_view suffix : {".sst", ".log", ".blob", ".dbtmp"}) {
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return true;
    }
  }
  return false;
}

uint64_t MigrationDirBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      const uint64_t size = it->file_size(size_ec);
      if (!size_ec) total += size;
    }
  }
  return total;
}

uint64_t RocksDbTopBytes(const std::string& data_dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (fs::directory_iterator it(data_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec) && IsRocksDbFile(it->path().filename().string())) {
      const uint64_t size = it->file_size(size_ec);
      if (!size_ec) total += size;
    }
  }
  return total;
}

Status RenameDurably(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return ErrnoStatus(errno, fmt::format("rename {} to", from), to);
  }
  return Status::Ok();
}

Status SyncTree(const std::string& dir) {
  RG_RETURN_IF_ERROR(SyncDir(dir));
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_directory(type_ec)) RG_RETURN_IF_ERROR(SyncDir(it->path().string()));
  }
  if (ec) return Status::IOError(fmt::format("listing {}: {}", dir, ec.message()));
  return Status::Ok();
}

Status SwitchLocked(const std::string& data_dir) {
  const std::string done = InDir(data_dir, kMigrationDoneDir);
  const std::string old_store = InDir(data_dir, kPreMigrationStoreDir);
  std::error_code ec;
  fs::create_directories(old_store, ec);
  if (ec) return Status::IOError(fmt::format("creating {}: {}", old_store, ec.message()));
  std::vector<std::string> rocksdb_files;
  for (fs::directory_iterator it(data_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    const std::string name = it->path().filename().string();
    if (it->is_regular_file(type_ec) && IsRocksDbFile(name)) rocksdb_files.push_back(name);
  }
  if (ec) return Status::IOError(fmt::format("listing {}: {}", data_dir, ec.message()));
  for (const std::string& name : rocksdb_files) {
    RG_RETURN_IF_ERROR(RenameDurably(InDir(data_dir, name), InDir(old_store, name)));
  }
  RG_RETURN_IF_ERROR(SyncDir(old_store));
  for (std::string_view part : {"blocks", "config"}) {
    const std::string from = InDir(done, part);
    if (fs::exists(from, ec)) RG_RETURN_IF_ERROR(RenameDurably(from, InDir(data_dir, part)));
  }
  RG_RETURN_IF_ERROR(SyncDir(data_dir));
  fs::remove_all(done, ec);
  if (ec) return Status::IOError(fmt::format("removing {}: {}", done, ec.message()));
  return SyncDir(data_dir);
}

// Every config object of the RocksDB store in `data_dir` (namespace, key,
// value), read from a read-only instance beside the open store: the Store
// interface lists one namespace at a time and has no list of namespaces.
Status CopyConfig(const std::string& data_dir, Store& to, MigrationProgress& progress) {
  std::vector<rocksdb::ColumnFamilyDescriptor> all =
      rocks::MakeColumnFamilies(rocksdb::NewLRUCache(8 << 20));
  std::vector<rocksdb::ColumnFamilyDescriptor> wanted = {all[0], all[1 + rocks::kConfig]};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::OpenForReadOnly(rocks::MakeDbOptions(), data_dir, wanted, &handles, &raw);
  if (!s.ok()) {
    return Status::IOError(
        fmt::format("opening {} read-only to list its config: {}", data_dir, s.ToString()));
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  Status result = Status::Ok();
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[1]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string_view key(it->key().data(), it->key().size());
      const size_t nul = key.find('\0');
      if (nul == std::string_view::npos) {
        result = Status::Corruption(fmt::format(
            "a config key of {} has no namespace separator ({} bytes)", data_dir, key.size()));
        break;
      }
      result = to.PutConfig(key.substr(0, nul), key.substr(nul + 1),
                            std::string_view(it->value().data(), it->value().size()));
      if (!result.ok()) break;
      ++progress.config_objects;
    }
    if (result.ok() && !it->status().ok()) {
      result = Status::IOError(
          fmt::format("reading the config of {}: {}", data_dir, it->status().ToString()));
    }
  }
  for (rocksdb::ColumnFamilyHandle* h : handles) (void)db->DestroyColumnFamilyHandle(h);
  return result;
}

// Copies the pending traces (records with all their documents) in one Write.
Status WriteTraceBatch(Store& from, Store& to, std::vector<TraceRecord>& records,
                       MigrationProgress& progress) {
  if (records.empty()) return Status::Ok();
  std::vector<std::vector<StoredDocument>> documents;
  documents.reserve(records.size());
  WriteBatch batch;
  for (const TraceRecord& record : records) {
    Result<std::vector<StoredDocument>> docs = from.GetDocuments(record.summary.id);
    if (!docs.ok()) return docs.status();
    documents.push_back(std::move(docs).value());
  }
  for (size_t i = 0; i < records.size(); ++i) {
    for (const StoredDocument& doc : documents[i]) {
      batch.documents.push_back(
          DocumentWrite{records[i].summary.id, doc.entity_id, doc.received_us, doc.raw});
      progress.document_bytes += doc.raw.size();
    }
    progress.documents += documents[i].size();
  }
  batch.traces = std::move(records);
  // The new store starts empty and a scan returns each trace once.
  batch.new_traces.assign(batch.traces.size(), true);
  RG_RETURN_IF_ERROR(to.Write(batch));
  progress.traces += batch.traces.size();
  records.clear();
  return Status::Ok();
}

Result<uint64_t> CountTraces(Store& store) {
  ScanOptions scan;
  scan.start_us = std::numeric_limits<int64_t>::min();
  scan.end_us = std::numeric_limits<int64_t>::max();
  scan.descending = false;
  uint64_t count = 0;
  Result<ScanProgress> done = store.Scan(scan, [&count](const TraceRecord&, int64_t) {
    ++count;
    return true;
  });
  if (!done.ok()) return done.status();
  return count;
}

// Steps 2 and 3 (migrate.h): the copy into `build_dir`, closed and synced.
Status CopyStore(const std::string& data_dir, Store& rocks, const std::string& build_dir,
                 const MigrationOptions& options, MigrationResult& result) {
  Result<std::unique_ptr<block::BlockStore>> opened =
      block::BlockStore::Open(build_dir, options.block);
  if (!opened.ok()) return opened.status();
  std::unique_ptr<block::BlockStore> target = std::move(opened).value();
  MigrationProgress& progress = result.progress;
  progress.traces_estimate = rocks.Stats().traces;
  const auto began = std::chrono::steady_clock::now();
  auto seconds = [&began] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  };
  RG_RETURN_IF_ERROR(CopyConfig(data_dir, *target, progress));

  ScanOptions scan;
  scan.start_us = std::numeric_limits<int64_t>::min();
  scan.end_us = std::numeric_limits<int64_t>::max();
  scan.descending = false;  // blocks then hold adjacent time ranges
  scan.return_graph = true;
  std::vector<TraceRecord> pending;
  pending.reserve(options.batch_traces);
  Status failed = Status::Ok();
  uint64_t bytes_at_flush = 0;
  double next_progress = static_cast<double>(options.progress_interval_us) / 1e6;
  Result<ScanProgress> scanned = rocks.Scan(scan, [&](const TraceRecord& record, int64_t) {
    pending.push_back(record);
    if (pending.size() < options.batch_traces) return true;
    failed = WriteTraceBatch(rocks, *target, pending, progress);
    if (failed.ok() && progress.document_bytes - bytes_at_flush >= options.flush_every_bytes) {
      failed = target->Flush();
      bytes_at_flush = progress.document_bytes;
    }
    progress.seconds = seconds();
    if (failed.ok() && options.after_batch) failed = options.after_batch(progress);
    if (failed.ok() && options.on_progress && progress.seconds >= next_progress) {
      options.on_progress(progress);
      next_progress = progress.seconds + static_cast<double>(options.progress_interval_us) / 1e6;
    }
    return failed.ok();
  });
  if (!scanned.ok()) return scanned.status();
  RG_RETURN_IF_ERROR(failed);
  RG_RETURN_IF_ERROR(WriteTraceBatch(rocks, *target, pending, progress));
  progress.seconds = seconds();
  if (options.after_batch) RG_RETURN_IF_ERROR(options.after_batch(progress));
  RG_RETURN_IF_ERROR(target->Flush());

  Result<uint64_t> held = CountTraces(*target);
  if (!held.ok()) return held.status();
  if (*held != progress.traces) {
    return Status::Internal(fmt::format(
        "the block store built in {} holds {} traces, but {} were copied into it (a bug): the "
        "RocksDB store is left as it was",
        build_dir, *held, progress.traces));
  }
  progress.seconds = seconds();
  progress.traces_estimate = progress.traces;  // the exact total, now known
  if (options.on_progress) options.on_progress(progress);
  target.reset();  // closes the store: its config database and manifest
  return SyncTree(build_dir);
}

}  // namespace

bool MigrationSwitchPending(const std::string& data_dir) {
  std::error_code ec;
  return fs::is_directory(InDir(data_dir, kMigrationDoneDir), ec);
}

Result<bool> FinishMigrationSwitch(const std::string& data_dir) {
  if (!MigrationSwitchPending(data_dir)) return false;
  Result<MigrationFileLock> lock = MigrationFileLock::Acquire(data_dir);
  if (!lock.ok()) return lock.status();
  // Finished by another process while this one waited for the lock.
  if (!MigrationSwitchPending(data_dir)) return false;
  RG_RETURN_IF_ERROR(SwitchLocked(data_dir));
  lock->RemoveFile();
  return true;
}

Result<MigrationResult> MigrateRocksDbToBlock(const std::string& data_dir,
                                              const MigrationOptions& options) {
  if (options.batch_traces == 0) {
    return Status::InvalidArgument("migration: batch_traces must be positive");
  }
  auto note = [&options](const std::string& line) {
    if (options.on_note) options.on_note(line);
  };
  std::error_code ec;
  if (fs::exists(InDir(data_dir, "blocks"), ec) || MigrationSwitchPending(data_dir)) {
    return Status::InvalidArgument(
        fmt::format("the data dir {} already holds a block store", data_dir));
  }
  if (!fs::exists(InDir(data_dir, "CURRENT"), ec)) {
    return Status::InvalidArgument(fmt::format(
        "the data dir {} holds no RocksDB store (no CURRENT file) to migrate", data_dir));
  }
  Result<MigrationFileLock> lock = MigrationFileLock::Acquire(data_dir);
  if (!lock.ok()) return lock.status();

  RocksDbStoreConfig rocks_config;
  rocks_config.path = data_dir;
  // Nothing is deleted by retention while the copy runs (the block engine's
  // own retention applies once the server runs on it): a century of
  // retention, checked once a year. Not INT64_MAX: the retention thread's
  // wait converts the interval to nanoseconds.
  constexpr int64_t kYearUs = int64_t{365} * 24 * 3600 * 1'000'000;
  rocks_config.retention_us = 100 * kYearUs;
  rocks_config.retention_interval_us = kYearUs;
  Result<std::unique_ptr<Store>> opened = OpenRocksDbStore(rocks_config);
  if (!opened.ok()) {
    if (opened.status().code() == StatusCode::kUnavailable) {
      return Status::Unavailable(fmt::format(
          "the RocksDB store of {} is in use (a server runs on it?): stop the server first; {}",
          data_dir, opened.status().message()));
    }
    return opened.status();
  }
  std::unique_ptr<Store> rocks = std::move(opened).value();

  MigrationResult result;
  result.rocksdb_bytes = RocksDbTopBytes(data_dir);
  const std::string build_dir = InDir(data_dir, kMigrationBuildDir);
  if (fs::exists(build_dir, ec)) {
    note(fmt::format("removing {}, the copy of a migration that did not finish; starting over",
                     build_dir));
    fs::remove_all(build_dir, ec);
    if (ec) return Status::IOError(fmt::format("removing {}: {}", build_dir, ec.message()));
  }
  if (Status s = CopyStore(data_dir, *rocks, build_dir, options, result); !s.ok()) {
    fs::remove_all(build_dir, ec);  // the RocksDB store is untouched
    return s;
  }
  result.block_bytes = MigrationDirBytes(build_dir);

  // The commit: from here on the data dir belongs to the block engine.
  RG_RETURN_IF_ERROR(RenameDurably(build_dir, InDir(data_dir, kMigrationDoneDir)));
  RG_RETURN_IF_ERROR(SyncDir(data_dir));
  if (options.after_commit) RG_RETURN_IF_ERROR(options.after_commit());
  rocks.reset();  // releases RocksDB's LOCK before its files move
  note(fmt::format("copy complete and committed; moving the RocksDB files into {}",
                   InDir(data_dir, kPreMigrationStoreDir)));
  RG_RETURN_IF_ERROR(SwitchLocked(data_dir));
  result.old_store_dir = InDir(data_dir, kPreMigrationStoreDir);
  if (options.remove_old_store) {
    fs::remove_all(result.old_store_dir, ec);
    if (ec) {
      return Status::IOError(fmt::format("the migration is done, but removing {} failed: {}",
                                         result.old_store_dir, ec.message()));
    }
    result.old_store_dir.clear();
    RG_RETURN_IF_ERROR(SyncDir(data_dir));
  }
  lock->RemoveFile();
  return result;
}

}  // namespace roentgen::store
