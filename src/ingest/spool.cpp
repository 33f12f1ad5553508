// Spool: an append thread (Append, under `append_mu`: copies into `pending`), a
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
#include "ingest/spool.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include "common/thread_name.h"
#include "common/thread_priority.h"
#include "common/disk_space.h"
#include "common/mutex.h"
#include "ingest/ingest_metrics.h"
#include "ingest/spool_format.h"
#include "ingest/spool_reader.h"

namespace roentgen::ingest {
namespace {

using namespace spool_format;

// Free bytes that end a spool's full-disk state (roentgen_disk_full) without a write.
constexpr uint64_t kRoomAfterDiskFull = 1 << 20;

std::string ErrnoMessage(int err) { return std::system_category().message(err); }

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~UniqueFd() { Reset(); }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Whether a failed write or fdatasync means the disk (or the user's quota) is full.
bool IsDiskFull(int err) { return err == ENOSPC || err == EDQUOT; }

// On failure, `err` is set to the errno.
Status WriteAll(int fd, const char* data, size_t size, const std::string& path, int& err) {
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

Status SyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) {
    return Status::IOError(fmt::format("spool: fsync {}: {}", dir, ErrnoMessage(errno)));
  }
  return Status::Ok();
}

}  // namespace

Status SpoolConfig::Validate() const {
  if (dir.empty()) return Status::InvalidArgument("spool: the directory is empty");
  if (name.empty() || name.size() > 7) {
    return Status::InvalidArgument("spool: the name must have 1 to 7 characters");
  }
  if (file_bytes < 4096) return Status::InvalidArgument("spool: file_bytes must be >= 4096");
  if (max_bytes < file_bytes)
    return Status::InvalidArgument("spool: max_bytes must be >= file_bytes");
  if (max_unwritten_bytes < (64 << 10) + kRecordHeaderBytes) {
    return Status::InvalidArgument("spool: max_unwritten_bytes must hold a 64 KiB datagram");
  }
  if (read_batch == 0) return Status::InvalidArgument("spool: read_batch must be > 0");
  if (retry_interval.count() <= 0 || retry_interval > std::chrono::minutes(1)) {
    return Status::InvalidArgument("spool: retry_interval must be between 1 ms and 1 min");
  }
  if (drain_timeout.count() < 0)
    return Status::InvalidArgument("spool: drain_timeout must be >= 0");
  if (checkpoint_interval.count() <= 0) {
    return Status::InvalidArgument("spool: checkpoint_interval must be > 0");
  }
  if (min_sync_interval.count() < 0 || min_sync_interval > std::chrono::seconds(1)) {
    return Status::InvalidArgument("spool: min_sync_interval must be between 0 and 1 s");
  }
  if (group_bytes == 0 || group_bytes > max_unwritten_bytes) {
    return Status::InvalidArgument("spool: group_bytes must be between 1 and max_unwritten_bytes");
  }
  return Status::Ok();
}

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
                                   "are refused, by component (store, udp_spool, otlp_spool).",
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
    return fmt::format("{}/{}", config.dir, FileName(number));
  }
  std::string CheckpointPath() const { return fmt::format("{}/{}", config.dir, kCheckpointName); }

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
  // Frames `record` into the unwritten group; the sync thread fills in the
  // checksum (so the receiver stays lean).
  void AppendFramed(std::string_view record) REQUIRES(append_mu) {
    AppendRecordUnchecksummed(record, pending);
  }
  void AddBacklog(int64_t delta) {
    backlog_gauge.Set(backlog_bytes.fetch_add(delta, std::memory_order_relaxed) + delta);
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
  // Framed records the write thread has not taken yet.
  std::string pending GUARDED_BY(append_mu);
  uint64_t pending_records GUARDED_BY(append_mu) = 0;
  // Callbacks of AppendDurable in `pending`, and the number of their records.
  std::vector<SpoolDurable> pending_durable GUARDED_BY(append_mu);
  uint64_t pending_answered GUARDED_BY(append_mu) = 0;
  std::atomic<int64_t> backlog_bytes{0};  // bytes appended after the committed position

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

Status Spool::Impl::Recover() {
  MutexLock lock(mu);  // no other thread runs yet; the fields are mu's
  std::error_code ec;
  std::filesystem::create_directories(config.dir, ec);
  if (ec)
    return Status::IOError(fmt::format("spool: cannot create {}: {}", config.dir, ec.message()));
  // Error-code increments: a range-for over a directory_iterator throws.
  for (std::filesystem::directory_iterator it(config.dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (std::optional<uint64_t> number = ParseFileName(name)) {
      files[*number] = it->file_size(ec);
      if (ec) return Status::IOError(fmt::format("spool: stat {}: {}", name, ec.message()));
    }
  }
  if (ec)
    return Status::IOError(fmt::format("spool: cannot list {}: {}", config.dir, ec.message()));

  const std::string checkpoint_path = CheckpointPath();
  UniqueFd fd(::open(checkpoint_path.c_str(), O_RDONLY | O_CLOEXEC));
  bool have_checkpoint = false;
  if (fd.valid()) {
    char bytes[kCheckpointBytes + 1];
    Result<size_t> got = ReadAt(fd.get(), bytes, sizeof(bytes), 0, checkpoint_path);
    if (!got.ok()) return got.status();
    if (std::optional<Position> saved_at = DecodeCheckpoint(std::string_view(bytes, *got))) {
      start = *saved_at;
      have_checkpoint = true;
    } else {
      spdlog::error("spool: {} is damaged; replaying every spooled record", checkpoint_path);
    }
  } else if (errno != ENOENT) {
    return Status::IOError(
        fmt::format("spool: cannot open {}: {}", checkpoint_path, ErrnoMessage(errno)));
  }
  if (!have_checkpoint) start = {files.empty() ? 0 : files.begin()->first, 0};
  saved = committed = start;

  // Files before the checkpoint were stored; a crash came between saving the
  // checkpoint and deleting them.
  for (auto it = files.begin(); it != files.end() && it->first < start.file;) {
    std::filesystem::remove(FilePath(it->first), ec);
    it = files.erase(it);
  }
  uint64_t backlog = 0;
  for (const auto& [number, size] : files) {
    backlog += size - (number == start.file ? std::min(size, start.offset) : 0);
  }
  backlog_bytes = static_cast<int64_t>(backlog);
  backlog_gauge.Set(static_cast<int64_t>(backlog));
  files_gauge.Set(static_cast<int64_t>(files.size()));
  last_file = std::max(start.file, files.empty() ? 0 : files.rbegin()->first);
  if (backlog > 0) {
    spdlog::info("spool: {} bytes in {} files not yet stored; delivering them first", backlog,
                 files.size());
  }
  return Status::Ok();
}

bool Spool::Impl::HasWork(const Position& pos) const {
  auto it = files.lower_bound(pos.file);
  if (it == files.end()) return false;
  if (it->first != pos.file || it->second > pos.offset) return true;
  const bool sealed = it->first != current_file || sync_done;
  return sealed && std::next(it) != files.end();
}

void Spool::Impl::WriteLoop() {
  std::string writing;
  std::vector<SpoolDurable> durable;
  auto last_write = std::chrono::steady_clock::now() - config.min_sync_interval;
  while (true) {
    uint64_t records = 0;
    uint64_t answered = 0;
    bool stop = false;
    {
      MutexLock lock(append_mu);
      wake_at_bytes = 1;  // any data
      while (pending.empty() && !sync_stop) sync_cv.Wait(append_mu);
      // Each fdatasync costs the kernel ~140 µs of CPU whatever its size: a
      // trickle of datagrams is gathered for up to min_sync_interval, a
      // stream is written as soon as it fills a group (small groups keep the
      // page cache's dirty data, and so each sync's latency, small).
      // Someone waiting for durability (AppendDurable) is not kept waiting.
      wake_at_bytes = config.group_bytes;
      const auto deadline = last_write + config.min_sync_interval;
      while (pending.size() < config.group_bytes && pending_durable.empty() && !sync_stop) {
        if (!sync_cv.WaitUntil(append_mu, deadline)) break;
      }
      wake_at_bytes = std::numeric_limits<size_t>::max();
      last_write = std::chrono::steady_clock::now();
      stop = sync_stop && pending.empty();
      writing.swap(pending);
      records = std::exchange(pending_records, 0);
      answered = std::exchange(pending_answered, 0);
      durable.swap(pending_durable);
    }
    if (!writing.empty()) {
      ChecksumRecords(writing);
      WriteGroup(writing, records, answered, durable);
    }
    durable.clear();
    // A group can reach 64 MB when the disk stalls; keep the usual few MB.
    if (writing.capacity() > (16u << 20)) writing = std::string();
    writing.clear();
    if (stop) break;
  }
  write_fd.reset();
  {
    MutexLock lock(written_mu);
    write_done = true;
  }
  written_cv.SignalAll();
}

void Spool::Impl::DropGroups(std::chrono::steady_clock::time_point& last_log, const Status& status,
                             bool disk_full, uint64_t records, uint64_t answered, uint64_t bytes) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_log > std::chrono::seconds(1)) {
    last_log = now;
    spdlog::error("{}; {} records not written{}", status.message(), records,
                  disk_full ? fmt::format(" (the disk is full: {})", DescribeDiskSpace(config.dir))
                            : "");
  }
  if (disk_full) disk_full_gauge.Set(1);
  (disk_full ? dropped_disk_full : dropped_write_error).Inc(records - answered);
  AddBacklog(-static_cast<int64_t>(bytes));
}

