#include "store/rocksdb/rocksdb_faults.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <utility>

#include "common/disk_space.h"
#include "common/thread_name.h"
#include "store/rocksdb/rocksdb_store_impl.h"

namespace roentgen::store {
namespace {

// Without new space, a stopped store retries this rarely (an I/O error may
// clear by itself; a disk may be freed by less than a MiB).
constexpr auto kSlowRetry = std::chrono::seconds(30);
// Free space that grew by this much since the last failed attempt is worth
// an attempt at once.
constexpr uint64_t kSpaceWorthRetrying = 1 << 20;

bool IsDiskFull(const rocksdb::Status& s) {
  return s.IsNoSpace() || (s.IsIOError() && s.subcode() == rocksdb::Status::kSpaceLimit);
}

// What a client is told (its message goes into 503 answers): no paths.
Status DiskFullRefusal() {
  return Status::Unavailable(
      "the server's disk is full: writes are refused until space is freed on it (they resume "
      "by themselves; retry later)");
}

int64_t SteadySeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// True at most once a second per `last` (shared by threads; approximate).
bool ShouldLog(std::atomic<int64_t>& last) {
  const int64_t now = SteadySeconds();
  int64_t prev = last.load(std::memory_order_relaxed);
  return prev != now && last.compare_exchange_strong(prev, now, std::memory_order_relaxed);
}

const char* ReasonName(rocksdb::BackgroundErrorReason reason) {
  switch (reason) {
    case rocksdb::BackgroundErrorReason::kFlush:
    case rocksdb::BackgroundErrorReason::kFlushNoWAL:
      return "a flush";
    case rocksdb::BackgroundErrorReason::kCompaction:
      return "a compaction";
    case rocksdb::BackgroundErrorReason::kWriteCallback:
      return "a write";
    case rocksdb::BackgroundErrorReason::kMemTable:
      return "a memtable insert";
    case rocksdb::BackgroundErrorReason::kManifestWrite:
    case rocksdb::BackgroundErrorReason::kManifestWriteNoWAL:
      return "a manifest write";
  }
  return "a background job";
}

}  // namespace

class StoreFaults::Listener final : public rocksdb::EventListener {
 public:
  explicit Listener(StoreFaults* faults) : faults_(faults) {}
  const char* Name() const override { return "RoentgenStoreFaults"; }

  void OnBackgroundError(rocksdb::BackgroundErrorReason reason, rocksdb::Status* error) override {
    faults_->OnBackgroundError(reason, *error);
  }
  // The resume thread recovers; RocksDB's own recovery from a full disk
  // waits for more free space than a small disk has, and would make our
  // Resume() calls fail with Busy meanwhile.
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status,
                            bool* auto_recovery) override {
    *auto_recovery = false;
  }
  void OnErrorRecoveryEnd(const rocksdb::BackgroundErrorRecoveryInfo& info) override {
    if (info.new_bg_error.ok()) faults_->OnRecovered();
  }

 private:
  StoreFaults* const faults_;
};

StoreFaults::StoreFaults(std::string path, std::chrono::milliseconds check_interval)
    : path_(std::move(path)), check_interval_(check_interval) {}

StoreFaults::~StoreFaults() { Stop(); }

std::shared_ptr<rocksdb::EventListener> StoreFaults::listener() {
  return std::make_shared<Listener>(this);
}

void StoreFaults::Start(rocksdb::DB* db) {
  MutexLock lock(mu_);
  db_ = db;
  thread_ = std::thread([this] {
    SetCurrentThreadName("rg-store-resume");
    ResumeLoop();
  });
}

