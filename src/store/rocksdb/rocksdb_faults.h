// How the embedded store meets I/O faults (docs/storage.md, "Faults").
//
// A full disk: RocksDB fails the write (or flush) with NoSpace and stops
// taking writes. Writes are then refused with Unavailable ("the disk is
// full"), reads go on, and a thread of this class calls DB::Resume() once the
// disk has room again (RocksDB's own recovery waits for 64 MB free beside each
// write buffer, which a small disk never has, so it is turned off through the
// listener). Resume flushes the memtables, whose contents the WAL already
// holds durably, and switches to a new WAL: nothing acknowledged is lost.
//
// Other background errors (an I/O error in a flush, corruption found by a
// compaction) stop writes too: they are refused with IOError, retried every
// 30 s, and when RocksDB calls the error unrecoverable the store stays
// read-only until the server is restarted.
//
// Every failed write and every read that meets corruption or an I/O error is
// counted (counts(), exported by StoreMetrics) and logged, at most once a
// second per kind, so a full disk under load does not flood the log.
//
// Ownership: owned by the store; the listener it gives RocksDB holds a
// pointer to it, so the DB must be closed (or the listener never called)
// after Stop() and before destruction. Thread safety: every method may run
// on any thread.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/listener.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "common/mutex.h"
#include "common/status.h"
#include "store/read_failure.h"
#include "store/store.h"

namespace roentgen::store {

class StoreFaults {
 public:
  // `path`: the store's directory (its disk's free space goes into messages).
  // `check_interval`: how often a stopped store checks whether to resume.
  StoreFaults(std::string path, std::chrono::milliseconds check_interval);
  ~StoreFaults();
  StoreFaults(const StoreFaults&) = delete;
  StoreFaults& operator=(const StoreFaults&) = delete;

  // For DBOptions::listeners, before DB::Open.
  std::shared_ptr<rocksdb::EventListener> listener();
  // Starts the resume thread for `db` (which must stay open until Stop()).
  void Start(rocksdb::DB* db);
  // Stops the resume thread. Idempotent.
  void Stop();

  // Runs `write` (a DB write returning rocksdb::Status) unless writes are
  // stopped, and maps a failure. While RocksDB holds an error that stops
  // writes, they are refused here, without reaching the DB: a write refused
  // by RocksDB itself re-sets that error, and one that comes while Resume()
  // runs makes the resume fail, so under steady ingest it never would.
  // Errors: Unavailable ("the disk is full …"), IOError (anything else).
  template <typename Write>
  Status Guarded(std::string_view what, Write&& write) {
    ReaderMutexLock gate(gate_);
    if (refusing_.load(std::memory_order_acquire)) return Refused(what);
    const rocksdb::Status s = write();
    return s.ok() ? Status::Ok() : WriteFailed(s, what);
  }
  // A failed read, already mapped by FromRocks or a decoder: Corruption and
  // IOError are counted and logged, and Corruption's message begins "store
  // corruption detected: "; other codes (NotFound, InvalidArgument) pass.
  Status ReadFailed(Status s);

  struct State {
    bool read_only = false;
    bool disk_full = false;
    StoreErrorCounts write_errors;
    StoreErrorCounts read_errors;
  };
  State state() const;

  // Why `path` could not be opened, said for an operator: a full disk with
  // its free space, a damaged file with what to do; otherwise RocksDB's words.
  static Status OpenFailed(const rocksdb::Status& s, const std::string& path);

 private:
  class Listener;
  // A failed write: counted, logged, and mapped (see Guarded).
  Status WriteFailed(const rocksdb::Status& s, std::string_view what);
  // A write not tried because writes are stopped: counted and mapped.
  Status Refused(std::string_view what);
  void OnBackgroundError(rocksdb::BackgroundErrorReason reason, const rocksdb::Status& error);
  void OnRecovered();
  void ResumeLoop();
  // Whether the loop should call Resume now.
  bool ResumeDue(std::chrono::steady_clock::time_point now) const REQUIRES(mu_);

  const std::string path_;
  const std::chrono::milliseconds check_interval_;

  struct Counters {
    std::atomic<uint64_t> disk_full{0}, io_error{0}, corruption{0};
    StoreErrorCounts Load() const { return {disk_full.load(), io_error.load(), corruption.load()}; }
  };
  Counters write_errors_;
  Counters read_errors_;
  std::atomic<int64_t> last_write_log_{0};  // steady seconds of the last logged failure
  ReadFailureLog read_failure_log_;

  // Shared by every write, exclusive while Resume() runs (see Guarded). A
  // write holding it may take mu_ (Refused): gate_ first, never the reverse.
  SharedMutex gate_;
  std::atomic<bool> refusing_{false};  // = stopped_writes_, read without mu_

  mutable Mutex mu_ ACQUIRED_AFTER(gate_);
  CondVar cv_;
  rocksdb::DB* db_ = nullptr;  // set by Start, before the resume thread begins
  bool stopping_ GUARDED_BY(mu_) = false;
  bool bg_error_ GUARDED_BY(mu_) = false;  // RocksDB holds a background error (any severity)
  // ... of hard severity or worse: writes are refused.
  bool stopped_writes_ GUARDED_BY(mu_) = false;
  bool unrecoverable_ GUARDED_BY(mu_) = false;  // Resume cannot help: a restart is needed
  bool disk_full_ GUARDED_BY(mu_) = false;
  bool corruption_ GUARDED_BY(mu_) = false;  // the error is damage found in a table file
  std::string error_ GUARDED_BY(mu_);        // the background error, for the log
  std::chrono::steady_clock::time_point last_attempt_ GUARDED_BY(mu_){};
  uint64_t available_at_last_attempt_ GUARDED_BY(mu_) = 0;
  bool attempted_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace roentgen::store
