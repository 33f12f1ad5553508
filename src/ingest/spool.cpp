// The spool's configuration, recovery at Open, appends and Stop. The threads
// are in spool_write.cpp and spool_consume.cpp; what they share in
// spool_internal.h.
#include "ingest/spool.h"

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

#include "common/thread_name.h"
#include "common/thread_priority.h"
#include "ingest/spool_internal.h"
#include "ingest/spool_reader.h"

namespace roentgen::ingest {

using namespace spool_format;
using namespace spool_internal;

Status SpoolConfig::Validate() const {
  if (dir.empty()) return Status::InvalidArgument("spool: the directory is empty");
  if (name.empty() || name.size() > 7) {
    return Status::InvalidArgument("spool: the name must have 1 to 7 characters");
  }
  if (file_bytes < 4096) return Status::InvalidArgument("spool: file_bytes must be >= 4096");
  if (max_bytes < file_bytes)
    return Status::InvalidArgument("spool: max_bytes must be >= file_bytes");
  if (max_unwritten_bytes < (64 << 10) + kEntryHeaderBytes) {
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
  const uint64_t framed = kEntryHeaderBytes + record.size();
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
    s.AppendFramed({}, record);
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
  return AppendDurable({}, std::vector<std::string_view>(records.begin(), records.end()),
                       std::move(durable));
}

Status Spool::AppendDurable(std::string_view prefix, const std::vector<std::string_view>& records,
                            SpoolDurable durable) {
  Impl& s = *impl_;
  uint64_t framed = 0;
  for (std::string_view r : records) {
    const size_t size = prefix.size() + r.size();
    if (size > kMaxRecordBytes) {
      return Status::InvalidArgument(fmt::format(
          "spool: a record of {} bytes is over the {}-byte limit", size, kMaxRecordBytes));
    }
    framed += kEntryHeaderBytes + size;
  }
  bool wake = false;
  {
    MutexLock lock(s.append_mu);
    if (!s.accepting) return Status::Unavailable("the server is shutting down");
    if (!s.HasRoom(framed)) {
      s.dropped_full.Inc(records.size());
      return Status::ResourceExhausted(
          fmt::format("the {} spool is full; retry later", s.config.name));
    }
    for (std::string_view r : records) s.AppendFramed(prefix, r);
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
