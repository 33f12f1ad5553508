// The spool's write thread (groups of framed records into the page cache)
// and sync thread (fdatasync, publishing the durable end, the checkpoint).
#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "common/disk_space.h"
#include "ingest/spool_internal.h"

namespace roentgen::ingest {

using namespace spool_format;
using namespace spool_internal;

void Spool::Impl::WriteLoop() {
  std::string writing;  // entries
  std::string encoded;  // the spool file's bytes for them
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
      if (config.compress) {
        AppendBlockRecords(writing, encoded);
      } else {
        AppendPlainRecords(writing, encoded);
      }
      // From here on the backlog holds the group's bytes on disk.
      AddBacklog(static_cast<int64_t>(encoded.size()) - static_cast<int64_t>(writing.size()));
      WriteGroup(encoded, records, answered, durable);
    }
    durable.clear();
    // A group can reach 64 MB when the disk stalls; keep the usual few MB.
    for (std::string* buffer : {&writing, &encoded}) {
      if (buffer->capacity() > (16u << 20)) *buffer = std::string();
      buffer->clear();
    }
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
      status = WriteAll(write_fd->get(), config.compress ? kBlocksMagic : kMagic, kFileHeaderBytes,
                        path, err);
      write_size = 0;
    }
  }
  const uint64_t file = new_file ? last_file + 1 : last_file;
  const std::string path = FilePath(file);
  if (status.ok()) status = WriteAll(write_fd->get(), data.data(), data.size(), path, err);
  if (!status.ok()) {
    const bool disk_full = IsDiskFull(err);
    DropGroups(write_error_log, status, disk_full, records, answered, data.size());
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
    const Status answer = disk_full ? DiskFullStatus(status) : status;
    for (SpoolDurable& done : durable) done(answer);
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
    const Status answer = disk_full ? DiskFullStatus(status) : status;
    for (size_t i = first; i < last; ++i) {
      for (SpoolDurable& done : groups[i].durable) done(answer);
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

}  // namespace roentgen::ingest
