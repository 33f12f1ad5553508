// The spool's internals (ingest/spool.h), shared by its parts: spool.cpp
// (configuration, recovery at Open, the appends and Stop), spool_write.cpp (the
// write and sync threads, the checkpoint) and spool_consume.cpp (the consumer
// thread). Private to src/ingest.
//
// Threads: an append thread (Append, under `append_mu`: copies into `pending`), a
// write thread (writes `pending` as one group into the page cache and hands it
// to the sync thread), a sync thread (fdatasyncs what was written, publishes
// the new durable end, answers AppendDurable, saves the checkpoint), and a
// consumer thread (reads records up to the durable end, delivers them in
// batches, and moves the checkpoint forward as batches are stored, in log
// order).
//
// Writing and syncing are separate threads because an fdatasync can stall for
// hundreds of milliseconds when the disk is busy (RocksDB flushing and
// compacting beside it): with one thread, appends piled up in memory during
// the stall and were dropped at max_unwritten_bytes; now the page cache takes
// them and the next fdatasync covers everything written meanwhile.
//
// Three mutexes (which guards what is in the GUARDED_BY annotations, checked
// by clang): the receiver shares `append_mu` only with the write thread, never
// with the consumer and the writers that finish its batches, which may run at
// the lowest CPU priority: a low-priority thread preempted while holding the
// receiver's lock would stall the receiver and lose datagrams in the kernel.
// `written_mu` is the write and sync threads'; `mu` the rest. No thread holds
// two of them at once.
#pragma once

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "common/files.h"
#include "common/metrics.h"
#include "common/mutex.h"
#include "common/status.h"
#include "ingest/ingest_metrics.h"
#include "ingest/spool.h"
#include "ingest/spool_format.h"

namespace roentgen::ingest {

namespace spool_internal {

using spool_format::Position;

// Free bytes that end a spool's full-disk state (roentgen_disk_full) without a write.
inline constexpr uint64_t kRoomAfterDiskFull = 1 << 20;

inline std::string ErrnoMessage(int err) { return std::system_category().message(err); }

// Whether a failed write or fdatasync means the disk (or the user's quota) is full.
inline bool IsDiskFull(int err) { return err == ENOSPC || err == EDQUOT; }

// On failure, `err` is set to the errno.
inline Status WriteAll(int fd, const char* data, size_t size, const std::string& path, int& err) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      return Status::IOError(fmt::format("spool: write {}: {}", path, ErrnoMessage(err)));
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

// What AppendDurable's callback gets when the disk is full: Unavailable, as
// a store on a full disk refuses writes (retry later), saying so.
inline Status DiskFullStatus(const Status& failure) {
  return Status::Unavailable(fmt::format("the server's disk is full: {}", failure.message()));
}

}  // namespace spool_internal

using spool_format::Position;

struct Spool::Impl {
  Impl(SpoolConfig c, SpoolConsumer consume, MetricsRegistry& m)
      : config(std::move(c)),
        consumer(std::move(consume)),
        appended(m.GetCounter("roentgen_spool_appended_total",
                              "Records (UDP datagrams, OTLP documents) written to a spool and "
                              "fdatasync'd",
                              Label(config))),
        appended_bytes(m.GetCounter("roentgen_spool_appended_bytes_total",
                                    "Bytes written to a spool, framing included", Label(config))),
        dropped_full(DroppedCounter(m, "spool_full")),
        dropped_write_error(DroppedCounter(m, "spool_write_error")),
        dropped_disk_full(DroppedCounter(m, "disk_full")),
        dropped_not_running(DroppedCounter(m, "not_running")),
        discarded_bytes(m.GetCounter(
            "roentgen_spool_discarded_bytes_total",
            "Spool bytes skipped because they failed their checksum (a torn write at a crash)",
            Label(config))),
        retries(m.GetCounter("roentgen_spool_retries_total",
                             "Times a spool delivered its records again from the first one not "
                             "stored, because the store could not take them for now (a full "
                             "disk)",
                             Label(config))),
        disk_full_gauge(m.GetGauge("roentgen_disk_full",
                                   "1 while the disk under a component is full and its writes "
                                   "are refused, by component (store, udp_spool, otlp_spool, "
                                   "api_spool).",
                                   {{"component", config.name + "_spool"}})),
        backlog_gauge(m.GetGauge("roentgen_spool_backlog_bytes",
                                 "Spooled bytes not yet stored (on disk or being written)",
                                 Label(config))),
        files_gauge(m.GetGauge("roentgen_spool_files", "Files in a spool", Label(config))),
        sync_seconds(
            m.GetHistogram("roentgen_spool_sync_seconds",
                           "One spool fdatasync (covering every group written since the last)",
                           MetricsRegistry::LatencyBuckets(), Label(config))) {}