void Spool::Impl::CutBackFailedSync() {
  std::optional<Position> failed;
  {
    MutexLock lock(written_mu);
    failed = std::exchange(failed_sync, std::nullopt);
  }
  if (!failed) return;
  const std::string path = FilePath(failed->file);
  if (failed->file == last_file) write_fd.reset();  // go on in a new file
  // No byte past the last good sync was published; none must be replayed
  // after a restart either (their writers were told, or they were counted).
  const int rc = failed->offset == 0 ? ::unlink(path.c_str())
                                     : ::truncate(path.c_str(), static_cast<off_t>(failed->offset));
  if (rc != 0) spdlog::error("spool: cannot cut back {}: {}", path, ErrnoMessage(errno));
}

void Spool::Impl::WriteGroup(const std::string& data, uint64_t records, uint64_t answered,
                             std::vector<SpoolDurable>& durable) {
  CutBackFailedSync();
  Status status;
  int err = 0;
  bool new_file = false;
  if (write_fd && write_size > kFileHeaderBytes && write_size + data.size() > config.file_bytes) {
    write_fd.reset();  // sealed: the sync thread syncs what its groups wrote
  }
  if (!write_fd) {
    new_file = true;
    const std::string path = FilePath(last_file + 1);
    auto fd = std::make_shared<UniqueFd>(
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd->valid()) {
      err = errno;
      status = Status::IOError(fmt::format("spool: cannot create {}: {}", path, ErrnoMessage(err)));
    } else {
      write_fd = std::move(fd);
      status = WriteAll(write_fd->get(), kMagic, sizeof(kMagic), path, err);
      write_size = 0;
    }
  }
  const uint64_t file = new_file ? last_file + 1 : last_file;
  const std::string path = FilePath(file);
  if (status.ok()) status = WriteAll(write_fd->get(), data.data(), data.size(), path, err);
  if (!status.ok()) {
    DropGroups(write_error_log, status, IsDiskFull(err), records, answered, data.size());
    // The file may hold part of the group: a new file is dropped, an old one
    // cut back to its size before the group (the consumer never reads past
    // what was synced).
    if (new_file) {
      write_fd.reset();
      ::unlink(path.c_str());
    } else {
      if (::ftruncate(write_fd->get(), static_cast<off_t>(write_size)) != 0) {
        spdlog::error("spool: cannot truncate {}: {}", path, ErrnoMessage(errno));
      }
      write_fd.reset();
    }
    for (SpoolDurable& done : durable) done(status);
    return;
  }
  if (new_file) {
    last_file = file;
    write_size = kFileHeaderBytes;
  }
  write_size += data.size();
  {
    MutexLock lock(written_mu);
    written.push_back(Written{write_fd, file, write_size, data.size(), records, answered, new_file,
                              std::move(durable)});
  }
  written_cv.Signal();
}

