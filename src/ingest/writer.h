// The writer stage of the ingest pipeline: turns a batch of parsed documents
// into ONE store Write (group commit).
//
// For each trace the batch touches it loads the trace's documents (from the LRU
// cache, or from the store and re-parsed on a miss), merges the new documents in
// (a later version of an entity replaces the earlier one, except that an
// in-progress version never replaces a completed one), assembles the trace,
// computes its summary and graph, bumps the revision and sets updated_us. After
// the Write returns it completes the Submit tickets: with OK only when the
// Write succeeded (the documents are durable), otherwise with the error.
//
// With a RollupStore, every trace change is applied to it as
// Replace(previous graph, new graph) just before the store Write (and taken
// back out if the Write fails), so the service graph counts each stored
// observation once and a 200 is visible in it.
//
// Ownership: borrows the store, the metrics, the clock and the rollups (they must outlive
// it). Thread safety: none; one writer thread owns it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "graph/rollup_store.h"
#include "ingest/indexing_policy.h"
#include "ingest/ingest_metrics.h"
#include "ingest/pipeline.h"
#include "ingest/trace_cache.h"
#include "store/store.h"
#include "xray/segment.h"
#include "xray/segment_parser.h"

namespace roentgen::ingest {

// Whether a failed store write may succeed later: the store refused it for
// now (Unavailable: its disk is full) or met an I/O error (IOError). Spooled
// documents that failed so are delivered again; others are dropped and counted.
inline bool StoreErrorMayClear(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kIOError;
}

// The state of one Submit() call while its documents are in flight. Its
// documents may be committed by several writer threads (one per trace shard):
// whichever completes the last one calls `done`, exactly once.
struct SubmitTicket {
  Pipeline::SubmitCallback done;
  std::vector<DocumentOutcome> outcomes;
  std::atomic<size_t> remaining{0};  // entity documents not yet committed (or failed)
  // Optional, set before the documents are queued: called once, from the
  // writer thread that applies the last of them, when every document is
  // applied (written and visible to reads, in the rollups too) or failed —
  // for an engine that commits in the background, before they are durable
  // and `done` runs. The status: as `done`'s.
  std::function<void(Status)> applied;
  std::atomic<size_t> unapplied{0};  // documents Apply has not yet counted

  // Counts `n` documents applied (or failed with `status`) and calls
  // `applied` when they were the last ones. Thread-safe.
  void Apply(size_t n, const Status& status);

  // Settles `n` documents with `status` and calls `done` when they were the
  // last ones. The status `done` gets is the first failure, or the first one
  // that may clear (StoreErrorMayClear) if any did: that one decides whether
  // the documents are worth sending again. Thread-safe.
  void Settle(size_t n, const Status& status);
  // Documents settled with a failure so far (all of them once `done` runs).
  size_t failed() const;

 private:
  mutable Mutex mu_;
  Status status_ GUARDED_BY(mu_);          // the failure `done` gets, if any
  Status applied_status_ GUARDED_BY(mu_);  // the failure `applied` gets, if any
  size_t failed_ GUARDED_BY(mu_) = 0;
};

// One parsed entity document waiting to be written.
struct WriteItem {
  WriteItem() = default;
  // The entity is moved once, straight into its place on the heap: a move
  // of its ~1.4 KB copies the bytes of its many short strings.
  WriteItem(xray::SegmentDocument&& parsed, int64_t received_us,
            std::shared_ptr<SubmitTicket> submit_ticket, bool awaited_by_request = false)
      : doc(new xray::ReceivedDocument{std::move(parsed), received_us}),
        ticket(std::move(submit_ticket)),
        awaited(awaited_by_request) {}
  // An empty document, for the parser to fill in place
  // (SegmentParser::ParseInto): no move at all.
  WriteItem(int64_t received_us, std::shared_ptr<SubmitTicket> submit_ticket,
            bool awaited_by_request = false)
      : doc(new xray::ReceivedDocument{{}, received_us}),
        ticket(std::move(submit_ticket)),
        awaited(awaited_by_request) {}

  // On the heap: an entity is ~1.4 KB of fields (xray/segment.h) that the
  // routing, the writer's queue and batch and the trace cache would each
  // move in turn; they move this pointer instead. doc->doc.entity.trace_id is
  // always set.
  std::unique_ptr<xray::ReceivedDocument> doc;
  std::shared_ptr<SubmitTicket> ticket;  // null for UDP
  // A request waits for it to be applied (PutTraceSegments): written at the
  // process's priority when nothing is behind (PipelineConfig::low_priority_writers).
  bool awaited = false;
};

class Writer {
 public:
  Writer(store::Store& store, const IngestMetrics& metrics, const Clock& clock,
         size_t trace_cache_entries, size_t trace_cache_bytes,
         graph::RollupStore* rollups = nullptr, IndexingPolicy* indexing = nullptr);

  // Commits the batch and completes the tickets whose last document it held.
  // Returns the status of the store Write (OK for an empty batch).
  Status ProcessBatch(std::vector<WriteItem>& batch);

  const TraceCache& cache() const { return cache_; }

 private:
  struct TouchedTrace;
  // Finds the trace in the cache, or loads and re-parses it from the store.
  Result<CachedTrace*> Load(const xray::TraceId& id);
  void Finish(std::vector<WriteItem>& batch, const std::vector<TouchedTrace>& touched,
              const Status& write_status);
  // Takes back out of the rollups what a failed write's batch applied to
  // them (the stored records are unchanged): the rollups hold exactly the
  // stored traces' graphs.
  void UndoRollups(std::vector<TouchedTrace>& touched);

  store::Store& store_;
  const IngestMetrics& metrics_;
  const Clock& clock_;
  graph::RollupStore* const rollups_;  // null: no rollups
  IndexingPolicy* const indexing_;     // null: every trace indexed
  // The store derives records itself (Store::DerivesRecords): the cache then
  // holds a trace only for the batch that touches it.
  const bool derives_records_;
  TraceCache cache_;
  xray::SegmentParser parser_;                 // for documents loaded from the store
  std::vector<xray::SegmentDocument> parsed_;  // scratch
  // Failed writes are logged at most once a second (a full disk fails every one).
  std::chrono::steady_clock::time_point last_error_log_{};
  uint64_t errors_not_logged_ = 0;
};

}  // namespace roentgen::ingest
