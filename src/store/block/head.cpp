#include "store/block/head.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <utility>

#include "xray/trace_id_order.h"

namespace roentgen::store::block {

// A write not yet durable: its callback runs when the last trace it touched
// has been committed in a version that includes it.
struct Head::PendingWrite {
  std::function<void()> on_durable;
  size_t traces_left = 0;
};

struct Head::Entry {
  // The newest version while it is not sealed, or has been written since its
  // seal: its record and documents (null once sealed, until written again).
  // Sealing moves them into the cut. The record is shared with scans
  // (Select), which read it after the lock is released: it is never changed
  // in place while a scan holds it.
  std::shared_ptr<TraceRecord> record;
  // Sorted by entity id: a trace has a few documents, and the cut takes the
  // vector whole.
  std::vector<StoredDocument> documents;
  uint64_t record_memory = 0;    // of `record`, while held here
  uint64_t document_memory = 0;  // of `documents`
  // The newest version's documents, wherever they are (here or in the cut).
  uint64_t document_count = 0;
  uint64_t document_bytes = 0;
  std::optional<RowRef> supersedes;  // the block row this version replaces
  int64_t first_write_us = 0;        // of this version (since the last seal)
  int64_t last_write_us = 0;
  std::vector<std::shared_ptr<PendingWrite>> waiting;  // writes in this version only
  uint64_t applied_in = 0;  // the last Apply that touched it (Head::applies_)

  // At most one sealed version at a time: the cut that holds it and its row
  // there, what it superseded, the writes it carries and the memory it holds.
  std::shared_ptr<const Cut> sealed_cut;
  std::optional<RowRef> sealed_as;
  std::optional<RowRef> sealed_supersedes;
  std::vector<std::shared_ptr<PendingWrite>> sealed_waiting;
  uint64_t sealed_memory = 0;
  bool written_since_seal = false;

