// The storage interface every engine implements (embedded RocksDB, in memory,
// a scale-out engine later). Callers never see engine types or their
// machinery (indexes, memtables, logs): a scan takes the whole filter and
// returns only what it matches.
//
// Data model:
//  - documents: the raw bytes of each segment / independent subsegment, keyed by
//    (trace id, entity id). Writing the same key again replaces the document,
//    which is how an in-progress segment is replaced by its completed version.
//  - trace records: per trace, its X-Ray summary and its trace graph
//    (graph/trace_record.h), found by id or by a scan of a time range with a
//    filter expression (filter/filter.h). Whatever an engine keeps to answer
//    scans fast (indexes, sort orders) it maintains itself.
//  - config: small named objects (groups, sampling rules) by namespace and key.
//
// Errors are Status values; a read that meets damaged data fails with
// Corruption (never a wrong answer). Thread safety: every method may be called from any
// thread concurrently. Write() is atomic and visible on return OK, and durable
// once it calls WriteBatch::on_durable.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"
#include "filter/filter.h"
#include "graph/rollup_store.h"
#include "graph/trace_record.h"
#include "xray/ids.h"
#include "xray/trace.h"

namespace roentgen::store {

using TraceRecord = graph::TraceRecord;

struct DocumentWrite {
  xray::TraceId trace_id;
  xray::SegmentId entity_id;
  int64_t received_us = 0;
  std::string_view raw;  // must outlive the Write() call
};

struct WriteBatch {
  std::vector<DocumentWrite> documents;
  // The new record of every trace the documents touched (replaces the old one;
  // the store updates the indexes from old to new).
  std::vector<TraceRecord> traces;
  // Parallel to `traces` (or empty: unknown for every trace): true when the
  // writer knows the store holds no record of that trace yet, so the store
  // skips reading an old record to replace its index entries — the common case
  // at ingest, where most traces are written once.
  std::vector<bool> new_traces;
  // Called once the batch is durable (it survives a crash), on any thread and
  // outside the store's locks: before Write returns for an engine whose write
  // is durable on return (RocksDB's synced WAL), later for an engine that
  // makes writes durable in the background (the block engine, when a block
  // holding them is committed). Never called for a failed Write, nor for a
  // batch not yet durable when the store is destroyed: its source (a spool)
  // delivers it again after a restart. May be empty.
  std::function<void()> on_durable;
};

struct StoredDocument {
  xray::SegmentId entity_id;
  int64_t received_us = 0;
  std::string raw;
};

enum class TimeRangeType { kTraceId, kEvent, kService };

// A position in a scan's order: the sort time and trace id of one trace.
struct ScanCursor {
  int64_t time_us = 0;
  xray::TraceId trace_id;
};

// Which traces a scan returns, and how. A scan returns exactly the traces of
// the time range that pass `filter` and `searchable_only`, each at most once,
// ordered by (sort time, trace id); how an engine finds them (an index, a
// query language, a full walk) is its own business and never changes the
// answer, only the speed.
struct ScanOptions {
  int64_t start_us = 0;  // inclusive
  int64_t end_us = 0;    // exclusive
  // kTraceId and kService sort by the trace's start time, kEvent by when it
  // last changed (TraceSummary::updated_us).
  TimeRangeType time_range_type = TimeRangeType::kTraceId;
  // The traces to return; absent: every trace of the range. Shared, since a
  // compiled filter is immutable and callers keep it beyond the scan.
  std::shared_ptr<const filter::CompiledFilter> filter;
  // True: only traces the indexing rule made searchable (TraceSummary::indexed);
  // the others are still read by id (GetTrace, GetDocuments).
  bool searchable_only = false;
  // Resume a scan after (exclusive) this position, e.g. ScanProgress::last.
  std::optional<ScanCursor> resume_after;
  // Most recent first (X-Ray returns results closest to EndTime first).
  bool descending = true;
  // False (callers that read only the summary): a record passed to the
  // callback may have an empty graph; the engine reads graphs only when the
  // filter needs them to decide (CompiledFilter::NeedsGraph). True: every
  // record carries its trace graph (callers that roll graphs up).
  bool return_graph = false;
  // Bounds the work of one scan: after looking at this many traces of the
  // range (ScanProgress::examined, matching or not), the engine stops and
  // reports where. 0: no bound. A filter that matches little otherwise makes a
  // scan read the whole range before its callback runs at all.
  uint64_t max_examined = 0;
  // Called once, on the scanning thread, when the scan's view of the store is
  // fixed (a scan reads one snapshot: writes that complete after this are not
  // seen), before the first callback. Not called if the scan returns before
  // reading anything (an empty range, a cursor past its end).
  std::function<void()> on_snapshot;
};

// Receives each matching trace with its sort time; returns true to take it and
// go on, false to stop the scan before it (it is not taken).
using ScanCallback = std::function<bool(const TraceRecord& record, int64_t sort_time_us)>;

// How far a scan went, in its order. Every match up to and including `last`
// was passed to the callback and taken, so a new scan with resume_after =
// `last` goes on without missing or repeating a trace.
struct ScanProgress {
  // Traces the engine looked at: matches the callback took and traces that
  // did not match. A measure of work, engine-dependent (an engine that
  // narrows the scan with an index never looks at most non-matching traces);
  // what max_examined bounds.
  uint64_t examined = 0;
  // The last trace looked at; absent when there was none.
  std::optional<ScanCursor> last;
  // Where the scan stopped before the end of its range: at the match the
  // callback refused, or at the first trace past max_examined. Absent when
  // the range was exhausted.
  std::optional<ScanCursor> stopped_at;
};

// Failed operations by cause (counted since the store was opened).
struct StoreErrorCounts {
  uint64_t disk_full = 0;
  uint64_t io_error = 0;
  uint64_t corruption = 0;
};

// What an operator watches (exported in /metrics by StoreMetrics, whose
// metric names keep the embedded engine's words: memtable, block cache,
// compaction). Every engine fills the counts (documents, traces, disk_bytes),
// read_only, disk_full and the error counts. The figures of an engine's
// internal machinery (unflushed_bytes, read_cache_bytes, backlog_bytes,
// background_jobs, writes_stalled) stay 0 when the engine has no such thing.
struct StoreStats {
  uint64_t documents = 0;  // approximate
  uint64_t traces = 0;     // approximate
  // Bytes the store occupies on disk, its log of recent writes included.
  uint64_t disk_bytes = 0;
  // Written data held in memory, not yet in the engine's files (an engine that
  // keeps everything in memory counts everything it holds).
  uint64_t unflushed_bytes = 0;
  // Memory caching stored data for reads.
  uint64_t read_cache_bytes = 0;
  // Bytes the engine's background reorganisation (compaction, merges) must
  // still rewrite to bring the store back in shape; a figure that keeps
  // growing means ingest outruns the disk or the CPU.
  uint64_t backlog_bytes = 0;
  // Background reorganisation jobs running now.
  uint64_t background_jobs = 0;
  // The engine is slowing or stopping writes to let its background work catch up.
  bool writes_stalled = false;
  // Writes are refused after a fault (a full disk, an I/O error) until it
  // clears; reads go on.
  bool read_only = false;
  // The disk is full: writes (or background work) fail until space is freed.
  bool disk_full = false;
  // Failed writes (one per batch), and reads that met corruption or an I/O error.
  StoreErrorCounts write_errors;
  StoreErrorCounts read_errors;
};

// The service-graph rollups an engine persists (Store::LoadRollups).
struct PersistedRollups {
  // The rollups of every trace the store held at one moment during the call.
  graph::RollupMinutes minutes;
  // The minutes before this come summed per hour (graph::FoldRollupMinutes):
  // LoadRollups' hourly_before_us, or later when the minutes after it would
  // have passed max_minute_bytes. RollupStore::Load takes it.
  int64_t hourly_before_us = std::numeric_limits<int64_t>::min();
  uint64_t blocks = 0;           // engine units (blocks) whose rollups were summed
  uint64_t superseded_rows = 0;  // rows whose rollups were taken back out
  // Of those, the rows read from their blocks (the others' rollups were saved).
  uint64_t superseded_rows_read = 0;
  // Units whose persisted rollups were missing (written before the engine
  // kept them) or damaged, rebuilt from their rows instead.
  uint64_t rebuilt_blocks = 0;
  // The Corruption of each damaged unit, to report: the load went on
  // without it.
  std::vector<Status> damaged;
};

class Store {
 public:
  virtual ~Store() = default;

