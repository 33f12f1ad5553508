// The storage interface every engine implements (embedded RocksDB now, a
// scale-out engine later). Callers never see engine types.
//
// Data model:
//  - documents: the raw bytes of each segment / independent subsegment, keyed by
//    (trace id, entity id). Writing the same key again replaces the document,
//    which is how an in-progress segment is replaced by its completed version.
//  - trace records: per trace, its X-Ray summary and its trace graph, plus the
//    indexes derived from them (time, event time, annotation key+value, service,
//    user, http status, fault/error/throttle). Indexes are maintained by the store.
//  - config: small named objects (groups, sampling rules) by namespace and key.
//
// Errors are Status values; a read that meets damaged data fails with
// Corruption (never a wrong answer). Thread safety: every method may be called from any
// thread concurrently. Write() is atomic and visible on return OK, and durable
// once it calls WriteBatch::on_durable.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"
#include "graph/trace_graph.h"
#include "xray/ids.h"
#include "xray/trace.h"

namespace roentgen::store {

struct TraceRecord {
  xray::TraceSummary summary;
  graph::TraceGraph graph;
};

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

// A condition the store can answer from an index. The store may return traces
// that do not satisfy it (the evaluator re-checks), never fewer.
struct IndexCondition {
  enum class Kind {
    kAnnotationEquals,  // key + value
    kServiceName,       // text (+ optional type)
    kUser,              // text
    kHttpStatus,        // number
    kFault,             // root fault
    kError,             // root error
    kThrottle,          // any throttle
  };
  Kind kind = Kind::kFault;
  std::string key;              // annotation key
  std::string text;             // service name / user
  std::string type;             // service type, empty = any
  xray::AnnotationValue value;  // annotation value
  int http_status = 0;
};

// Position to resume a scan after (exclusive): the sort time and trace id of
// the last trace returned.
struct ScanCursor {
  int64_t time_us = 0;
  xray::TraceId trace_id;
};

struct ScanOptions {
  int64_t start_us = 0;  // inclusive
  int64_t end_us = 0;    // exclusive
  TimeRangeType time_range_type = TimeRangeType::kTraceId;
  std::optional<IndexCondition> index;  // narrow the scan with one index
  std::optional<ScanCursor> resume_after;
  // Most recent first (X-Ray returns results closest to EndTime first).
  bool descending = true;
  // False: the records passed to the callback have an empty graph (faster, for
  // callers that read only the summary, e.g. when the filter's NeedsGraph() is
  // false).
  bool decode_graph = true;
  // Called once, on the scanning thread, when the scan's view of the store is
  // fixed (a scan reads one snapshot: writes that complete after this are not
  // seen), before the first callback. Not called if the scan returns before
  // reading anything (an empty range, an invalid condition).
  std::function<void()> on_snapshot;
};

// Receives each candidate trace with its sort time; returns false to stop.
using ScanCallback = std::function<bool(const TraceRecord& record, int64_t sort_time_us)>;

// Failed operations by cause (counted since the store was opened).
struct StoreErrorCounts {
  uint64_t disk_full = 0;
  uint64_t io_error = 0;
  uint64_t corruption = 0;
};

// What an operator watches (exported in /metrics). A figure an engine cannot
// give stays 0.
struct StoreStats {
  uint64_t documents = 0;  // approximate
  uint64_t traces = 0;     // approximate
  uint64_t disk_bytes = 0;
  // Written but not yet flushed to table files (held in memory).
  uint64_t memtable_bytes = 0;
  // Cached table blocks, indexes and filters (held in memory).
  uint64_t block_cache_bytes = 0;
  // Bytes compaction must still rewrite to bring the store back in shape; a
  // figure that keeps growing means ingest outruns the disk or the CPU.
  uint64_t pending_compaction_bytes = 0;
  uint64_t running_compactions = 0;
  // The engine is slowing or stopping writes to let compaction catch up.
  bool writes_stalled = false;
  // Writes are refused after a fault (a full disk, an I/O error) until it
  // clears; reads go on.
  bool read_only = false;
  // The disk is full: writes (or compactions) fail until space is freed.
  bool disk_full = false;
  // Failed writes (one per batch), and reads that met corruption or an I/O error.
  StoreErrorCounts write_errors;
  StoreErrorCounts read_errors;
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
  virtual Status Write(const WriteBatch& batch) = 0;

  // Every stored document of the trace (any order). Empty vector if unknown.
  virtual Result<std::vector<StoredDocument>> GetDocuments(const xray::TraceId& id) = 0;
  // The trace's record, or NotFound. A trace has a record exactly when it has
  // documents (every engine keeps this: Write stores a trace's documents with
  // its record, retention deletes both together), so the ingest writer asks
  // for the cheaper record to learn that a trace is new.
  virtual Result<TraceRecord> GetTrace(const xray::TraceId& id) = 0;

  // Visits candidate traces in the time range, ordered by (sort time, trace id),
  // descending unless told otherwise.
  virtual Status Scan(const ScanOptions& options, const ScanCallback& callback) = 0;

  virtual Status PutConfig(std::string_view ns, std::string_view key, std::string_view value) = 0;
  virtual Result<std::string> GetConfig(std::string_view ns, std::string_view key) = 0;  // NotFound
  virtual Status DeleteConfig(std::string_view ns, std::string_view key) = 0;            // NotFound
  virtual Result<std::vector<std::pair<std::string, std::string>>> ListConfig(
      std::string_view ns) = 0;

  // Removes traces whose start time is before `cutoff_us` (retention). Also run
  // periodically by engines that can; exposed for tests and `roentgen` admin.
  virtual Status DeleteOlderThan(int64_t cutoff_us) = 0;

  virtual StoreStats Stats() = 0;

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