void StoreFaults::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void StoreFaults::OnBackgroundError(rocksdb::BackgroundErrorReason reason,
                                    const rocksdb::Status& error) {
  const bool disk_full = IsDiskFull(error);
  const bool stops_writes = error.severity() >= rocksdb::Status::kHardError;
  const bool unrecoverable = error.severity() >= rocksdb::Status::kFatalError;
  Result<DiskSpace> space = GetDiskSpace(path_);
  bool first = false;
  {
    MutexLock lock(mu_);
    first = !bg_error_;
    bg_error_ = true;
    stopped_writes_ = stopped_writes_ || stops_writes;
    refusing_.store(stopped_writes_, std::memory_order_release);
    unrecoverable_ = unrecoverable_ || unrecoverable;
    disk_full_ = disk_full_ || disk_full;
    corruption_ = corruption_ || error.IsCorruption();
    error_ = error.ToString();
    // A stopped store repeats its error to every refused write: only a new
    // one makes an attempt due at once. A compaction that failed for lack of
    // space (writes go on) is retried by RocksDB itself; its error is cleared
    // once the disk has more room, not at once.
    if (first) {
      attempted_ = !stops_writes;
      last_attempt_ = std::chrono::steady_clock::now();
      available_at_last_attempt_ = space.ok() ? space->available_bytes : 0;
    }
  }
  if (first || unrecoverable) {
    if (disk_full) {
      spdlog::error(
          "store: the disk is full ({}): {} failed; {} until space is freed, then resume by "
          "themselves; reads go on: {}",
          DescribeDiskSpace(path_), ReasonName(reason),
          stops_writes ? "writes are refused" : "compactions pause", error.ToString());
    } else if (unrecoverable) {
      spdlog::critical(
          "store: {} failed with an unrecoverable error; writes are refused until the server "
          "is restarted (if the store is damaged, restore the data dir from a backup: "
          "docs/storage.md): {}",
          ReasonName(reason), error.ToString());
    } else {
      spdlog::error("store: {} failed; {} until it succeeds again (retried every {} s): {}",
                    ReasonName(reason),
                    stops_writes ? "writes are refused" : "compactions pause",
                    kSlowRetry.count(), error.ToString());
    }
  }
  cv_.SignalAll();
}

void StoreFaults::OnRecovered() {
  bool was = false;
  {
    MutexLock lock(mu_);
    was = bg_error_;
    bg_error_ = stopped_writes_ = disk_full_ = unrecoverable_ = corruption_ = false;
    refusing_.store(false, std::memory_order_release);
    error_.clear();
  }
  if (was) spdlog::info("store: writes resumed ({})", DescribeDiskSpace(path_));
}

bool StoreFaults::ResumeDue(std::chrono::steady_clock::time_point now) const {
  if (!bg_error_ || unrecoverable_) return false;
  if (!attempted_) return true;
  if (now - last_attempt_ >= kSlowRetry) return true;
  if (!disk_full_) return false;
  Result<DiskSpace> space = GetDiskSpace(path_);
  return space.ok() && space->available_bytes >= available_at_last_attempt_ + kSpaceWorthRetrying;
}

void StoreFaults::ResumeLoop() {
  mu_.Lock();
  while (!stopping_) {
    if (!bg_error_ || unrecoverable_) {
      while (!stopping_ && !(bg_error_ && !unrecoverable_)) cv_.Wait(mu_);
      continue;
    }
    const auto wake_at = std::chrono::steady_clock::now() + check_interval_;
    while (!stopping_) {
      if (!cv_.WaitUntil(mu_, wake_at)) break;
    }
    if (stopping_) break;
    const auto now = std::chrono::steady_clock::now();
    if (!ResumeDue(now)) continue;
    attempted_ = true;
    last_attempt_ = now;
    Result<DiskSpace> space = GetDiskSpace(path_);
    available_at_last_attempt_ = space.ok() ? space->available_bytes : 0;
    mu_.Unlock();
    rocksdb::Status resumed;
    {
      // No write may reach the DB while it resumes (see Guarded).
      WriterMutexLock gate(gate_);
      // Flushes the memtables to new table files and opens a new WAL; fails
      // (and keeps the error) while there is still no room.
      resumed = db_->Resume();
    }
    mu_.Lock();
    if (resumed.ok()) {
      const bool was = bg_error_;
      bg_error_ = stopped_writes_ = disk_full_ = unrecoverable_ = corruption_ = false;
      refusing_.store(false, std::memory_order_release);
      error_.clear();
      mu_.Unlock();
      if (was) spdlog::info("store: writes resumed ({})", DescribeDiskSpace(path_));
      mu_.Lock();
    } else if (!resumed.IsBusy()) {
      spdlog::warn("store: writes cannot resume yet ({}): {}", DescribeDiskSpace(path_),
                   resumed.ToString());
      if (resumed.severity() >= rocksdb::Status::kFatalError) unrecoverable_ = true;
    }
  }
  mu_.Unlock();
}