  bool HoldsNewest() const { return !sealed_as || written_since_seal; }
  uint64_t HeldMemory() const { return record_memory + document_memory; }
};

namespace {

// A document's memory besides its text: the StoredDocument in its entry's
// vector.
constexpr uint64_t kDocumentOverheadBytes = sizeof(StoredDocument);

uint64_t DocumentMemory(const StoredDocument& d) { return kDocumentOverheadBytes + d.raw.size(); }

// True when each document's trace is found among the records at or after
// the previous document's.
bool HeadDocumentsInRecordOrder(const std::vector<TraceRecord*>& traces,
                                const std::vector<DocumentWrite>& documents) {
  size_t t = 0;
  for (const DocumentWrite& d : documents) {
    while (t < traces.size() && traces[t]->summary.id != d.trace_id) ++t;
    if (t == traces.size()) return false;
  }
  return true;
}

bool HeadEntityLess(const StoredDocument& d, uint64_t entity) { return d.entity_id.value < entity; }

void AddRow(std::unordered_map<uint64_t, std::vector<uint32_t>>& rows, const RowRef& r) {
  rows[r.block_id].push_back(r.row);
}

void RemoveRow(std::unordered_map<uint64_t, std::vector<uint32_t>>& rows, const RowRef& r) {
  auto it = rows.find(r.block_id);
  if (it == rows.end()) return;
  auto at = std::find(it->second.begin(), it->second.end(), r.row);
  if (at != it->second.end()) it->second.erase(at);
  if (it->second.empty()) rows.erase(it);
}

}  // namespace

Head::Head(HeadOptions options) : options_(options) {}
Head::~Head() = default;

const TraceRecord& Head::NewestRecord(const Entry& e) {
  return e.HoldsNewest() ? *e.record : *e.sealed_cut->records[e.sealed_as->row];
}

std::shared_ptr<const TraceRecord> Head::NewestShared(const Entry& e) {
  if (e.HoldsNewest()) return e.record;
  return e.sealed_cut->records[e.sealed_as->row];  // immutable once sealed
}

namespace {

// Whether no scan holds the head's record, so the head may change it in
// place. Called under the head's lock, which every new holder needs
// (Select), so a count of one cannot grow meanwhile; the fence orders the
// change after the reads of the holders that have let go.
bool HeldByHeadAlone(const std::shared_ptr<TraceRecord>& record) {
  if (record.use_count() != 1) return false;
  std::atomic_thread_fence(std::memory_order_acquire);
  return true;
}

}  // namespace

void Head::PutDocumentLocked(Entry& e, StoredDocument doc) {
  auto at =
      std::lower_bound(e.documents.begin(), e.documents.end(), doc.entity_id.value, HeadEntityLess);
  if (at == e.documents.end() || at->entity_id.value != doc.entity_id.value) {
    at = e.documents.insert(at, StoredDocument{});
    ++e.document_count;
    ++documents_;
  } else {
    e.document_bytes -= at->raw.size();
    document_bytes_ -= at->raw.size();
    e.document_memory -= DocumentMemory(*at);
    memory_bytes_ -= DocumentMemory(*at);
  }
  StoredDocument& slot = *at;
  slot = std::move(doc);
  e.document_bytes += slot.raw.size();
  document_bytes_ += slot.raw.size();
  e.document_memory += DocumentMemory(slot);
  memory_bytes_ += DocumentMemory(slot);
}

Status Head::Apply(
    WriteBatch batch, int64_t now_us,
    const std::function<Result<std::optional<OlderVersion>>(const xray::TraceId&)>& older) {
  Records records;
  records.traces.reserve(batch.traces.size());
  for (TraceRecord& r : batch.traces) records.traces.push_back(&r);
  records.documents = std::move(batch.documents);
  records.on_durable = std::move(batch.on_durable);
  return ApplyRecords(std::move(records), now_us, older);
}

Status Head::ApplyRecords(
    Records batch, int64_t now_us,
    const std::function<Result<std::optional<OlderVersion>>(const xray::TraceId&)>& older) {
  // A trace has a record exactly when it has documents (store.h): a document
  // without its record is refused before anything changes. The writer lists
  // documents in the order of their traces, which one pass over both checks;
  // another order is checked against the batch's ids sorted (not a hash set:
  // no allocation per trace).
  if (!HeadDocumentsInRecordOrder(batch.traces, batch.documents)) {
    std::vector<xray::TraceId> recorded;
    recorded.reserve(batch.traces.size());
    for (const TraceRecord* r : batch.traces) recorded.push_back(r->summary.id);
    std::sort(recorded.begin(), recorded.end(), xray::TraceIdWordLess());
    for (const DocumentWrite& d : batch.documents) {
      if (!std::binary_search(recorded.begin(), recorded.end(), d.trace_id,
                              xray::TraceIdWordLess())) {
        return Status::InvalidArgument("a document of trace " + d.trace_id.ToString() +
                                       " came without the trace's record");
      }
    }
  }

  // Older versions are fetched first, without the lock (they may be read from
  // disk). A writer shard owns its traces, so no other write for them runs
  // meanwhile. Only the traces that have one are kept: at ingest most traces
  // are new.
  std::unordered_map<xray::TraceId, OlderVersion, xray::TraceIdHash> olders;
  {
    std::vector<xray::TraceId> unknown;
    {
      MutexLock lock(mu_);
      for (const TraceRecord* r : batch.traces) {
        if (!entries_.contains(r->summary.id)) unknown.push_back(r->summary.id);
      }
    }
    for (const xray::TraceId& id : unknown) {
      if (!olders.empty() && olders.contains(id)) continue;  // the batch's second record of it
      Result<std::optional<OlderVersion>> got = older(id);
      if (!got.ok()) return got.status();
      if (*got) olders.emplace(id, std::move(**got));
    }
  }

  std::shared_ptr<PendingWrite> pending;
  if (batch.on_durable) {
    pending = std::make_shared<PendingWrite>();
    pending->on_durable = std::move(batch.on_durable);
  }
  if (pending && batch.traces.empty()) {
    pending->on_durable();  // nothing to make durable
    return Status::Ok();
  }
  // Estimated before the lock: the walk of each record is the costliest part.
  std::vector<uint64_t> record_memory(batch.traces.size());
  for (size_t i = 0; i < batch.traces.size(); ++i) {
    record_memory[i] = graph::EstimateMemoryBytes(*batch.traces[i]);
  }
  MutexLock lock(mu_);
  const uint64_t apply = ++applies_;
  std::vector<Entry*> touched;
  touched.reserve(batch.traces.size());
  for (size_t i = 0; i < batch.traces.size(); ++i) {
    TraceRecord& r = *batch.traces[i];
    const xray::TraceId id = r.summary.id;
    auto [it, inserted] = entries_.try_emplace(id);
    Entry* e = &it->second;
    if (inserted) {
      e->first_write_us = now_us;
      if (auto o = olders.find(id); o != olders.end()) {
        e->supersedes = o->second.row;
        AddRow(superseded_, o->second.row);
        e->documents.reserve(o->second.documents.size());
        for (StoredDocument& d : o->second.documents) PutDocumentLocked(*e, std::move(d));
      }
    } else if (e->sealed_as && !e->written_since_seal) {
      // The first write after a seal starts a version that replaces the
      // sealed row, from the sealed version's documents (the same documents:
      // the count stays, the memory doubles until the cut commits).
      e->written_since_seal = true;
      e->supersedes = e->sealed_as;
      AddRow(superseded_, *e->sealed_as);
      e->first_write_us = now_us;
      e->documents = e->sealed_cut->documents[e->sealed_as->row];  // sorted there too
      for (const StoredDocument& d : e->documents) {
        e->document_memory += DocumentMemory(d);
        memory_bytes_ += DocumentMemory(d);
      }
    }
    memory_bytes_ = memory_bytes_ - e->record_memory + record_memory[i];
    e->record_memory = record_memory[i];
    if (e->record != nullptr && HeldByHeadAlone(e->record)) {
      *e->record = std::move(r);
    } else {
      e->record = std::make_shared<TraceRecord>(std::move(r));
    }
    e->last_write_us = now_us;
    if (e->applied_in != apply) {
      e->applied_in = apply;
      touched.push_back(e);
    }
  }
  {
    // Every document's trace is in the head now (its record was applied).
    const xray::TraceId* last_id = nullptr;
    Entry* last = nullptr;
    for (const DocumentWrite& d : batch.documents) {
      if (last_id == nullptr || *last_id != d.trace_id) {
        auto it = entries_.find(d.trace_id);
        last_id = &it->first;
        last = &it->second;
      }
      PutDocumentLocked(*last, StoredDocument{d.entity_id, d.received_us, std::string(d.raw)});
    }
  }
  if (pending) {
    pending->traces_left = touched.size();
    for (Entry* e : touched) e->waiting.push_back(pending);
    ++writes_waiting_;
  }
  return Status::Ok();
}

std::optional<TraceRecord> Head::GetTrace(const xray::TraceId& id) const {
  MutexLock lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return NewestRecord(it->second);
}

std::optional<std::vector<StoredDocument>> Head::GetDocuments(const xray::TraceId& id) const {
  MutexLock lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  const Entry& e = it->second;
  if (!e.HoldsNewest()) return e.sealed_cut->documents[e.sealed_as->row];
  return e.documents;
}

bool Head::Contains(const xray::TraceId& id) const {
  MutexLock lock(mu_);
  return entries_.contains(id);
}

std::unordered_map<uint64_t, std::vector<uint32_t>> Head::SupersededRows() const {
  MutexLock lock(mu_);
  return superseded_;
}

bool Head::Supersedes(const RowRef& row) const {
  MutexLock lock(mu_);
  auto it = superseded_.find(row.block_id);
  return it != superseded_.end() &&
         std::find(it->second.begin(), it->second.end(), row.row) != it->second.end();
}

std::vector<std::shared_ptr<const TraceRecord>> Head::Select(
    const std::function<bool(const TraceRecord&)>& keep) const {
  MutexLock lock(mu_);
  std::vector<std::shared_ptr<const TraceRecord>> out;
  for (const auto& [id, e] : entries_) {
    if (keep(NewestRecord(e))) out.push_back(NewestShared(e));
  }
  return out;
}

std::shared_ptr<const Cut> Head::TakeCut(uint64_t block_id, int64_t now_us, bool all) {
  MutexLock lock(mu_);
  // The sorts below order copies of their keys, read once from each entry:
  // comparing through the entries (and their records) read each of them,
  // scattered in the heap, a dozen times.
  struct ByAge {
    int64_t first_write_us;
    Entry* entry;
  };
  struct ByRow {
    int64_t start_us;
    xray::TraceId id;
    Entry* entry;
  };
  std::vector<ByRow> due;
  std::vector<ByAge> rest;
  uint64_t held = memory_bytes_;
  for (auto& [id, e] : entries_) {
    // A version is sealed once at a time; one written since its seal waits
    // for that cut to commit.
    if (e.sealed_as) continue;
    const bool is_due = all || now_us - e.last_write_us >= options_.quiet_us ||
                        now_us - e.first_write_us >= options_.max_age_us;
    if (is_due) {
      due.push_back({0, id, &e});
      held -= std::min(held, e.HeldMemory());
    } else {
      rest.push_back({e.first_write_us, &e});
    }
  }
  // Beyond the memory bound, the oldest versions are due too, until half the
  // bound is left: a head at its bound is not cut a few traces at a time.
  if (held > options_.max_bytes) {
    std::sort(rest.begin(), rest.end(),
              [](const ByAge& a, const ByAge& b) { return a.first_write_us < b.first_write_us; });
    for (const ByAge& r : rest) {
      if (held <= options_.max_bytes / 2) break;
      due.push_back({0, r.entry->record->summary.id, r.entry});
      held -= std::min(held, r.entry->HeldMemory());
    }
  }
  for (ByRow& r : due) r.start_us = r.entry->record->summary.start_time_us;
  std::sort(due.begin(), due.end(), [](const ByRow& a, const ByRow& b) {
    return std::tie(a.start_us, a.id) < std::tie(b.start_us, b.id);
  });
  auto cut = std::make_shared<Cut>();
  cut->block_id = block_id;
  cut->records.reserve(due.size());
  cut->ids.reserve(due.size());
  cut->documents.reserve(due.size());
  cut->supersedes.reserve(due.size());
  for (const ByRow& r : due) {
    Entry* e = r.entry;
    // Moved, not copied: the head reads the sealed version in the cut.
    e->sealed_as = RowRef{block_id, static_cast<uint32_t>(cut->records.size())};
    cut->records.push_back(std::move(e->record));
    cut->ids.push_back(r.id);
    cut->documents.push_back(std::move(e->documents));
    e->documents.clear();
    cut->supersedes.push_back(e->supersedes);
    e->sealed_supersedes = e->supersedes;
    e->sealed_waiting = std::move(e->waiting);
    e->waiting.clear();
    e->sealed_memory = e->HeldMemory();
    e->record_memory = 0;
    e->document_memory = 0;
    e->written_since_seal = false;
  }
  for (const ByRow& r : due) r.entry->sealed_cut = cut;
  return cut;
}

void Head::ReleaseLocked(Entry& e, std::vector<std::function<void()>>& durable) {
  for (auto& w : e.sealed_waiting) {
    if (--w->traces_left == 0) {
      durable.push_back(std::move(w->on_durable));
      --writes_waiting_;
    }
  }
  e.sealed_waiting.clear();
}

std::vector<Head::Sealed> Head::SealedInLocked(const Cut& cut) {
  std::vector<Sealed> sealed;
  for (uint32_t i = 0; i < cut.size(); ++i) {
    const xray::TraceId& id = cut.ids[i];
    auto it = entries_.find(id);
    if (it != entries_.end() && it->second.sealed_as == RowRef{cut.block_id, i}) {
      sealed.push_back(Sealed{id, &it->second, i});
    }
  }
  return sealed;
}

void Head::Committed(const Cut& cut) {
  for (auto& f : CommitCut(cut)) f();
}

std::vector<std::function<void()>> Head::CommitCut(const Cut& cut) {
  std::vector<std::function<void()>> durable;
  {
    MutexLock lock(mu_);
    for (const Sealed& sealed : SealedInLocked(cut)) {
      Entry& e = *sealed.entry;
      // The manifest edit that added the block marked this row's predecessor
      // superseded: the head need not hide it any more.
      if (e.sealed_supersedes) RemoveRow(superseded_, *e.sealed_supersedes);
      ReleaseLocked(e, durable);
      memory_bytes_ -= std::min(memory_bytes_, e.sealed_memory);
      e.sealed_memory = 0;
      e.sealed_cut.reset();
      e.sealed_as.reset();
      e.sealed_supersedes.reset();
      if (!e.written_since_seal) {
        documents_ -= e.document_count;
        document_bytes_ -= e.document_bytes;
        entries_.erase(sealed.id);  // e dies here
      } else {
        e.written_since_seal = false;
      }
    }
  }
  return durable;
}

Head::Dropped Head::DropOlderThan(int64_t cutoff_us) {
  Dropped dropped;
  MutexLock lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& e = it->second;
    if (e.sealed_as || e.record->summary.start_time_us >= cutoff_us) {
      ++it;
      continue;
    }
    if (e.supersedes) {
      RemoveRow(superseded_, *e.supersedes);
      dropped.superseded.push_back(*e.supersedes);
    }
    for (auto& w : e.waiting) {
      if (--w->traces_left == 0) {
        dropped.durable.push_back(std::move(w->on_durable));
        --writes_waiting_;
      }
    }
    documents_ -= e.document_count;
    document_bytes_ -= e.document_bytes;
    memory_bytes_ -= std::min(memory_bytes_, e.HeldMemory());
    it = entries_.erase(it);
  }
  return dropped;
}