void Spool::Impl::SyncLoop() {
  std::deque<Written> groups;
  auto next_checkpoint = std::chrono::steady_clock::now() + config.checkpoint_interval;
  while (true) {
    bool done = false;
    {
      MutexLock lock(written_mu);
      while (written.empty() && !write_done) {
        if (!written_cv.WaitUntil(written_mu, next_checkpoint)) break;
      }
      groups.swap(written);
      done = write_done && groups.empty();
    }
    // Everything written while the last fdatasync ran is covered by one more.
    for (size_t first = 0; first < groups.size();) {
      size_t last = first + 1;
      while (last < groups.size() && groups[last].file == groups[first].file) ++last;
      SyncFile(groups, first, last);
      first = last;
    }
    groups.clear();
    if (done) break;
    if (std::chrono::steady_clock::now() >= next_checkpoint) {
      SaveCheckpoint();
      next_checkpoint = std::chrono::steady_clock::now() + config.checkpoint_interval;
      // A spool that saw a full disk says so until it has room again, even
      // when nothing is appended meanwhile.
      if (disk_full_gauge.Value() != 0) {
        Result<DiskSpace> space = GetDiskSpace(config.dir);
        if (space.ok() && space->available_bytes >= kRoomAfterDiskFull) disk_full_gauge.Set(0);
      }
    }
  }
  {
    MutexLock lock(mu);
    sync_done = true;
  }
  consumer_cv.SignalAll();
}

