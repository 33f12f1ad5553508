// Pipeline: UDP datagrams → raw queue → parse thread → one write queue per
// writer thread, chosen by trace id (so every trace has one owner: its cache,
// its revisions, its order of updates) → writer threads, each committing one
// store Write per batch; RocksDB groups concurrent commits into one WAL sync.
// HTTP documents are parsed on the caller's thread and enter the write queues
// directly; when a queue is full the request fails with ResourceExhausted (the
// documents already queued for other shards are still stored: entity writes
// are idempotent, so the client's retry is harmless).
#include "ingest/pipeline.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <utility>

#include "common/mutex.h"
#include "common/thread_name.h"
#include "common/thread_priority.h"
#include "ingest/bounded_queue.h"
#include "ingest/ingest_metrics.h"
#include "ingest/writer.h"

namespace roentgen::ingest {
namespace {

constexpr size_t kParseBatch = 256;  // datagrams moved from the raw queue at once

// Parsed entities take ~8x the memory of their datagram, so the queue of parsed
// documents holds two writer batches at most: a backlog waits as raw datagrams
// (the raw queue keeps the full queue_capacity, so UDP loses nothing more) and
// the pipeline's memory stays bounded (~100 MB for the default capacity).
size_t ParsedQueueCapacity(const PipelineConfig& c, size_t shard_count) {
  return std::max<size_t>(1, std::min(c.queue_capacity, 2 * c.max_batch_documents) / shard_count);
}

// Logs rejected documents, at most kPerSecond lines a second, then a count of
// the suppressed ones. Thread-safe; the window bookkeeping is approximate.
class RejectLog {
 public:
  void Log(std::string_view transport, std::string_view code, std::string_view message) {
    const int64_t second = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
    int64_t window = window_.load(std::memory_order_relaxed);
    if (window != second && window_.compare_exchange_strong(window, second)) {
      logged_.store(0, std::memory_order_relaxed);
      const uint64_t suppressed = suppressed_.exchange(0, std::memory_order_relaxed);
      if (suppressed > 0) spdlog::warn("{} more rejected segment documents not logged", suppressed);
    }
    if (logged_.fetch_add(1, std::memory_order_relaxed) < kPerSecond) {
      spdlog::warn("rejected segment document ({}): {}: {}", transport, code, message);
    } else {
      suppressed_.fetch_add(1, std::memory_order_relaxed);
    }
  }

 private:
  static constexpr int kPerSecond = 10;
  std::atomic<int64_t> window_{0};
  std::atomic<int> logged_{0};
  std::atomic<uint64_t> suppressed_{0};
};

// The parser requires trace_id on every top-level entity; this keeps the
// writer safe even if that ever changes. Sets `failure` when it is missing.
bool HasTraceId(const xray::SegmentDocument& doc, xray::ParseFailure& failure) {
  if (doc.entity.trace_id) return true;
  failure = {xray::ParseError::kMissingField, "trace_id: required", doc.entity.id.ToString()};
  return false;
}

}  // namespace

Status PipelineConfig::Validate() const {
  if (queue_capacity == 0) return Status::InvalidArgument("ingest queue_capacity must be > 0");
  if (max_batch_documents == 0) {
    return Status::InvalidArgument("ingest max_batch_documents must be > 0");
  }
  if (trace_cache_entries == 0) {
    return Status::InvalidArgument("ingest trace_cache_entries must be > 0");
  }
  if (trace_cache_bytes == 0)
    return Status::InvalidArgument("ingest trace_cache_bytes must be > 0");
  if (clock == nullptr) return Status::InvalidArgument("ingest clock must be set");
  if (writer_threads == 0 || writer_threads > 64) {
    return Status::InvalidArgument("ingest writer_threads must be between 1 and 64");
  }
  return Status::Ok();
}

struct Pipeline::Impl {
  Impl(const PipelineConfig& c, store::Store& store, MetricsRegistry& registry)
      : config(c),
        clock(c.clock != nullptr ? *c.clock : Clock::System()),
        metrics(registry),
        raw(c.queue_capacity) {
    // Validate() rejects 0 writers only in Start(); construction must not
    // divide by it first.
    const size_t count = std::max<size_t>(1, c.writer_threads);
    for (size_t i = 0; i < count; ++i) {
      shards.push_back(std::make_unique<Shard>(ParsedQueueCapacity(c, count), store, metrics, clock,
                                               std::max<size_t>(1, c.trace_cache_entries / count),
                                               std::max<size_t>(1, c.trace_cache_bytes / count),
                                               c.rollups, c.indexing));
    }
  }

