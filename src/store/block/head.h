// The block engine's head: the traces of one writer shard that are not yet in
// a committed block (docs/storage.md, "The block engine: design").
//
// Each trace in the head is one version: its whole record (summary and graph)
// and all its documents, so a block row can be written from it alone. A write
// for a trace already in the head replaces the record and merges the
// documents (same entity id: the newer replaces the older); a write for a
// trace the head does not hold starts from the documents of the trace's newest
// block row, which the engine passes in, and notes that row as superseded by
// this version.
//
// Cutting: TakeCut() seals the versions that are due (quiet for `quiet_us`,
// older than `max_age_us`, or, once the head holds more than `max_bytes`, the
// oldest until it holds half of that) into a cut whose rows are sorted by
// (start time, trace id) and numbered. A sealed version's record and documents
// move into the cut, which is immutable from then on: the head reads them
// there until Committed() (their block is in the manifest) drops them, or
// Abandoned() (the block could not be written) takes them back and makes them
// due again. A write to a sealed trace makes a new version (starting from a
// copy of the sealed documents) that supersedes the sealed row (its block id
// and row number are known at the cut).
//
// Memory: the head counts what it holds (documents, and each record's
// estimated heap: graph::EstimateMemoryBytes), sealed versions included, as
// stats().memory_bytes; a record of a few segments takes several times its
// documents' bytes.
//
// Durability: each write's `on_durable` runs once every trace it touched has
// had a version in a committed block that includes the write's documents.
//
// Thread safety: every method may be called from any thread (one mutex).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"
#include "store/store.h"
#include "xray/ids.h"

namespace roentgen::store::block {

// A row of a block.
struct RowRef {
  uint64_t block_id = 0;
  uint32_t row = 0;
  bool operator==(const RowRef&) const = default;
};

struct HeadOptions {
  int64_t quiet_us = 5'000'000;     // a trace not written for this long is due
  int64_t max_age_us = 30'000'000;  // a version this old is due however busy
  // Beyond this memory (documents and records, estimated), the oldest
  // versions are due until half of it is left.
  uint64_t max_bytes = uint64_t{96} << 20;
};

// The versions a cut sealed. Row i is records[i], documents[i] (the trace's
// documents, by entity id) and supersedes[i] (the block row it replaces);
// rows are sorted by (start time, trace id). The records stay where the
// head's writes put them (the head's own, shared: scans may hold them too),
// not moved into an array of rows: a move walks and rewrites each record,
// cold, and then frees what it left.
struct Cut {
  uint64_t block_id = 0;
  std::vector<std::shared_ptr<const TraceRecord>> records;
  std::vector<xray::TraceId> ids;  // records[i]'s, at hand for the commit
  std::vector<std::vector<StoredDocument>> documents;
  std::vector<std::optional<RowRef>> supersedes;
  size_t size() const { return records.size(); }
  // The records' addresses, in row order (for WriteBlock).
  std::vector<const TraceRecord*> RowPointers() const {
    std::vector<const TraceRecord*> rows(records.size());
    for (size_t i = 0; i < records.size(); ++i) rows[i] = records[i].get();
    return rows;
  }
  bool empty() const { return records.empty(); }
};

// What the engine knows of a trace the head does not hold: its newest block
// row and that row's documents.
struct OlderVersion {
  RowRef row;
  std::vector<StoredDocument> documents;
};

class Head {
 public:
  explicit Head(HeadOptions options = {});
  ~Head();
  Head(const Head&) = delete;
  Head& operator=(const Head&) = delete;

  // Applies a store write. `older` is asked, outside the head's lock and only
  // for traces the head does not hold, for the trace's newest block row
  // (nothing for a new trace); its error fails the write, which changes
  // nothing. Takes batch.on_durable (called later, as above). The batch is
  // taken by value: a caller that moves it in gives the head its records
  // without a copy.
  Status Apply(
      WriteBatch batch, int64_t now_us,
      const std::function<Result<std::optional<OlderVersion>>(const xray::TraceId&)>& older);
  // As Apply, with the records given by pointer: a caller that splits one
  // batch between heads moves each record once, into the head (a
  // TraceRecord's move walks tens of strings and vectors). Each record is
  // moved from once the write is applied, and left as it is when it fails.
  struct Records {
    std::vector<TraceRecord*> traces;
    std::vector<DocumentWrite> documents;
    std::function<void()> on_durable;
  };
  Status ApplyRecords(
      Records batch, int64_t now_us,
      const std::function<Result<std::optional<OlderVersion>>(const xray::TraceId&)>& older);