void Spool::Impl::SyncFile(std::deque<Written>& groups, size_t first, size_t last) {
  const uint64_t file = groups[first].file;
  const Written& newest = groups[last - 1];
  bool new_file = false;
  uint64_t records = 0;
  uint64_t answered = 0;
  uint64_t bytes = 0;
  for (size_t i = first; i < last; ++i) {
    new_file = new_file || groups[i].new_file;
    records += groups[i].records;
    answered += groups[i].answered;
    bytes += groups[i].bytes;
  }
  const std::string path = FilePath(file);
  Status status;
  bool disk_full = false;
  if (file == sync_failed_file) {
    status = Status::IOError(fmt::format("spool: {} failed an earlier fdatasync", path));
  } else {
    const auto t0 = std::chrono::steady_clock::now();
    if (config.before_sync) {
      status = config.before_sync(file);
      disk_full = status.code() == StatusCode::kResourceExhausted;
    }
    if (status.ok() && ::fdatasync(newest.fd->get()) != 0) {
      const int err = errno;
      disk_full = IsDiskFull(err);
      status = Status::IOError(fmt::format("spool: fdatasync {}: {}", path, ErrnoMessage(err)));
    }
    // The new name must survive a crash too.
    if (status.ok() && new_file) status = SyncDir(config.dir);
    sync_seconds.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (!status.ok()) {
      sync_failed_file = file;
      {
        MutexLock lock(written_mu);
        failed_sync = Position{file, last_synced.file == file ? last_synced.offset : 0};
      }
    }
  }
  if (!status.ok()) {
    DropGroups(sync_error_log, status, disk_full, records, answered, bytes);
    for (size_t i = first; i < last; ++i) {
      for (SpoolDurable& done : groups[i].durable) done(status);
    }
    return;
  }
  last_synced = {file, newest.end};
  disk_full_gauge.Set(0);
  appended.Inc(records);
  appended_bytes.Inc(bytes + (new_file ? kFileHeaderBytes : 0));
  {
    MutexLock lock(mu);
    if (new_file) {
      current_file = file;
      AddBacklog(static_cast<int64_t>(kFileHeaderBytes));
    }
    files[file] = newest.end;
    files_gauge.Set(static_cast<int64_t>(files.size()));
    durable_count += records;
  }
  consumer_cv.SignalAll();
  for (size_t i = first; i < last; ++i) {
    for (SpoolDurable& done : groups[i].durable) done(Status::Ok());
  }
}