Status StoreFaults::WriteFailed(const rocksdb::Status& s, std::string_view what) {
  if (IsDiskFull(s)) {
    write_errors_.disk_full.fetch_add(1, std::memory_order_relaxed);
    if (ShouldLog(last_write_log_)) {
      spdlog::warn("store: {} refused, the disk is full ({}): {}", what,
                   DescribeDiskSpace(path_), s.ToString());
    }
    return DiskFullRefusal();
  }
  (s.IsCorruption() ? write_errors_.corruption : write_errors_.io_error)
      .fetch_add(1, std::memory_order_relaxed);
  if (ShouldLog(last_write_log_)) spdlog::error("store: {} failed: {}", what, s.ToString());
  return Status::IOError(fmt::format("{} failed: {}", what, s.ToString()));
}

Status StoreFaults::Refused(std::string_view what) {
  bool disk_full = false;
  bool corruption = false;
  std::string error;
  {
    MutexLock lock(mu_);
    disk_full = disk_full_;
    corruption = corruption_;
    error = error_;
  }
  if (disk_full) {
    write_errors_.disk_full.fetch_add(1, std::memory_order_relaxed);
    return DiskFullRefusal();
  }
  (corruption ? write_errors_.corruption : write_errors_.io_error)
      .fetch_add(1, std::memory_order_relaxed);
  if (ShouldLog(last_write_log_)) {
    spdlog::error("store: {} refused: writes are stopped after an error: {}", what, error);
  }
  return Status::IOError(
      fmt::format("{} refused: writes are stopped after an error ({})", what, error));
}

Status StoreFaults::ReadFailed(Status s) {
  if (s.code() == StatusCode::kCorruption) {
    read_errors_.corruption.fetch_add(1, std::memory_order_relaxed);
  } else if (s.code() == StatusCode::kIOError) {
    read_errors_.io_error.fetch_add(1, std::memory_order_relaxed);
  }
  return read_failure_log_.Report(std::move(s));
}

StoreFaults::State StoreFaults::state() const {
  State state;
  {
    MutexLock lock(mu_);
    state.read_only = stopped_writes_;
    state.disk_full = disk_full_;
  }
  state.write_errors = write_errors_.Load();
  state.read_errors = read_errors_.Load();
  return state;
}

Status StoreFaults::OpenFailed(const rocksdb::Status& s, const std::string& path) {
  if (IsDiskFull(s)) {
    return Status::IOError(fmt::format(
        "cannot open the store in {}: the disk is full ({}); free space on it or move the data "
        "dir to a larger disk ({})",
        path, DescribeDiskSpace(path), s.ToString()));
  }
  if (s.IsCorruption()) {
    return Status::Corruption(fmt::format(
        "cannot open the store in {}: it is damaged ({}); restore the data dir from a backup "
        "(a damaged write-ahead log, *.log, may instead be moved out of it: the store then "
        "opens without the writes only it held; docs/storage.md, \"Damaged files\")",
        path, s.ToString()));
  }
  if (s.IsIOError() && s.ToString().find("lock file") != std::string::npos) {
    return Status::Unavailable(fmt::format(
        "cannot open the store in {}: another process holds its lock (is another roentgen "
        "serve running with this data dir?): {}",
        path, s.ToString()));
  }
  return FromRocks(s, fmt::format("cannot open the store in {}", path));
}

}  // namespace roentgen::store
