// Pipeline: UDP datagrams → raw queue → parse thread → write queue → writer
// thread (one store Write per batch). HTTP documents are parsed on the caller's
// thread and enter the write queue directly, all of a request's documents at
// once or none (the request then fails with ResourceExhausted).
#include "ingest/pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <utility>

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
size_t ParsedQueueCapacity(const PipelineConfig& c) {
  return std::min(c.queue_capacity, 2 * c.max_batch_documents);
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
  return Status::Ok();
}

struct Pipeline::Impl {
  Impl(const PipelineConfig& c, store::Store& store, MetricsRegistry& registry)
      : config(c),
        clock(c.clock != nullptr ? *c.clock : Clock::System()),
        metrics(registry),
        raw(c.queue_capacity),
        parsed(ParsedQueueCapacity(c)),
        writer(store, metrics, clock, c.trace_cache_entries, c.trace_cache_bytes, c.rollups) {}

  // Parses one document into `out`. On failure fills `failure`, counts it and
  // logs it (rate-limited).
  bool ParseDocument(xray::SegmentParser& parser, std::string_view json, std::string_view transport,
                     std::vector<xray::SegmentDocument>& out, xray::ParseFailure& failure);
  void ParseLoop();
  void WriteLoop();

  const PipelineConfig config;
  const Clock& clock;
  const IngestMetrics metrics;
  BoundedQueue<std::string> raw;   // UDP datagrams
  BoundedQueue<WriteItem> parsed;  // entity documents for the writer
  Writer writer;                   // used by the write thread only
  RejectLog reject_log;

  std::atomic<bool> running{false};
  std::mutex lifecycle_mu;
  bool started = false;
  bool stopped = false;
  std::thread parse_thread;
  std::thread write_thread;
};

bool Pipeline::Impl::ParseDocument(xray::SegmentParser& parser, std::string_view json,
                                   std::string_view transport,
                                   std::vector<xray::SegmentDocument>& out,
                                   xray::ParseFailure& failure) {
  const size_t first = out.size();
  bool ok = parser.Parse(json, out, failure);
  if (ok) {
    // The parser requires trace_id on every top-level entity; keep the writer
    // safe even if that ever changes.
    for (size_t i = first; i < out.size(); ++i) {
      if (!out[i].entity.trace_id) {
        failure = {xray::ParseError::kMissingField, "trace_id: required",
                   out[i].entity.id.ToString()};
        out.resize(first);
        ok = false;
        break;
      }
    }
  }
  if (ok) {
    metrics.accepted.Inc();
    return true;
  }
  metrics.Rejected(failure.error).Inc();
  reject_log.Log(transport, xray::ParseErrorCode(failure.error), failure.message);
  return false;
}

void Pipeline::Impl::ParseLoop() {
  xray::SegmentParser parser;
  std::vector<std::string> datagrams;
  std::vector<xray::SegmentDocument> docs;
  std::vector<WriteItem> items;
  xray::ParseFailure failure;
  while (raw.PopBatch(kParseBatch, datagrams)) {
    metrics.queue_depth.Add(-static_cast<int64_t>(datagrams.size()));
    const int64_t now_us = clock.NowMicros();
    for (const std::string& datagram : datagrams) {
      Result<std::string_view> body = xray::SplitDaemonDatagram(datagram);
      if (!body.ok()) {
        metrics.rejected_daemon_header.Inc();
        reject_log.Log("udp", "InvalidDaemonHeader", body.status().message());
        continue;
      }
      docs.clear();
      if (!ParseDocument(parser, *body, "udp", docs, failure)) continue;
      for (xray::SegmentDocument& doc : docs) {
        items.push_back(WriteItem{std::move(doc), now_us, nullptr});
      }
    }
    datagrams.clear();
    metrics.queue_depth.Add(static_cast<int64_t>(items.size()));
    if (parsed.PushAll(items) != PushResult::kOk) {
      // Only when Stop() raced ahead of us; cannot happen with the join order.
      metrics.queue_depth.Add(-static_cast<int64_t>(items.size()));
      metrics.dropped_not_running.Inc(items.size());
      items.clear();
    }
  }
}

void Pipeline::Impl::WriteLoop() {
  std::vector<WriteItem> batch;
  while (parsed.PopBatch(config.max_batch_documents, batch)) {
    metrics.queue_depth.Add(-static_cast<int64_t>(batch.size()));
    (void)writer.ProcessBatch(batch);  // failures are counted and reported per item
    batch.clear();
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
  impl_->parse_thread = std::thread([impl = impl_.get()] { impl->ParseLoop(); });
  impl_->write_thread = std::thread([impl = impl_.get()] { impl->WriteLoop(); });
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
  xray::ParseFailure failure;
  auto ticket = std::make_shared<SubmitTicket>();
  std::vector<WriteItem> items;
  const int64_t now_us = s.clock.NowMicros();
  size_t accepted = 0;
  for (size_t i = 0; i < documents.size(); ++i) {
    DocumentOutcome& outcome = outcomes[i];
    docs.clear();
    if (!s.ParseDocument(parser, documents[i], "http", docs, failure)) {
      outcome.id = std::move(failure.id);
      outcome.error_code = std::string(xray::ParseErrorCode(failure.error));
      outcome.message = std::move(failure.message);
      continue;
    }
    ++accepted;
    outcome.accepted = true;
    outcome.id = docs.front().entity.id.ToString();
    for (xray::SegmentDocument& doc : docs)
      items.push_back(WriteItem{std::move(doc), now_us, ticket});
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
  const PushResult pushed = s.parsed.TryPushAll(items);
  if (pushed == PushResult::kOk) return;
  s.metrics.queue_depth.Add(-static_cast<int64_t>(n));
  Status status;
  if (pushed == PushResult::kFull) {
    s.metrics.dropped_queue_full.Inc(accepted);
    status = Status::ResourceExhausted("the ingest queue is full; retry later");
  } else {
    s.metrics.dropped_not_running.Inc(accepted);
    status = Status::Unavailable("the server is shutting down");
  }
  items.clear();  // releases the queue's references to the ticket
  ticket->done(status, std::move(ticket->outcomes));
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
  impl_->parsed.Close();  // the writer drains and commits the rest, then exits
  if (impl_->write_thread.joinable()) impl_->write_thread.join();
}

}  // namespace roentgen::ingest