  // One writer thread's queue and state; traces are assigned by id hash.
  struct Shard {
    Shard(size_t capacity, store::Store& store, const IngestMetrics& metrics, const Clock& clock,
          size_t cache_entries, size_t cache_bytes, graph::RollupStore* rollups,
          IndexingPolicy* indexing)
        : queue(capacity),
          writer(store, metrics, clock, cache_entries, cache_bytes, rollups, indexing) {}
    BoundedQueue<WriteItem> queue;  // entity documents for this writer
    Writer writer;                  // used by one of the shard's threads at a time
    std::thread thread;
    // With low_priority_writers: a second thread, at the lowest priority,
    // writes the batches no request waits for, and every batch while a
    // backlog waits (at least half the queue); the first, at the process's
    // priority, the rest. A thread cannot raise its priority back without
    // CAP_SYS_NICE, hence two threads handing the writer over.
    std::thread low_thread;
    Mutex handover_mu;
    CondVar handover_cv;
    bool backlog GUARDED_BY(handover_mu) = false;  // the low-priority thread writes
    bool done GUARDED_BY(handover_mu) = false;     // the queue is closed and drained
    // The batch the first thread popped and handed over, written first by
    // the low-priority thread.
    std::vector<WriteItem> handed_over GUARDED_BY(handover_mu);
  };
  size_t ShardOf(const WriteItem& item) const {
    return xray::TraceIdHash()(*item.doc->doc.entity.trace_id) % shards.size();
  }

  // Parses one document into `out`. On failure fills `failure`, counts it and
  // logs it (rate-limited).
  // `count`: whether to count the outcome in the accepted / rejected metrics.
  bool ParseDocument(xray::SegmentParser& parser, std::string_view json, std::string_view transport,
                     std::vector<xray::SegmentDocument>& out, xray::ParseFailure& failure,
                     bool count = true);
  // Parses one document of a PutTraceSegments request into `out` and says in
  // `outcome` whether it was accepted (its Id) or why not, as the answer's
  // UnprocessedTraceSegments reports it.
  bool ParseRequestDocument(xray::SegmentParser& parser, std::string_view json,
                            std::vector<xray::SegmentDocument>& out, DocumentOutcome& outcome);
  // Parses one document straight into new WriteItems appended to `items`
  // (none when it is rejected: then as ParseDocument).
  bool ParseDocumentInto(xray::SegmentParser& parser, std::string_view json,
                         std::string_view transport, int64_t now_us,
                         const std::shared_ptr<SubmitTicket>& ticket, bool awaited,
                         std::vector<WriteItem>& items, xray::ParseFailure& failure,
                         bool count = true);
  // Parses one daemon datagram into `items` (counted and logged when rejected).
  void ParseDatagram(xray::SegmentParser& parser, std::string_view datagram, int64_t now_us,
                     const std::shared_ptr<SubmitTicket>& ticket, std::vector<WriteItem>& items,
                     xray::ParseFailure& failure);
  // Counts and logs the outcome of one document's parse; returns `ok`.
  bool CountParse(bool ok, std::string_view transport, const xray::ParseFailure& failure,
                  bool count);
  // Moves `items` into their shards' queues, waiting for room. Returns how many
  // could not be queued because the pipeline stopped (already counted).
  size_t RouteAndPush(std::vector<WriteItem>& items, std::vector<std::vector<WriteItem>>& staged);
  void ParseLoop();
  void WriteLoop(Shard& shard);
  // The two threads of a shard with low_priority_writers (Shard::low_thread).
  void WriteLoopHandingOver(Shard& shard, bool low);

  const PipelineConfig config;
  const Clock& clock;
  const IngestMetrics metrics;
  BoundedQueue<std::string> raw;  // UDP datagrams
  std::vector<std::unique_ptr<Shard>> shards;
  RejectLog reject_log;

