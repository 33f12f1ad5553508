#include "ingest/writer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <unordered_map>
#include <utility>

#include "common/small_distinct_set.h"
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
  // Entities to write in this batch: mostly one (a trace's segments come
  // one or two a batch).
  SmallDistinctSet<xray::SegmentId, 2> dirty;
  // With rollups: the graph of the stored record this batch replaces (null
  // for a new trace), the cached one or `derived_old`; what the cache keeps
  // of the written graph (`kept`) and the written record's start time.
  // `rolled`: this batch's change is in the rollups.
  const graph::TraceGraph* old_graph = nullptr;
  std::optional<graph::TraceGraph> derived_old;
  std::optional<graph::TraceGraph> kept;
  int64_t new_start_us = 0;
  bool rolled = false;
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

// The graph of the record last written from these cached documents: the
// writer derives it from them exactly so (AssembleTrace over the documents
// in cache order, then DeriveTraceGraph), and a pure function of the same
// documents gives the same graph.
graph::TraceGraph GraphOfCachedDocs(const xray::TraceId& id, const CachedTrace& trace) {
  std::vector<const xray::ReceivedDocument*> docs;
  docs.reserve(trace.docs.size());
  for (const auto& d : trace.docs) docs.push_back(d.get());
  return graph::DeriveTraceGraph(xray::AssembleTrace(id, docs));
}

// Whether more of the trace is likely to come: an entity in progress, a
// subsegment whose parent has not arrived, or no root segment yet (a called
// service's segment often arrives before its caller's). Then keeping what
// the rollups read of its graph (RollupCopyOf) is cheaper than deriving the
// graph again from the cached documents when the rest comes.
bool ExpectsMoreOfTrace(const xray::AssembledTrace& trace) {
  if (!trace.orphans.empty()) return true;
  bool root = false;
  for (const xray::Entity& segment : trace.segments) {
    if (segment.in_progress) return true;
    root = root || !segment.parent_id.has_value();
  }
  return !root;
}

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
      if (inserted) touched.emplace_back().id = it->first;
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
  if (rollups_ != nullptr) {
    // What the rollups hold of a stored trace, to take back out if this
    // batch changes it: the record's graph as loaded, or, once this process
    // wrote the trace, derived again from the cached documents (before this
    // batch's merge changes them), which the cache keeps anyway. Most traces
    // are written once, so keeping every written graph for this costs more.
    for (TouchedTrace& t : touched) {
      if (t.trace == nullptr || t.trace->revision == 0) continue;
      if (t.trace->graph) {
        t.old_graph = &*t.trace->graph;
      } else {
        t.derived_old = GraphOfCachedDocs(t.id, *t.trace);
        t.old_graph = &*t.derived_old;
      }
    }
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    TouchedTrace& t = touched[trace_of_item[i]];
    if (t.trace == nullptr) continue;
    const xray::SegmentId id = batch[i].doc->doc.entity.id;
    if (Merge(*t.trace, batch[i])) t.dirty.insert(id);
  }

  // Build the one write: changed documents (views into the cache, which is not
  // modified until after the Write) and the recomputed trace records.
  store::WriteBatch write;
  // Room for every record up front: a record is large to move, and each
  // regrowth would move all of them.
  write.documents.reserve(batch.size());
  write.traces.reserve(touched.size());
  write.new_traces.reserve(touched.size());
  std::vector<const xray::ReceivedDocument*> docs;
  for (TouchedTrace& t : touched) {
    if (t.trace == nullptr || t.dirty.empty()) continue;
    docs.clear();
    size_t bytes = 0;
    for (const auto& owned : t.trace->docs) {
      const xray::ReceivedDocument& d = *owned;
      docs.push_back(&d);
      bytes += EstimateBytes(d);
      if (t.dirty.contains(d.doc.entity.id)) {
        write.documents.push_back(
            store::DocumentWrite{t.id, d.doc.entity.id, d.received_us, d.doc.raw});
      }
    }
    cache_.SetBytes(*t.trace, bytes);
    xray::AssembledTrace assembled = xray::AssembleTrace(t.id, docs);
    // Built in its place in the batch (the store takes the batch by move).
    store::TraceRecord& record = write.traces.emplace_back(
        store::TraceRecord{xray::Summarize(assembled), graph::DeriveTraceGraph(assembled)});
    if (rollups_ != nullptr) {
      // Applied now, while the record is still here to read (it moves into
      // the store), and taken back out if the write fails (UndoRollups):
      // rather than a copy of every graph kept for after the write.
      rollups_->Replace(t.id, t.old_graph, t.trace->start_us, record.graph);
      if (ExpectsMoreOfTrace(assembled)) t.kept = graph::RollupCopyOf(record.graph);
      t.new_start_us = record.summary.start_time_us;
      t.rolled = true;
    }
    record.summary.id = t.id;
    record.summary.revision = t.trace->revision + 1;
    // Decided once, when the trace is first stored (indexing_policy.h).
    if (t.trace->revision == 0) {
      t.trace->indexed = indexing_ == nullptr || indexing_->Decide(t.id);
    }
    record.summary.indexed = t.trace->indexed;
    record.summary.updated_us = now_us;
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

  if (rollups_ != nullptr) {
    if (status.ok()) {
      for (TouchedTrace& t : touched) {
        if (!t.rolled) continue;
        // Without a kept copy, the cached documents derive the stored graph.
        t.trace->graph = std::move(t.kept);
        t.trace->start_us = t.new_start_us;
      }
      rollups_->Expire(now_us);
    } else {
      UndoRollups(touched);
    }
  }

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

void Writer::UndoRollups(std::vector<TouchedTrace>& touched) {
  // The cache still holds the merged documents the records were derived
  // from (it forgets them after this), so they give the applied graphs again.
  const graph::TraceGraph none;
  for (TouchedTrace& t : touched) {
    if (!t.rolled) continue;
    const graph::TraceGraph applied = GraphOfCachedDocs(t.id, *t.trace);
    rollups_->Replace(t.id, &applied, t.new_start_us, t.old_graph ? *t.old_graph : none);
    t.rolled = false;
  }
}

}  // namespace roentgen::ingest