void Spool::Impl::SaveCheckpoint() {
  Position target;
  {
    MutexLock lock(mu);
    target = committed;
  }
  if (target == saved) return;
  const std::string bytes = EncodeCheckpoint(target);
  const std::string path = CheckpointPath();
  const std::string tmp = path + ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  int err = 0;
  Status status =
      fd.valid()
          ? WriteAll(fd.get(), bytes.data(), bytes.size(), tmp, err)
          : Status::IOError(fmt::format("spool: cannot create {}: {}", tmp, ErrnoMessage(errno)));
  if (status.ok() && ::fdatasync(fd.get()) != 0) {
    status = Status::IOError(fmt::format("spool: fdatasync {}: {}", tmp, ErrnoMessage(errno)));
  }
  fd.Reset();
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = Status::IOError(fmt::format("spool: rename {}: {}", tmp, ErrnoMessage(errno)));
  }
  if (status.ok()) status = SyncDir(config.dir);
  if (!status.ok()) {
    // The files stay until a checkpoint is saved: they are only replayed.
    // Logged at most once a minute: a full disk fails every attempt.
    const auto now = std::chrono::steady_clock::now();
    if (now - checkpoint_error_log >= std::chrono::minutes(1)) {
      checkpoint_error_log = now;
      spdlog::error("{} (the checkpoint is saved again every {} ms)", status.message(),
                    config.checkpoint_interval.count());
    }
    return;
  }
  saved = target;
  std::vector<uint64_t> stored_files;
  {
    MutexLock lock(mu);
    for (auto it = files.begin(); it != files.end() && it->first < target.file;) {
      stored_files.push_back(it->first);
      it = files.erase(it);
    }
    files_gauge.Set(static_cast<int64_t>(files.size()));
  }
  for (uint64_t number : stored_files) {
    const std::string file = FilePath(number);
    if (::unlink(file.c_str()) != 0) {
      spdlog::error("spool: cannot delete {}: {}", file, ErrnoMessage(errno));
    }
  }
}

void Spool::Impl::Finish(uint64_t seq, SpoolBatch outcome) {
  {
    MutexLock lock(mu);
    Batch& batch = inflight[seq - first_inflight_seq];
    batch.finished = true;
    batch.stored = outcome == SpoolBatch::kDone;
    if (outcome == SpoolBatch::kNotTaken) consumer_failed = true;
    if (outcome == SpoolBatch::kRetryLater) retry_pending = true;
    while (!inflight.empty() && inflight.front().finished && inflight.front().stored) {
      committed = inflight.front().end;
      AddBacklog(-static_cast<int64_t>(inflight.front().bytes));
      inflight.pop_front();
      ++first_inflight_seq;
    }
  }
  consumer_cv.SignalAll();
}

void Spool::Impl::Deliver(std::vector<std::string_view>& records, Position end, uint64_t& passed) {
  if (stop_delivering || rewind || (records.empty() && passed == 0)) {
    records.clear();
    return;
  }
  uint64_t seq;
  {
    MutexLock lock(mu);
    if (consumer_failed) {  // the pipeline stopped: keep the rest for the next start
      stop_delivering = true;
      records.clear();
      return;
    }
    if (retry_pending) {  // these go again after the rewind, with the failed batch
      rewind = true;
      records.clear();
      return;
    }
    if (drain && std::chrono::steady_clock::now() >= drain_deadline) {
      spdlog::warn(
          "spool: stopping with {} bytes not yet stored; they are delivered first at "
          "the next start",
          backlog_bytes.load());
      stop_delivering = true;
      records.clear();
      return;
    }
    seq = first_inflight_seq + inflight.size();
    inflight.push_back(Batch{end, passed});
  }
  passed = 0;
  if (records.empty()) {
    Finish(seq, SpoolBatch::kDone);  // only skipped bytes: nothing to store
    return;
  }
  consumer(records, [this, seq](SpoolBatch outcome) { Finish(seq, outcome); });
  records.clear();
}