  // Atomically applies the batch: on OK its documents and records are what
  // every later read sees, and `batch.on_durable` says when they are also
  // durable. Errors: Unavailable while the
  // store refuses writes until space is freed on its disk (the condition
  // clears by itself: retry later); IOError when the write failed otherwise
  // (an I/O error, or writes stopped after a fault: may clear, retry later);
  // Corruption when a record it must replace cannot be read; InvalidArgument
  // for a batch the engine cannot take. Nothing of a failed batch is applied.
  // The batch is taken by value: a caller that moves it in lets the engine
  // keep its records without copying them (the ingest writer does).
  virtual Status Write(WriteBatch batch) = 0;

  // Every stored document of the trace (any order). Empty vector if unknown.
  virtual Result<std::vector<StoredDocument>> GetDocuments(const xray::TraceId& id) = 0;
  // The trace's record, or NotFound. A trace has a record exactly when it has
  // documents (every engine keeps this: Write stores a trace's documents with
  // its record, retention deletes both together), so the ingest writer asks
  // for the cheaper record to learn that a trace is new.
  virtual Result<TraceRecord> GetTrace(const xray::TraceId& id) = 0;

  // Passes the traces that ScanOptions selects to `callback`, in order, until
  // the range is exhausted, the callback refuses one or max_examined is
  // reached; says how far it went. Errors: Corruption (damaged data), IOError.
  virtual Result<ScanProgress> Scan(const ScanOptions& options, const ScanCallback& callback) = 0;

