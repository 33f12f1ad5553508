#include "ingest/writer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <unordered_map>
#include <utility>

#include "graph/rollup_store.h"
#include "graph/trace_graph.h"
#include "xray/trace.h"

namespace roentgen::ingest {

void SubmitTicket::Settle(size_t n, const Status& status) {
  if (!status.ok()) {
    MutexLock lock(mu_);
    failed_ += n;
    if (status_.ok() || (!StoreErrorMayClear(status_) && StoreErrorMayClear(status))) {
      status_ = status;
    }
  }
  if (remaining.fetch_sub(n, std::memory_order_acq_rel) != n) return;
  Status final_status;
  {
    MutexLock lock(mu_);
    final_status = status_;
  }
  done(std::move(final_status), std::move(outcomes));
}

void SubmitTicket::Apply(size_t n, const Status& status) {
  if (!status.ok()) {
    MutexLock lock(mu_);
    if (applied_status_.ok() ||
        (!StoreErrorMayClear(applied_status_) && StoreErrorMayClear(status))) {
      applied_status_ = status;
    }
  }
  if (unapplied.fetch_sub(n, std::memory_order_acq_rel) != n) return;
  Status final_status;
  {
    MutexLock lock(mu_);
    final_status = applied_status_;
  }
  applied(std::move(final_status));
}

size_t SubmitTicket::failed() const {
  MutexLock lock(mu_);
  return failed_;
}

struct Writer::TouchedTrace {
  xray::TraceId id;
  CachedTrace* trace = nullptr;  // null when it could not be loaded
  Status load_status;
  std::vector<xray::SegmentId> dirty;  // entities to write in this batch
};

Writer::Writer(store::Store& store, const IngestMetrics& metrics, const Clock& clock,
               size_t trace_cache_entries, size_t trace_cache_bytes, graph::RollupStore* rollups,
               IndexingPolicy* indexing)
    : store_(store),
      metrics_(metrics),
      clock_(clock),
      rollups_(rollups),
      indexing_(indexing),
      derives_records_(store.DerivesRecords()),
      cache_(trace_cache_entries, trace_cache_bytes) {}

Result<CachedTrace*> Writer::Load(const xray::TraceId& id) {
  if (CachedTrace* cached = cache_.Find(id)) return cached;
  CachedTrace trace;
  // The store derives the record from every document it holds, including
  // those other processes wrote (store.h): what this one could read now
  // may be stale by the time it writes, and is not needed.
  if (derives_records_) return &cache_.Insert(id, std::move(trace));
  // A trace has a record exactly when it has documents (store.h), so a new
  // trace, the common case, costs one point lookup answered by bloom filters
  // (0.8 us) instead of an iterator over its document range (1.8 us).
  Result<store::TraceRecord> record = store_.GetTrace(id);
  if (!record.ok() && record.status().code() != StatusCode::kNotFound) return record.status();
  if (record.ok()) {
    Result<std::vector<store::StoredDocument>> stored = store_.GetDocuments(id);
    if (!stored.ok()) return stored.status();
    trace.revision = record->summary.revision;
    trace.indexed = record->summary.indexed;
    if (rollups_ != nullptr) {
      trace.graph = std::move(record->graph);
      trace.start_us = record->summary.start_time_us;
    }
    trace.docs.reserve(stored->size());
    for (store::StoredDocument& doc : *stored) {
      parsed_.clear();
      xray::ParseFailure failure;
      if (!parser_.Parse(doc.raw, parsed_, failure)) {
        spdlog::error("trace {}: stored document {} no longer parses ({}); ignoring it",
                      id.ToString(), doc.entity_id.ToString(), failure.message);
        continue;
      }
      for (xray::SegmentDocument& parsed : parsed_) {
        trace.docs.push_back(std::make_unique<xray::ReceivedDocument>(
            xray::ReceivedDocument{std::move(parsed), doc.received_us}));
      }
    }
  }
  for (const auto& d : trace.docs) trace.bytes += EstimateBytes(*d);
  return &cache_.Insert(id, std::move(trace));
}

namespace {

// Merges one new entity document into the trace; returns false when it is
// ignored because a completed version of the entity is already there.
bool Merge(CachedTrace& trace, WriteItem& item) {
  const xray::SegmentId id = item.doc->doc.entity.id;
  auto existing = std::find_if(trace.docs.begin(), trace.docs.end(),
                               [&](const auto& d) { return d->doc.entity.id == id; });
  if (existing == trace.docs.end()) {
    trace.docs.push_back(std::move(item.doc));
    return true;
  }
  if (!(*existing)->doc.entity.in_progress && item.doc->doc.entity.in_progress) return false;
  *existing = std::move(item.doc);
  return true;
}

}  // namespace

Status Writer::ProcessBatch(std::vector<WriteItem>& batch) {
  if (batch.empty()) return Status::Ok();
  const int64_t now_us = clock_.NowMicros();

  // Group by trace, in first-seen order.
  std::vector<TouchedTrace> touched;
  touched.reserve(batch.size());
  std::vector<size_t> trace_of_item(batch.size());
  {
    std::unordered_map<xray::TraceId, size_t, xray::TraceIdHash> index;
    index.reserve(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      auto [it, inserted] = index.try_emplace(*batch[i].doc->doc.entity.trace_id, touched.size());
      if (inserted) touched.push_back(TouchedTrace{it->first, nullptr, Status::Ok(), {}});
      trace_of_item[i] = it->second;
    }
  }
  for (TouchedTrace& t : touched) {
    Result<CachedTrace*> loaded = Load(t.id);
    if (loaded.ok()) {
      t.trace = *loaded;
    } else {
      t.load_status = loaded.status();
      spdlog::error("trace {}: cannot load its stored documents: {}", t.id.ToString(),
                    t.load_status.ToString());
    }
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    TouchedTrace& t = touched[trace_of_item[i]];
    if (t.trace == nullptr) continue;
    const xray::SegmentId id = batch[i].doc->doc.entity.id;
    if (Merge(*t.trace, batch[i]) &&
        std::find(t.dirty.begin(), t.dirty.end(), id) == t.dirty.end()) {
      t.dirty.push_back(id);
    }
  }

  // Build the one write: changed documents (views into the cache, which is not
  // modified until after the Write) and the recomputed trace records.
  store::WriteBatch write;
  // The written records' graphs and start times, for the rollups after the
  // write: the records themselves move into the store.
  std::vector<WrittenGraph> graphs;
  std::vector<const xray::ReceivedDocument*> docs;
  for (TouchedTrace& t : touched) {
    if (t.trace == nullptr || t.dirty.empty()) continue;
    docs.clear();
    size_t bytes = 0;
    for (const auto& owned : t.trace->docs) {
      const xray::ReceivedDocument& d = *owned;
      docs.push_back(&d);
      bytes += EstimateBytes(d);
      if (std::find(t.dirty.begin(), t.dirty.end(), d.doc.entity.id) != t.dirty.end()) {
        write.documents.push_back(
            store::DocumentWrite{t.id, d.doc.entity.id, d.received_us, d.doc.raw});
      }
    }
    cache_.SetBytes(*t.trace, bytes);
    xray::AssembledTrace assembled = xray::AssembleTrace(t.id, docs);
    store::TraceRecord record{xray::Summarize(assembled), graph::DeriveTraceGraph(assembled)};
    if (rollups_ != nullptr) {
      graphs.push_back(
          WrittenGraph{graph::RollupCopyOf(record.graph), record.summary.start_time_us});
    }
    record.summary.id = t.id;
    record.summary.revision = t.trace->revision + 1;
    // Decided once, when the trace is first stored (indexing_policy.h).
    if (t.trace->revision == 0) {
      t.trace->indexed = indexing_ == nullptr || indexing_->Decide(t.id);
    }
    record.summary.indexed = t.trace->indexed;
    record.summary.updated_us = now_us;
    write.traces.push_back(std::move(record));
    write.new_traces.push_back(t.trace->revision == 0);
  }

  // The documents of traces that loaded are settled once the write is
  // durable (inside Write for an engine durable on return, later for one that
  // commits in the background: store.h) and the rollups have it, so that a
  // spool moves its checkpoint, and PutTraceSegments answers, only then and
  // the answer is visible in the next service map. Two gates: whichever of
  // on_durable and the end of this batch's work comes last settles.
  struct DurableSettle {
    std::vector<std::pair<std::shared_ptr<SubmitTicket>, size_t>> tickets;
    std::atomic<int> gates{2};
    void Pass() {
      if (gates.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
      for (auto& [ticket, n] : tickets) ticket->Settle(n, Status::Ok());
    }
  };
  const bool writing = !write.documents.empty();
  std::shared_ptr<DurableSettle> settle;
  if (writing) {
    settle = std::make_shared<DurableSettle>();
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!batch[i].ticket || !touched[trace_of_item[i]].load_status.ok()) continue;
      if (!settle->tickets.empty() && settle->tickets.back().first == batch[i].ticket) {
        ++settle->tickets.back().second;  // a request's documents are mostly adjacent
      } else {
        settle->tickets.emplace_back(batch[i].ticket, 1);
      }
    }
    write.on_durable = [settle] { settle->Pass(); };
  }

