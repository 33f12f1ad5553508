// The spool's consumer thread: reads the records up to the durable end,
// delivers them in batches, and moves the committed position forward as
// batches are stored, in log order; rewinds after "retry later".
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

#include "ingest/spool_internal.h"
#include "ingest/spool_reader.h"

namespace roentgen::ingest {

using namespace spool_format;
using namespace spool_internal;

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
      if (read.stop == SpoolFileReader::Stop::kDamaged ||
          read.stop == SpoolFileReader::Stop::kReadError) {
        if (pos >= discard_counted) {
          const std::string why = read.stop == SpoolFileReader::Stop::kDamaged
                                      ? read.damage
                                      : fmt::format("a read failed ({})", read.error.message());
          spdlog::error("spool: {} at offset {}: {}; skipping the {} bytes after it", path,
                        pos.offset, why, end - pos.offset);
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

}  // namespace roentgen::ingest