  virtual Status PutConfig(std::string_view ns, std::string_view key, std::string_view value) = 0;
  virtual Result<std::string> GetConfig(std::string_view ns, std::string_view key) = 0;  // NotFound
  virtual Status DeleteConfig(std::string_view ns, std::string_view key) = 0;            // NotFound
  virtual Result<std::vector<std::pair<std::string, std::string>>> ListConfig(
      std::string_view ns) = 0;

  // Removes traces whose start time is before `cutoff_us` (retention). Also run
  // periodically by engines that can; exposed for tests and `roentgen` admin.
  virtual Status DeleteOlderThan(int64_t cutoff_us) = 0;

  virtual StoreStats Stats() = 0;

  // The service-graph rollups of every stored trace, read from what the
  // engine persists, without scanning the traces; nothing when the engine
  // keeps none (the caller rebuilds them by a scan: api/rollup_rebuild.h).
  // As of one moment during the call: call it before the writer's first
  // write, whose changes the writer then applies to the rollups itself.
  // Errors: InvalidArgument when writes wait in memory outside the
  // persisted units (the block engine's heads), which the rollups would
  // lack; Corruption or IOError when rows needed to correct the sums cannot
  // be read (the caller then rebuilds by a scan). The minutes before
  // `hourly_before_us` (graph::RollupStore::hourly_before_us()) may come
  // summed per hour (graph::FoldRollupMinutes), and so may later ones when
  // the minutes kept would pass `max_minute_bytes` (RollupStore's estimate;
  // the rollups' memory cap): PersistedRollups::hourly_before_us says from
  // where, and RollupStore::Load takes them as they are.
  virtual Result<std::optional<PersistedRollups>> LoadRollups(
      int64_t hourly_before_us = std::numeric_limits<int64_t>::min(),
      size_t max_minute_bytes = std::numeric_limits<size_t>::max()) {
    (void)hourly_before_us;
    (void)max_minute_bytes;
    return std::optional<PersistedRollups>();
  }

  // True when the engine derives each trace's record (summary and graph)
  // itself, from every document it holds of the trace, whoever wrote them:
  // an engine that several Roentgen processes share (the ClickHouse engine),
  // where a trace's segments may reach different processes and no process
  // sees them all. Write then takes of each record in WriteBatch::traces
  // only its `indexed` decision (kept for a trace that has one stored) and
  // `updated_us`, and derives the rest. The ingest writer then reads nothing
  // back before a write, and the service map is answered from scans (one
  // process's in-memory rollups never see another's writes).
  virtual bool DerivesRecords() const { return false; }

  // Writes a consistent copy of the store, as of one moment during the call,
  // into `dir`, which must not exist (it is created; its parent must exist).
  // The copy is a store of its own, opened like the original. For backups
  // (docs/storage.md, "Backup and restore"): engines that keep files link
  // them where the filesystem allows, so the copy costs little room on the
  // same disk. Errors: AlreadyExists (`dir`), Unavailable (the store refuses
  // writes now, e.g. its disk is full), ResourceExhausted (no room for the
  // copy), IOError; InvalidArgument from engines that cannot copy themselves.
  virtual Status Checkpoint(const std::string& dir) {
    return Status::InvalidArgument("this store cannot write a copy of itself (" + dir + ")");
  }
};

}  // namespace roentgen::store