  std::atomic<bool> running{false};
  std::mutex lifecycle_mu;
  bool started = false;
  bool stopped = false;
  std::thread parse_thread;
};

bool Pipeline::Impl::ParseRequestDocument(xray::SegmentParser& parser, std::string_view json,
                                          std::vector<xray::SegmentDocument>& out,
                                          DocumentOutcome& outcome) {
  xray::ParseFailure failure;
  if (!ParseDocument(parser, json, "http", out, failure)) {
    outcome.id = std::move(failure.id);
    outcome.error_code = std::string(xray::ParseErrorCode(failure.error));
    outcome.message = std::move(failure.message);
    return false;
  }
  outcome.accepted = true;
  outcome.id = out.front().entity.id.ToString();
  return true;
}

bool Pipeline::Impl::CountParse(bool ok, std::string_view transport,
                                const xray::ParseFailure& failure, bool count) {
  if (ok) {
    if (count) metrics.accepted.Inc();
    return true;
  }
  if (count) metrics.Rejected(failure.error).Inc();
  reject_log.Log(transport, xray::ParseErrorCode(failure.error), failure.message);
  return false;
}

bool Pipeline::Impl::ParseDocument(xray::SegmentParser& parser, std::string_view json,
                                   std::string_view transport,
                                   std::vector<xray::SegmentDocument>& out,
                                   xray::ParseFailure& failure, bool count) {
  const size_t first = out.size();
  bool ok = parser.Parse(json, out, failure);
  if (ok) {
    for (size_t i = first; i < out.size(); ++i) {
      if (!HasTraceId(out[i], failure)) {
        out.resize(first);
        ok = false;
        break;
      }
    }
  }
  return CountParse(ok, transport, failure, count);
}

bool Pipeline::Impl::ParseDocumentInto(xray::SegmentParser& parser, std::string_view json,
                                       std::string_view transport, int64_t now_us,
                                       const std::shared_ptr<SubmitTicket>& ticket, bool awaited,
                                       std::vector<WriteItem>& items, xray::ParseFailure& failure,
                                       bool count) {
  const size_t first = items.size();
  bool ok = parser.ParseInto(
      json,
      [&]() -> xray::SegmentDocument& {
        return items.emplace_back(now_us, ticket, awaited).doc->doc;
      },
      failure);
  if (ok) {
    for (size_t i = first; i < items.size(); ++i) {
      if (!HasTraceId(items[i].doc->doc, failure)) {
        ok = false;
        break;
      }
    }
  }
  if (!ok) items.erase(items.begin() + static_cast<std::ptrdiff_t>(first), items.end());
  return CountParse(ok, transport, failure, count);
}

void Pipeline::Impl::ParseDatagram(xray::SegmentParser& parser, std::string_view datagram,
                                   int64_t now_us, const std::shared_ptr<SubmitTicket>& ticket,
                                   std::vector<WriteItem>& items, xray::ParseFailure& failure) {
  Result<std::string_view> body = xray::SplitDaemonDatagram(datagram);
  if (!body.ok()) {
    metrics.rejected_daemon_header.Inc();
    reject_log.Log("udp", "InvalidDaemonHeader", body.status().message());
    return;
  }
  (void)ParseDocumentInto(parser, *body, "udp", now_us, ticket, /*awaited=*/false, items, failure);
}

size_t Pipeline::Impl::RouteAndPush(std::vector<WriteItem>& items,
                                    std::vector<std::vector<WriteItem>>& staged) {
  staged.resize(shards.size());
  metrics.queue_depth.Add(static_cast<int64_t>(items.size()));
  for (WriteItem& item : items) staged[ShardOf(item)].push_back(std::move(item));
  items.clear();
  size_t not_pushed = 0;
  for (size_t shard = 0; shard < shards.size(); ++shard) {
    std::vector<WriteItem>& part = staged[shard];
    if (part.empty()) continue;
    if (shards[shard]->queue.PushAll(part) != PushResult::kOk) {
      // Only when Stop() raced ahead of the caller.
      metrics.queue_depth.Add(-static_cast<int64_t>(part.size()));
      metrics.dropped_not_running.Inc(part.size());
      not_pushed += part.size();
      part.clear();  // releases the references to the tickets
    }
  }
  return not_pushed;
}

void Pipeline::Impl::ParseLoop() {
  xray::SegmentParser parser;
  std::vector<std::string> datagrams;
  std::vector<WriteItem> items;
  std::vector<std::vector<WriteItem>> staged;
  xray::ParseFailure failure;
  while (raw.PopBatch(kParseBatch, datagrams)) {
    metrics.queue_depth.Add(-static_cast<int64_t>(datagrams.size()));
    const int64_t now_us = clock.NowMicros();
    for (const std::string& datagram : datagrams) {
      ParseDatagram(parser, datagram, now_us, nullptr, items, failure);
    }
    datagrams.clear();
    (void)RouteAndPush(items, staged);  // with the join order, Stop() never races ahead
  }
}

void Pipeline::Impl::WriteLoop(Shard& shard) {
  std::vector<WriteItem> batch;
  while (shard.queue.PopBatch(config.max_batch_documents, batch)) {
    metrics.queue_depth.Add(-static_cast<int64_t>(batch.size()));
    (void)shard.writer.ProcessBatch(batch);  // failures are counted and reported per item
    batch.clear();
  }
}

void Pipeline::Impl::WriteLoopHandingOver(Shard& shard, bool low) {
  const size_t backlog_at = std::max<size_t>(1, shard.queue.capacity() / 2);
  std::vector<WriteItem> batch;
  while (true) {
    {
      MutexLock lock(shard.handover_mu);
      while (!shard.done && shard.backlog != low) shard.handover_cv.Wait(shard.handover_mu);
      if (shard.done) return;
      batch.swap(shard.handed_over);
    }
    if (batch.empty()) {
      if (!shard.queue.PopBatch(config.max_batch_documents, batch)) {
        {
          MutexLock lock(shard.handover_mu);
          shard.done = true;
        }
        shard.handover_cv.SignalAll();
        return;
      }
      metrics.queue_depth.Add(-static_cast<int64_t>(batch.size()));
      const bool awaited = std::any_of(batch.begin(), batch.end(),
                                       [](const WriteItem& item) { return item.awaited; });
      if (!low && (!awaited || batch.size() + shard.queue.Size() >= backlog_at)) {
        // Nobody waits for this batch (datagrams, OTLP spans), or a backlog
        // does: the low-priority thread writes it, this batch first.
        {
          MutexLock lock(shard.handover_mu);
          shard.handed_over = std::move(batch);
          shard.backlog = true;
        }
        batch.clear();
        shard.handover_cv.SignalAll();
        continue;
      }
    }
    (void)shard.writer.ProcessBatch(batch);  // failures are counted and reported per item
    batch.clear();
    if (low && shard.queue.Size() < backlog_at) {
      {
        MutexLock lock(shard.handover_mu);
        shard.backlog = false;
      }
      shard.handover_cv.SignalAll();
    }
  }
}

Pipeline::Pipeline(const PipelineConfig& config, store::Store& store, MetricsRegistry& metrics)
    : impl_(std::make_unique<Impl>(config, store, metrics)) {}

Pipeline::~Pipeline() { Stop(); }

Status Pipeline::Start() {
  RG_RETURN_IF_ERROR(impl_->config.Validate());
  std::lock_guard lock(impl_->lifecycle_mu);
  if (impl_->stopped) return Status::Unavailable("the ingest pipeline was stopped");
  if (impl_->started) return Status::AlreadyExists("the ingest pipeline is already started");
  impl_->started = true;
  impl_->parse_thread = std::thread([impl = impl_.get()] {
    SetCurrentThreadName("rg-parse");
    impl->ParseLoop();
  });
  for (size_t i = 0; i < impl_->shards.size(); ++i) {
    Impl::Shard* shard = impl_->shards[i].get();
    if (!impl_->config.low_priority_writers) {
      shard->thread = std::thread([impl = impl_.get(), shard, i] {
        SetCurrentThreadName(fmt::format("rg-write-{}", i));
        impl->WriteLoop(*shard);
      });
      continue;
    }
    shard->thread = std::thread([impl = impl_.get(), shard, i] {
      SetCurrentThreadName(fmt::format("rg-write-{}", i));
      impl->WriteLoopHandingOver(*shard, /*low=*/false);
    });
    shard->low_thread = std::thread([impl = impl_.get(), shard, i] {
      SetCurrentThreadName(fmt::format("rg-write-{}-low", i));
      if (Status s = LowerCurrentThreadPriority(); !s.ok()) spdlog::warn("{}", s.message());
      impl->WriteLoopHandingOver(*shard, /*low=*/true);
    });
  }
  impl_->running.store(true, std::memory_order_release);
  return Status::Ok();
}

void Pipeline::OnDatagram(std::string_view datagram) {
  Impl& s = *impl_;
  s.metrics.received_udp.Inc();
  if (!s.running.load(std::memory_order_acquire)) {
    s.metrics.dropped_not_running.Inc();
    return;
  }
  s.metrics.queue_depth.Add(1);
  const PushResult pushed = s.raw.TryPush(std::string(datagram));
  if (pushed == PushResult::kOk) return;
  s.metrics.queue_depth.Add(-1);
  (pushed == PushResult::kFull ? s.metrics.dropped_queue_full : s.metrics.dropped_not_running)
      .Inc();
}

void Pipeline::Submit(std::vector<std::string> documents, SubmitCallback done) {
  Impl& s = *impl_;
  s.metrics.received_http.Inc(documents.size());
  std::vector<DocumentOutcome> outcomes(documents.size());
  if (!s.running.load(std::memory_order_acquire)) {
    s.metrics.dropped_not_running.Inc(documents.size());
    done(Status::Unavailable("the ingest pipeline is not running"), std::move(outcomes));
    return;
  }
  thread_local xray::SegmentParser parser;
  std::vector<xray::SegmentDocument> docs;
  auto ticket = std::make_shared<SubmitTicket>();
  std::vector<WriteItem> items;
  items.reserve(documents.size());
  const int64_t now_us = s.clock.NowMicros();
  for (size_t i = 0; i < documents.size(); ++i) {
    DocumentOutcome& outcome = outcomes[i];
    docs.clear();
    if (!s.ParseRequestDocument(parser, documents[i], docs, outcome)) continue;
    for (xray::SegmentDocument& doc : docs)
      items.emplace_back(std::move(doc), now_us, ticket, /*awaited_by_request=*/true);
  }
  if (items.empty()) {
    done(Status::Ok(), std::move(outcomes));
    return;
  }
  const size_t n = items.size();
  ticket->remaining = n;
  ticket->done = std::move(done);
  ticket->outcomes = std::move(outcomes);
  s.metrics.queue_depth.Add(static_cast<int64_t>(n));
  // Per request, not per shard: concurrent requests must not share staging.
  std::vector<size_t> shard_of(n);
  std::vector<size_t> per_shard(s.shards.size(), 0);
  for (size_t i = 0; i < n; ++i) ++per_shard[shard_of[i] = s.ShardOf(items[i])];
  std::vector<std::vector<WriteItem>> staged(s.shards.size());
  for (size_t shard = 0; shard < staged.size(); ++shard) staged[shard].reserve(per_shard[shard]);
  for (size_t i = 0; i < n; ++i) staged[shard_of[i]].push_back(std::move(items[i]));
  items.clear();
  for (size_t shard = 0; shard < staged.size(); ++shard) {
    std::vector<WriteItem>& part = staged[shard];
    if (part.empty()) continue;
    const size_t count = part.size();
    const PushResult pushed = s.shards[shard]->queue.TryPushAll(part);
    if (pushed == PushResult::kOk) continue;
    s.metrics.queue_depth.Add(-static_cast<int64_t>(count));
    Status status;
    if (pushed == PushResult::kFull) {
      s.metrics.dropped_queue_full.Inc(count);
      status = Status::ResourceExhausted("the ingest queue is full; retry later");
    } else {
      s.metrics.dropped_not_running.Inc(count);
      status = Status::Unavailable("the server is shutting down");
    }
    part.clear();  // releases the references to the ticket
    ticket->Settle(count, status);
  }
}

std::vector<DocumentOutcome> Pipeline::Validate(const std::vector<std::string>& documents) {
  Impl& s = *impl_;
  s.metrics.received_http.Inc(documents.size());
  thread_local xray::SegmentParser parser;
  thread_local std::vector<xray::SegmentDocument> docs;
  std::vector<DocumentOutcome> outcomes(documents.size());
  for (size_t i = 0; i < documents.size(); ++i) {
    docs.clear();
    s.ParseRequestDocument(parser, documents[i], docs, outcomes[i]);
  }
  return outcomes;
}

void Pipeline::SubmitSpooled(const std::vector<std::string_view>& records, SpooledRecord kind,
                             SpoolDone done, std::function<void(Status)> applied) {
  Impl& s = *impl_;
  const bool datagrams = kind == SpooledRecord::kDaemonDatagram;
  const bool validated = kind == SpooledRecord::kValidatedDocument;
  if (!validated) {
    (datagrams ? s.metrics.received_udp : s.metrics.received_http).Inc(records.size());
  }
  if (!s.running.load(std::memory_order_acquire)) {
    if (applied) applied(Status::Unavailable("the server is shutting down"));
    done(SpoolBatch::kNotTaken);
    return;
  }
  thread_local xray::SegmentParser parser;
  thread_local std::vector<std::vector<WriteItem>> staged;
  xray::ParseFailure failure;
  // Whether every document reached a write queue: one the pipeline never
  // took must stay in the spool. Of the documents taken, those the store
  // refused for now (a full disk) are delivered again; those that failed
  // for good are counted (store_error) and the spool moves on.
  auto taken = std::make_shared<std::atomic<bool>>(true);
  auto ticket = std::make_shared<SubmitTicket>();
  // `done` runs inside the ticket's last Settle, so the ticket is alive.
  ticket->done = [done = std::move(done), taken, t = ticket.get(), &s](
                     Status status, std::vector<DocumentOutcome>) {
    if (!taken->load()) return done(SpoolBatch::kNotTaken);
    if (StoreErrorMayClear(status)) return done(SpoolBatch::kRetryLater);
    if (!status.ok()) s.metrics.dropped_store_error.Inc(t->failed());
    done(SpoolBatch::kDone);
  };
  std::vector<WriteItem> items;
  items.reserve(records.size());
  const int64_t now_us = s.clock.NowMicros();
  for (std::string_view record : records) {
    if (datagrams) {
      s.ParseDatagram(parser, record, now_us, ticket, items, failure);
    } else {
      (void)s.ParseDocumentInto(parser, record, validated ? "http" : "otlp", now_us, ticket,
                                validated, items, failure, /*count=*/!validated);
    }
  }
  // One extra count, settled last, so `done` (and `applied`) run once even if
  // every document is stored before the loop ends.
  ticket->remaining = items.size() + 1;
  if (applied) {
    ticket->unapplied = items.size() + 1;
    ticket->applied = std::move(applied);
  }
  const size_t not_pushed = s.RouteAndPush(items, staged);
  if (not_pushed > 0) {
    taken->store(false);
    const Status stopped = Status::Unavailable("the ingest pipeline stopped");
    if (ticket->applied) ticket->Apply(not_pushed, stopped);
    ticket->Settle(not_pushed, stopped);
  }
  if (ticket->applied) ticket->Apply(1, Status::Ok());
  ticket->Settle(1, Status::Ok());
}

SubmitSink PipelineSubmitSink(Pipeline& pipeline) {
  return [&pipeline](std::vector<std::string> documents, Pipeline::SubmitCallback done) {
    pipeline.Submit(std::move(documents), std::move(done));
  };
}

void Pipeline::Stop() {
  {
    std::lock_guard lock(impl_->lifecycle_mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  impl_->running.store(false, std::memory_order_release);
  impl_->raw.Close();  // the parse thread drains what is queued, then exits
  if (impl_->parse_thread.joinable()) impl_->parse_thread.join();
  for (auto& shard : impl_->shards) shard->queue.Close();  // writers drain, commit, exit
  for (auto& shard : impl_->shards) {
    if (shard->thread.joinable()) shard->thread.join();
    if (shard->low_thread.joinable()) shard->low_thread.join();
  }
}

}  // namespace roentgen::ingest