  static Labels Label(const SpoolConfig& c) { return {{"spool", c.name}}; }

  std::string FilePath(uint64_t number) const {
    return fmt::format("{}/{}", config.dir, spool_format::FileName(number));
  }
  std::string CheckpointPath() const { return fmt::format("{}/{}", config.dir, spool_format::kCheckpointName); }

  // A group written into the page cache and not yet fdatasync'd.
  struct Written {
    std::shared_ptr<UniqueFd> fd;
    uint64_t file = 0;
    uint64_t end = 0;    // the file's size after the group
    uint64_t bytes = 0;  // the group's bytes (without the file header)
    uint64_t records = 0;
    uint64_t answered = 0;  // records of AppendDurable, whose callers learn of a failure
    bool new_file = false;  // the group begins its file
    std::vector<SpoolDurable> durable;
  };

  Status Recover() EXCLUDES(mu);
  void WriteLoop();
  // Writes one group (records checksummed), rotating files, and hands it to
  // the sync thread; on a write error, drops it (counted; AppendDurable's
  // callers are told).
  void WriteGroup(const std::string& data, uint64_t records, uint64_t answered,
                  std::vector<SpoolDurable>& durable);
  // After a failed fdatasync: cuts its file back to the last good sync. The
  // write thread (or Stop, once it has exited).
  void CutBackFailedSync() EXCLUDES(written_mu);
  void SyncLoop();
  // fdatasyncs groups [first, last) of `groups`, all of one file, and
  // publishes them, or fails them all.
  void SyncFile(std::deque<Written>& groups, size_t first, size_t last);
  // Accounts for groups that could not be made durable: logs (at most once a
  // second per `last_log`), counts the records nobody is told about
  // (`records - answered`) as dropped, and releases their `bytes` of backlog.
  // The callers answer AppendDurable's callbacks.
  void DropGroups(std::chrono::steady_clock::time_point& last_log, const Status& status,
                  bool disk_full, uint64_t records, uint64_t answered, uint64_t bytes);
  void SaveCheckpoint() EXCLUDES(mu);
  void ConsumeLoop() EXCLUDES(mu);
  void Deliver(std::vector<std::string_view>& records, Position end, uint64_t& passed)
      EXCLUDES(mu);
  void Finish(uint64_t seq, SpoolBatch outcome) EXCLUDES(mu);
  // After kRetryLater: waits for every batch in flight, moves `pos` back to
  // the first record not stored, and pauses. The consumer thread.
  void Rewind(Position& pos, uint64_t& passed, std::vector<std::string_view>& records)
      EXCLUDES(mu);
  bool HasWork(const Position& pos) const REQUIRES(mu);
  bool AllDeliveredFinished() const REQUIRES(mu) {
    return std::all_of(inflight.begin(), inflight.end(), [](const Batch& b) { return b.finished; });
  }
  // Whether `framed` more bytes fit the spool and the unwritten group.
  bool HasRoom(uint64_t framed) const REQUIRES(append_mu) {
    return static_cast<uint64_t>(backlog_bytes.load(std::memory_order_relaxed)) + framed <=
               config.max_bytes &&
           pending.size() + framed <= config.max_unwritten_bytes;
  }
  // Frames `record` (after `prefix`) into the unwritten group as an entry;
  // the write thread encodes the group as blocks or records (so the
  // receiver stays lean).
  void AppendFramed(std::string_view prefix, std::string_view record) REQUIRES(append_mu) {
    spool_format::AppendEntry(prefix, record, pending);
  }
  // Appenders (under append_mu) and the consumer (under mu) call this at
  // once: both counts take the delta atomically, so the gauge never keeps a
  // stale total (Open sets both before the first call).
  void AddBacklog(int64_t delta) {
    backlog_bytes.fetch_add(delta, std::memory_order_relaxed);
    backlog_gauge.Add(delta);
  }

  const SpoolConfig config;
  const SpoolConsumer consumer;
  Counter& appended;
  Counter& appended_bytes;
  Counter& dropped_full;
  Counter& dropped_write_error;
  Counter& dropped_disk_full;
  Counter& dropped_not_running;
  Counter& discarded_bytes;
  Counter& retries;
  Gauge& disk_full_gauge;
  Gauge& backlog_gauge;
  Gauge& files_gauge;
  Histogram& sync_seconds;