  std::optional<TraceRecord> GetTrace(const xray::TraceId& id) const;
  bool Contains(const xray::TraceId& id) const;
  // Nothing when the head does not hold the trace.
  std::optional<std::vector<StoredDocument>> GetDocuments(const xray::TraceId& id) const;
  // The block rows the head's versions supersede (a reader skips them).
  bool Supersedes(const RowRef& row) const;
  // All of them by block (rows unsorted), for a reader's snapshot.
  std::unordered_map<uint64_t, std::vector<uint32_t>> SupersededRows() const;

  // The records that `keep` accepts, in no particular order, shared rather
  // than copied: a version is immutable once written (a later write makes a
  // new one), so a scan reads them after the lock is released while writes
  // and cuts go on.
  std::vector<std::shared_ptr<const TraceRecord>> Select(
      const std::function<bool(const TraceRecord&)>& keep) const;

  // Seals what is due at `now_us` (everything with `all`, e.g. at shutdown)
  // into a cut for block `block_id`; an empty cut when nothing is due. The
  // head shares the cut (its sealed versions are read there) until it is
  // committed or abandoned.
  std::shared_ptr<const Cut> TakeCut(uint64_t block_id, int64_t now_us, bool all = false);
  // The cut's block is committed: its versions leave the head (unless
  // rewritten since), and writes now wholly durable are told so.
  void Committed(const Cut& cut);
  // As Committed, but returns the callbacks of the writes now durable instead
  // of calling them, for a caller that must run them outside its own locks.
  [[nodiscard]] std::vector<std::function<void()>> CommitCut(const Cut& cut);
  // The cut's block could not be written: its versions are due again.
  void Abandoned(const Cut& cut);

  // Retention: drops the versions whose start time is before `cutoff_us`
  // that are not sealed in a cut; returns the block rows they superseded
  // (the caller hides them, or an older version would show again) and the
  // callbacks of the writes this leaves with nothing more to wait for (their
  // data is deleted: nothing is left to make durable).
  struct Dropped {
    std::vector<RowRef> superseded;
    std::vector<std::function<void()>> durable;
  };
  [[nodiscard]] Dropped DropOlderThan(int64_t cutoff_us);

  // Compaction replaced blocks by one: every block row the head refers to
  // (the rows its versions supersede) becomes `moved(row)`, which returns
  // the row unchanged for blocks compaction left alone, and nothing for a
  // row it dropped (the version then hides nothing).
  void RemapRows(const std::function<std::optional<RowRef>(const RowRef&)>& moved);

  struct Stats {
    uint64_t traces = 0;          // traces held
    uint64_t documents = 0;       // the documents of their newest versions
    uint64_t document_bytes = 0;  // those documents' bytes
    // Estimated memory of every version held, sealed ones included: the
    // documents and the records (graph::EstimateMemoryBytes).
    uint64_t memory_bytes = 0;
    uint64_t writes_waiting = 0;  // writes not yet durable
  };
  Stats stats() const;

 private:
  struct Entry;
  struct PendingWrite;
  void ReleaseLocked(Entry& entry, std::vector<std::function<void()>>& durable) REQUIRES(mu_);
  // Adds or replaces a document of the entry's newest version.
  void PutDocumentLocked(Entry& entry, StoredDocument doc) REQUIRES(mu_);
  // The entries whose sealed version is one of the cut's rows, with the row.
  struct Sealed {
    xray::TraceId id;
    Entry* entry = nullptr;
    uint32_t row = 0;
  };
  std::vector<Sealed> SealedInLocked(const Cut& cut) REQUIRES(mu_);
  // The newest version's record, in the entry or in its cut.
  static const TraceRecord& NewestRecord(const Entry& e);
  // The same, shared with a reader that outlives the lock.
  static std::shared_ptr<const TraceRecord> NewestShared(const Entry& e);

  const HeadOptions options_;
  mutable Mutex mu_;
  // Entries live in the map's nodes, which never move: an Entry* stays valid
  // until its trace is erased.
  std::unordered_map<xray::TraceId, Entry, xray::TraceIdHash> entries_ GUARDED_BY(mu_);
  // Rows of blocks superseded by a version in the head.
  std::unordered_map<uint64_t, std::vector<uint32_t>> superseded_ GUARDED_BY(mu_);
  uint64_t documents_ GUARDED_BY(mu_) = 0;
  uint64_t document_bytes_ GUARDED_BY(mu_) = 0;
  uint64_t memory_bytes_ GUARDED_BY(mu_) = 0;
  uint64_t writes_waiting_ GUARDED_BY(mu_) = 0;
  uint64_t sealed_generation_ GUARDED_BY(mu_) = 0;
  uint64_t applies_ GUARDED_BY(mu_) = 0;  // Apply calls, to note an entry once per call
};

}  // namespace roentgen::store::block