void Spool::Impl::Rewind(Position& pos, uint64_t& passed, std::vector<std::string_view>& records) {
  records.clear();
  passed = 0;
  rewind = false;
  MutexLock lock(mu);
  while (!AllDeliveredFinished()) consumer_cv.Wait(mu);
  // Every batch after the committed position goes again, stored or not (a
  // document written twice replaces itself); their bytes leave the backlog
  // when they are committed.
  first_inflight_seq += inflight.size();
  inflight.clear();
  retry_pending = false;
  pos = committed;
  if (drain) {
    // Stopping: waiting for the store to take writes again would only hold
    // up the stop; the records are delivered first at the next start.
    spdlog::warn("spool {}: the store could not take its records; {} bytes are delivered at "
                 "the next start",
                 config.name, backlog_bytes.load());
    stop_delivering = true;
    return;
  }
  retries.Inc();
  const std::chrono::milliseconds longest = config.retry_interval * 10;
  retry_delay = committed > committed_at_last_rewind || retry_delay.count() == 0
                    ? config.retry_interval
                    : std::min(retry_delay * 2, longest);
  committed_at_last_rewind = committed;
  if (retry_delay == config.retry_interval || retry_delay == longest) {
    spdlog::warn("spool {}: the store could not take its records for now; delivering them "
                 "again in {} ms ({} bytes waiting)",
                 config.name, retry_delay.count(), backlog_bytes.load());
  }
  const auto resume_at = std::chrono::steady_clock::now() + retry_delay;
  while (!consumer_failed && !drain) {
    if (!consumer_cv.WaitUntil(mu, resume_at)) break;
  }
}

void Spool::Impl::ConsumeLoop() {
  Position pos = start;
  UniqueFd fd;
  uint64_t fd_file = 0;
  std::string path;
  std::optional<SpoolFileReader> reader;
  std::vector<std::string_view> records;
  uint64_t passed = 0;  // bytes moved over since the last delivered batch
  while (true) {
    if (rewind) Rewind(pos, passed, records);
    uint64_t end = 0;
    {
      MutexLock lock(mu);
      while (!consumer_failed && !retry_pending && !HasWork(pos) && !(drain && sync_done)) {
        consumer_cv.Wait(mu);
      }
      if (consumer_failed || stop_delivering) break;
      if (retry_pending && !drain) {
        rewind = true;
        continue;
      }
      // Stopping: what a batch in flight could not store stays for the next start.
      if (!HasWork(pos)) break;
      auto it = files.lower_bound(pos.file);
      if (it->first != pos.file) {
        pos = {it->first, 0};
      } else if (it->second <= pos.offset) {
        pos = {std::next(it)->first, 0};
        it = std::next(it);
      }
      end = it->second;
    }
    if (fd_file != pos.file || !fd.valid()) {
      path = FilePath(pos.file);
      fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      fd_file = pos.file;
      reader.reset();
      if (!fd.valid()) {
        if (pos >= discard_counted) {
          spdlog::error("spool: cannot open {}: {}; its records are lost", path,
                        ErrnoMessage(errno));
          discarded_bytes.Inc(end - pos.offset);
          discard_counted = {pos.file, end};
        }
        passed += end - pos.offset;
        pos.offset = end;
        Deliver(records, pos, passed);
        continue;
      }
      reader.emplace(fd.get(), path);
    }
    // Records in [pos.offset, end), in batches; the views point into the
    // reader's buffer, so a batch is delivered before the next read.
    while (pos.offset < end && !stop_delivering && !rewind) {
      const SpoolFileReader::Outcome read = reader->Read(pos.offset, end, config.read_batch, records);
      passed += read.next - pos.offset;
      pos.offset = read.next;
      Deliver(records, pos, passed);
      if (read.stop == SpoolFileReader::Stop::kDamaged) {
        if (pos >= discard_counted) {
          spdlog::error("spool: {} at offset {}: {}; skipping the {} bytes after it", path,
                        pos.offset, read.damage, end - pos.offset);
          discarded_bytes.Inc(end - pos.offset);
          discard_counted = {pos.file, end};
        }
        passed += end - pos.offset;
        pos.offset = end;
        break;
      }
    }
    Deliver(records, pos, passed);
  }
  // Every delivered batch is finished before the checkpoint is final.
  MutexLock lock(mu);
  while (!AllDeliveredFinished()) consumer_cv.Wait(mu);
}

Spool::Spool(SpoolConfig config, SpoolConsumer consumer, MetricsRegistry& metrics)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(consumer), metrics)) {}

Spool::~Spool() { Stop(); }