void Head::Abandoned(const Cut& cut) {
  MutexLock lock(mu_);
  for (const Sealed& sealed : SealedInLocked(cut)) {
    Entry& e = *sealed.entry;
    memory_bytes_ -= std::min(memory_bytes_, e.sealed_memory);
    e.sealed_memory = 0;
    if (e.written_since_seal) {
      // The newer version replaced a row that will never exist: it replaces
      // what the sealed one did instead.
      RemoveRow(superseded_, *e.sealed_as);
      e.supersedes = e.sealed_supersedes;
    } else {
      // The sealed version is the newest again: it comes back from the cut.
      e.record = std::make_shared<TraceRecord>(*cut.records[sealed.row]);
      e.record_memory = graph::EstimateMemoryBytes(*e.record);
      e.documents = cut.documents[sealed.row];
      for (const StoredDocument& d : e.documents) e.document_memory += DocumentMemory(d);
      memory_bytes_ += e.HeldMemory();
    }
    e.waiting.insert(e.waiting.begin(), std::make_move_iterator(e.sealed_waiting.begin()),
                     std::make_move_iterator(e.sealed_waiting.end()));
    e.sealed_waiting.clear();
    e.sealed_cut.reset();
    e.sealed_as.reset();
    e.sealed_supersedes.reset();
    e.written_since_seal = false;
  }
}

void Head::RemapRows(const std::function<std::optional<RowRef>(const RowRef&)>& moved) {
  MutexLock lock(mu_);
  auto remap = [&](std::optional<RowRef>& r) {
    if (r) r = moved(*r);
  };
  for (auto& [id, e] : entries_) {
    remap(e.supersedes);
    remap(e.sealed_supersedes);
  }
  std::unordered_map<uint64_t, std::vector<uint32_t>> superseded;
  for (const auto& [block, rows] : superseded_) {
    for (uint32_t row : rows) {
      if (std::optional<RowRef> to = moved(RowRef{block, row})) AddRow(superseded, *to);
    }
  }
  superseded_ = std::move(superseded);
}

Head::Stats Head::stats() const {
  MutexLock lock(mu_);
  Stats s;
  s.traces = entries_.size();
  s.documents = documents_;
  s.document_bytes = document_bytes_;
  s.memory_bytes = memory_bytes_;
  s.writes_waiting = writes_waiting_;
  return s;
}

}  // namespace roentgen::store::block