  Status status;
  if (writing) {
    const size_t documents_written = write.documents.size();
    const size_t traces_written = write.traces.size();
    const auto start = std::chrono::steady_clock::now();
    status = store_.Write(std::move(write));
    metrics_.commit_seconds.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (status.ok()) {
      metrics_.stored.Inc(documents_written);
      metrics_.traces_updated.Inc(traces_written);
    } else if (const auto now = std::chrono::steady_clock::now();
               now - last_error_log_ >= std::chrono::seconds(1)) {
      last_error_log_ = now;
      spdlog::error("store write of {} documents failed: {}{}", documents_written,
                    status.ToString(),
                    errors_not_logged_ == 0 ? ""
                                            : fmt::format(" ({} more failed writes not logged)",
                                                          std::exchange(errors_not_logged_, 0)));
    } else {
      ++errors_not_logged_;
    }
  }

  if (status.ok() && rollups_ != nullptr) UpdateRollups(touched, graphs, now_us);

  // Completes the tickets and cache bookkeeping; views into the cache die here.
  write = store::WriteBatch{};
  for (size_t i = 0; i < batch.size(); ++i) {
    const TouchedTrace& t = touched[trace_of_item[i]];
    const Status& item_status = t.load_status.ok() ? status : t.load_status;
    WriteItem& item = batch[i];
    if (!item.ticket) {
      if (!item_status.ok()) {
        (item_status.code() == StatusCode::kUnavailable ? metrics_.dropped_disk_full
                                                        : metrics_.dropped_store_error)
            .Inc();
      }
      continue;
    }
    if (item.ticket->applied) item.ticket->Apply(1, item_status);
    // Settled through `settle` instead: a stored document of a batch written.
    if (writing && item_status.ok()) continue;
    item.ticket->Settle(1, item_status);
  }
  if (settle && status.ok()) settle->Pass();
  for (TouchedTrace& t : touched) {
    if (t.trace == nullptr) continue;
    // A store that derives records is the only authority on a trace: keeping
    // this batch's documents would only make the next batch's record (which
    // it ignores) bigger.
    if (derives_records_) {
      cache_.Erase(t.id);
      continue;
    }
    if (t.dirty.empty()) continue;
    if (status.ok()) {
      ++t.trace->revision;
    } else {
      cache_.Erase(t.id);  // the cached documents are not what the store holds
    }
  }
  cache_.EvictToCapacity();
  return status;
}

void Writer::UpdateRollups(const std::vector<TouchedTrace>& touched,
                           std::vector<WrittenGraph>& written, int64_t now_us) {
  size_t next = 0;  // `written` holds the graphs of the dirty traces, in order
  for (const TouchedTrace& t : touched) {
    if (t.trace == nullptr || t.dirty.empty()) continue;
    WrittenGraph& w = written[next++];
    rollups_->Replace(t.id, t.trace->graph ? &*t.trace->graph : nullptr, t.trace->start_us,
                      w.graph);
    t.trace->graph = std::move(w.graph);
    t.trace->start_us = w.start_us;
  }
  rollups_->Expire(now_us);
}

}  // namespace roentgen::ingest