Status Spool::Open() {
  RG_RETURN_IF_ERROR(impl_->config.Validate());
  if (impl_->opened) return Status::AlreadyExists("spool: already open");
  RG_RETURN_IF_ERROR(impl_->Recover());
  impl_->opened = true;
  {
    MutexLock lock(impl_->append_mu);
    impl_->accepting = true;
  }
  impl_->write_thread = std::thread([impl = impl_.get()] {
    SetCurrentThreadName(fmt::format("rg-{}-write", impl->config.name));
    impl->WriteLoop();
  });
  impl_->sync_thread = std::thread([impl = impl_.get()] {
    SetCurrentThreadName(fmt::format("rg-{}-sync", impl->config.name));
    impl->SyncLoop();
  });
  impl_->consumer_thread = std::thread([impl = impl_.get()] {
    SetCurrentThreadName(fmt::format("rg-{}-read", impl->config.name));
    if (impl->config.low_priority_consumer) {
      if (Status s = LowerCurrentThreadPriority(); !s.ok()) spdlog::warn("{}", s.message());
    }
    impl->ConsumeLoop();
  });
  return Status::Ok();
}

bool Spool::Append(std::string_view record) {
  Impl& s = *impl_;
  const uint64_t framed = kRecordHeaderBytes + record.size();
  if (record.size() > kMaxRecordBytes) {
    s.dropped_write_error.Inc();
    return false;
  }
  bool wake = false;
  {
    MutexLock lock(s.append_mu);
    if (!s.accepting) {
      s.dropped_not_running.Inc();
      return false;
    }
    if (!s.HasRoom(framed)) {
      s.dropped_full.Inc();
      return false;
    }
    s.AppendFramed(record);
    if (s.pending.size() >= s.wake_at_bytes) {
      s.wake_at_bytes = std::numeric_limits<size_t>::max();  // one notification
      wake = true;
    }
    ++s.pending_records;
    s.AddBacklog(static_cast<int64_t>(framed));
  }
  if (wake) s.sync_cv.Signal();
  return true;
}

Status Spool::AppendDurable(const std::vector<std::string>& records, SpoolDurable durable) {
  Impl& s = *impl_;
  uint64_t framed = 0;
  for (const std::string& r : records) {
    if (r.size() > kMaxRecordBytes) {
      return Status::InvalidArgument(fmt::format(
          "spool: a record of {} bytes is over the {}-byte limit", r.size(), kMaxRecordBytes));
    }
    framed += kRecordHeaderBytes + r.size();
  }
  bool wake = false;
  {
    MutexLock lock(s.append_mu);
    if (!s.accepting) return Status::Unavailable("the server is shutting down");
    if (!s.HasRoom(framed))
      return Status::ResourceExhausted("the ingest spool is full; retry later");
    for (const std::string& r : records) s.AppendFramed(r);
    s.pending_records += records.size();
    s.pending_answered += records.size();
    s.pending_durable.push_back(std::move(durable));
    s.AddBacklog(static_cast<int64_t>(framed));
    if (s.wake_at_bytes != std::numeric_limits<size_t>::max()) {
      s.wake_at_bytes = std::numeric_limits<size_t>::max();
      wake = true;
    }
  }
  if (wake) s.sync_cv.Signal();
  return Status::Ok();
}

void Spool::Stop() {
  Impl& s = *impl_;
  if (!s.opened || s.stopped) return;
  s.stopped = true;
  {
    MutexLock lock(s.append_mu);
    s.accepting = false;
    s.sync_stop = true;
  }
  s.sync_cv.SignalAll();
  s.write_thread.join();  // writes what was appended
  s.sync_thread.join();   // and syncs it
  s.CutBackFailedSync();
  {
    MutexLock lock(s.mu);
    s.drain = true;
    s.drain_deadline = std::chrono::steady_clock::now() + s.config.drain_timeout;
  }
  s.consumer_cv.SignalAll();
  s.consumer_thread.join();  // delivers everything and waits for it to be stored
  s.SaveCheckpoint();
  MutexLock lock(s.mu);
  if (s.backlog_bytes.load() > 0 && s.consumer_failed) {
    spdlog::warn("spool: {} bytes not stored; they are delivered when the server starts again",
                 s.backlog_bytes.load());
  }
}

uint64_t Spool::durable_records() const {
  MutexLock lock(impl_->mu);
  return impl_->durable_count;
}

}  // namespace roentgen::ingest
