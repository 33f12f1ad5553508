#include "store/block/head.h"

#include <algorithm>
#include <map>
#include <memory>
#include <utility>

namespace roentgen::store::block {

// A write not yet durable: its callback runs when the last trace it touched
// has been committed in a version that includes it.
struct Head::PendingWrite {
  std::function<void()> on_durable;
  size_t traces_left = 0;
};

struct Head::Entry {
  TraceRecord record;
  std::map<uint64_t, StoredDocument> documents;  // by entity id
  uint64_t document_bytes = 0;
  std::optional<RowRef> supersedes;  // the block row this version replaces
  int64_t first_write_us = 0;        // of this version (since the last seal)
  int64_t last_write_us = 0;
  std::vector<std::shared_ptr<PendingWrite>> waiting;  // writes in this version only

  // At most one sealed version at a time: the row it has in a cut not yet
  // committed, and what it held when sealed.
  std::optional<RowRef> sealed_as;
  std::optional<RowRef> sealed_supersedes;
  std::vector<std::shared_ptr<PendingWrite>> sealed_waiting;
  bool written_since_seal = false;
};

namespace {

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

Status Head::Apply(
    WriteBatch batch, int64_t now_us,
    const std::function<Result<std::optional<OlderVersion>>(const xray::TraceId&)>& older) {
  // Older versions are fetched first, without the lock (they may be read from
  // disk). A writer shard owns its traces, so no other write for them runs
  // meanwhile.
  std::unordered_map<xray::TraceId, std::optional<OlderVersion>, xray::TraceIdHash> olders;
  {
    std::vector<xray::TraceId> unknown;
    {
      MutexLock lock(mu_);
      for (const TraceRecord& r : batch.traces) {
        if (!entries_.contains(r.summary.id)) unknown.push_back(r.summary.id);
      }
    }
    for (const xray::TraceId& id : unknown) {
      if (olders.contains(id)) continue;
      Result<std::optional<OlderVersion>> got = older(id);
      if (!got.ok()) return got.status();
      olders.emplace(id, std::move(*got));
    }
  }

  {
    // A trace has a record exactly when it has documents (store.h): a
    // document without its record is refused before anything changes.
    std::unordered_map<xray::TraceId, bool, xray::TraceIdHash> recorded;
    for (const TraceRecord& r : batch.traces) recorded[r.summary.id] = true;
    for (const DocumentWrite& d : batch.documents) {
      if (!recorded.contains(d.trace_id)) {
        return Status::InvalidArgument("a document of trace " + d.trace_id.ToString() +
                                       " came without the trace's record");
      }
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
  MutexLock lock(mu_);
  std::unordered_map<xray::TraceId, Entry*, xray::TraceIdHash> touched;
  for (TraceRecord& r : batch.traces) {
    const xray::TraceId id = r.summary.id;
    auto [it, inserted] = entries_.try_emplace(id);
    Entry* e = it->second.get();
    if (inserted) {
      it->second = std::make_unique<Entry>();
      e = it->second.get();
      e->first_write_us = now_us;
      if (auto o = olders.find(id); o != olders.end() && o->second) {
        e->supersedes = o->second->row;
        AddRow(superseded_, o->second->row);
        for (StoredDocument& d : o->second->documents) {
          e->document_bytes += d.raw.size();
          e->documents[d.entity_id.value] = std::move(d);
        }
        documents_ += e->documents.size();
        document_bytes_ += e->document_bytes;
      }
    } else if (e->sealed_as && !e->written_since_seal) {
      // The first write after a seal starts a version that replaces the sealed row.
      e->written_since_seal = true;
      e->supersedes = e->sealed_as;
      AddRow(superseded_, *e->sealed_as);
      e->first_write_us = now_us;
    }
    e->record = std::move(r);
    e->last_write_us = now_us;
    touched[id] = e;
  }
  for (const DocumentWrite& d : batch.documents) {
    Entry* e = touched.at(d.trace_id);
    auto [slot_it, added] = e->documents.try_emplace(d.entity_id.value);
    StoredDocument& slot = slot_it->second;
    if (added) ++documents_;
    e->document_bytes -= slot.raw.size();
    document_bytes_ -= slot.raw.size();
    slot = StoredDocument{d.entity_id, d.received_us, std::string(d.raw)};
    e->document_bytes += slot.raw.size();
    document_bytes_ += slot.raw.size();
  }
  if (pending) {
    pending->traces_left = touched.size();
    for (auto& [id, e] : touched) e->waiting.push_back(pending);
    ++writes_waiting_;
  }
  return Status::Ok();
}

std::optional<TraceRecord> Head::GetTrace(const xray::TraceId& id) const {
  MutexLock lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return it->second->record;
}

std::optional<std::vector<StoredDocument>> Head::GetDocuments(const xray::TraceId& id) const {
  MutexLock lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  std::vector<StoredDocument> out;
  out.reserve(it->second->documents.size());
  for (const auto& [entity, doc] : it->second->documents) out.push_back(doc);
  return out;
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

std::vector<TraceRecord> Head::Select(const std::function<bool(const TraceRecord&)>& keep) const {
  MutexLock lock(mu_);
  std::vector<TraceRecord> out;
  for (const auto& [id, e] : entries_) {
    if (keep(e->record)) out.push_back(e->record);
  }
  return out;
}

Cut Head::TakeCut(uint64_t block_id, int64_t now_us, bool all) {
  MutexLock lock(mu_);
  std::vector<Entry*> due;
  std::vector<Entry*> rest;
  for (auto& [id, e] : entries_) {
    // A version is sealed once at a time; one written since its seal waits
    // for that cut to commit.
    if (e->sealed_as) continue;
    const bool is_due = all || now_us - e->last_write_us >= options_.quiet_us ||
                        now_us - e->first_write_us >= options_.max_age_us;
    (is_due ? due : rest).push_back(e.get());
  }
  // Beyond the size bound, the oldest versions are due too.
  uint64_t held = document_bytes_;
  for (Entry* e : due) held -= std::min(held, e->document_bytes);
  if (held > options_.max_document_bytes) {
    std::sort(rest.begin(), rest.end(),
              [](const Entry* a, const Entry* b) { return a->first_write_us < b->first_write_us; });
    for (Entry* e : rest) {
      if (held <= options_.max_document_bytes) break;
      due.push_back(e);
      held -= std::min(held, e->document_bytes);
    }
  }
  std::sort(due.begin(), due.end(), [](const Entry* a, const Entry* b) {
    const auto& x = a->record.summary;
    const auto& y = b->record.summary;
    return std::tie(x.start_time_us, x.id) < std::tie(y.start_time_us, y.id);
  });
  Cut cut;
  cut.block_id = block_id;
  cut.rows.reserve(due.size());
  for (Entry* e : due) {
    CutRow row;
    row.record = e->record;
    row.documents.reserve(e->documents.size());
    for (const auto& [entity, doc] : e->documents) row.documents.push_back(doc);
    row.supersedes = e->supersedes;
    e->sealed_as = RowRef{block_id, static_cast<uint32_t>(cut.rows.size())};
    e->sealed_supersedes = e->supersedes;
    e->sealed_waiting = std::move(e->waiting);
    e->waiting.clear();
    e->written_since_seal = false;
    cut.rows.push_back(std::move(row));
  }
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

std::vector<Head::Entry*> Head::SealedInLocked(const Cut& cut) {
  std::vector<Entry*> sealed;
  for (uint32_t i = 0; i < cut.rows.size(); ++i) {
    auto it = entries_.find(cut.rows[i].record.summary.id);
    if (it != entries_.end() && it->second->sealed_as == RowRef{cut.block_id, i}) {
      sealed.push_back(it->second.get());
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
    for (Entry* sealed : SealedInLocked(cut)) {
      Entry& e = *sealed;
      // The manifest edit that added the block marked this row's predecessor
      // superseded: the head need not hide it any more.
      if (e.sealed_supersedes) RemoveRow(superseded_, *e.sealed_supersedes);
      ReleaseLocked(e, durable);
      e.sealed_as.reset();
      e.sealed_supersedes.reset();
      if (!e.written_since_seal) {
        documents_ -= e.documents.size();
        document_bytes_ -= e.document_bytes;
        entries_.erase(e.record.summary.id);  // e dies here
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
    Entry& e = *it->second;
    if (e.sealed_as || e.record.summary.start_time_us >= cutoff_us) {
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
    documents_ -= e.documents.size();
    document_bytes_ -= e.document_bytes;
    it = entries_.erase(it);
  }
  return dropped;
}

void Head::Abandoned(const Cut& cut) {
  MutexLock lock(mu_);
  for (Entry* sealed : SealedInLocked(cut)) {
    Entry& e = *sealed;
    if (e.written_since_seal) {
      // The newer version replaced a row that will never exist: it replaces
      // what the sealed one did instead.
      RemoveRow(superseded_, *e.sealed_as);
      e.supersedes = e.sealed_supersedes;
    }
    e.waiting.insert(e.waiting.begin(), std::make_move_iterator(e.sealed_waiting.begin()),
                     std::make_move_iterator(e.sealed_waiting.end()));
    e.sealed_waiting.clear();
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
    remap(e->supersedes);
    remap(e->sealed_supersedes);
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
  return Stats{entries_.size(), documents_, document_bytes_, writes_waiting_};
}

}  // namespace roentgen::store::block