  // Append and the write thread only.
  Mutex append_mu;
  CondVar sync_cv;  // pending data, or stop
  // The write thread waits until `pending` holds this much: notify it then.
  size_t wake_at_bytes GUARDED_BY(append_mu) = std::numeric_limits<size_t>::max();
  bool accepting GUARDED_BY(append_mu) = false;
  bool sync_stop GUARDED_BY(append_mu) = false;
  // Entries (spool_format::AppendEntry) the write thread has not taken yet.
  std::string pending GUARDED_BY(append_mu);
  uint64_t pending_records GUARDED_BY(append_mu) = 0;
  // Callbacks of AppendDurable in `pending`, and the number of their records.
  std::vector<SpoolDurable> pending_durable GUARDED_BY(append_mu);
  uint64_t pending_answered GUARDED_BY(append_mu) = 0;
  // Bytes appended after the committed position: entries' bytes until the
  // write thread encodes them, then the spool file's bytes.
  std::atomic<int64_t> backlog_bytes{0};

  // The write and sync threads.
  Mutex written_mu;
  CondVar written_cv;                                // a written group, or the write thread is done
  std::deque<Written> written GUARDED_BY(written_mu);  // in log order
  // The write thread has written everything and exited.
  bool write_done GUARDED_BY(written_mu) = false;
  // Set by the sync thread when an fdatasync failed: the file's bytes past
  // `offset` are not known to be on disk. The write thread cuts them off and
  // begins a new file.
  std::optional<Position> failed_sync GUARDED_BY(written_mu);

  // The sync and consumer threads, the batches' writers, and Stop.
  mutable Mutex mu;
  CondVar consumer_cv;  // durable data, a finished batch, or drain
  // The sync thread has written everything and exited.
  bool sync_done GUARDED_BY(mu) = false;
  // The consumer delivers up to the end, then exits ... or until drain_deadline.
  bool drain GUARDED_BY(mu) = false;
  std::chrono::steady_clock::time_point drain_deadline GUARDED_BY(mu);
  bool consumer_failed GUARDED_BY(mu) = false;  // a batch was not taken: stop delivering
  bool retry_pending GUARDED_BY(mu) = false;    // a batch could not be stored for now: deliver it again
  std::map<uint64_t, uint64_t> files GUARDED_BY(mu);  // file number → durable size
  uint64_t current_file GUARDED_BY(mu) = 0;  // the file being appended to; 0 before the first
  uint64_t durable_count GUARDED_BY(mu) = 0;
  struct Batch {
    Position end;
    uint64_t bytes = 0;  // spool bytes the batch moves the checkpoint over
    bool finished = false;
    bool stored = false;
  };
  std::deque<Batch> inflight GUARDED_BY(mu);  // delivered batches in log order, front = oldest
  uint64_t first_inflight_seq GUARDED_BY(mu) = 0;
  Position committed GUARDED_BY(mu);  // everything before it is stored

  // The sync thread, and Stop once it has exited.
  Position saved;  // the checkpoint on disk

  // Consumer thread only.
  bool stop_delivering = false;  // drain deadline passed, or pipeline stopped
  bool rewind = false;  // Deliver saw retry_pending: stop reading ahead, Rewind
  std::chrono::milliseconds retry_delay{0};
  Position committed_at_last_rewind;
  // Bytes skipped as damaged are counted once, even when read again after a rewind.
  Position discard_counted;

  // The controlling thread only (Open, Stop).
  bool opened = false;
  bool stopped = false;

  // Write thread only.
  std::shared_ptr<UniqueFd> write_fd;  // shared with the sync thread's groups
  uint64_t write_size = 0;
  uint64_t last_file = 0;  // the highest file number used
  std::chrono::steady_clock::time_point write_error_log{};

  // Sync thread only.
  uint64_t sync_failed_file = 0;  // its later groups fail too (file numbers start at 1)
  Position last_synced;
  std::chrono::steady_clock::time_point sync_error_log{};
  std::chrono::steady_clock::time_point checkpoint_error_log{};  // and Stop, after the thread

  Position start;  // where the consumer begins (set by Recover)
  std::thread write_thread;
  std::thread sync_thread;
  std::thread consumer_thread;
};


}  // namespace roentgen::ingest
