#include "ingest/testing/fake_store.h"

#include <algorithm>
#include <tuple>

namespace roentgen::ingest::testing {

Status FakeStore::Write(const store::WriteBatch& batch) {
  std::function<void()> hook;
  {
    std::lock_guard lock(mu_);
    hook = write_hook_;
  }
  if (hook) hook();
  ++write_calls_;
  std::lock_guard lock(mu_);
  if (!write_failure_.ok()) return write_failure_;
  for (const store::DocumentWrite& d : batch.documents) {
    documents_[d.trace_id][d.entity_id] =
        store::StoredDocument{d.entity_id, d.received_us, std::string(d.raw)};
  }
  for (const store::TraceRecord& r : batch.traces) traces_[r.summary.id] = r;
  batch_sizes_.push_back(batch.documents.size());
  return Status::Ok();
}

Result<std::vector<store::StoredDocument>> FakeStore::GetDocuments(const xray::TraceId& id) {
  ++get_documents_calls_;
  std::lock_guard lock(mu_);
  if (!read_failure_.ok()) return read_failure_;
  std::vector<store::StoredDocument> out;
  auto it = documents_.find(id);
  if (it == documents_.end()) return out;
  for (const auto& [entity, doc] : it->second) out.push_back(doc);
  return out;
}

Result<store::TraceRecord> FakeStore::GetTrace(const xray::TraceId& id) {
  ++get_trace_calls_;
  std::lock_guard lock(mu_);
  if (!read_failure_.ok()) return read_failure_;
  auto it = traces_.find(id);
  if (it == traces_.end()) return Status::NotFound("no such trace");
  return it->second;
}

Status FakeStore::Scan(const store::ScanOptions& options, const store::ScanCallback& callback) {
  std::vector<std::pair<int64_t, store::TraceRecord>> hits;
  {
    std::lock_guard lock(mu_);
    if (!read_failure_.ok()) return read_failure_;
    for (const auto& [id, record] : traces_) {
      const int64_t t = options.time_range_type == store::TimeRangeType::kEvent
                            ? record.summary.updated_us
                            : record.summary.start_time_us;
      if (t < options.start_us || t >= options.end_us) continue;
      if (options.resume_after) {
        const auto key = std::tie(t, id);
        const auto cursor = std::tie(options.resume_after->time_us, options.resume_after->trace_id);
        if (options.descending ? !(key < cursor) : !(cursor < key)) continue;
      }
      hits.emplace_back(t, record);
    }
    if (options.on_snapshot) options.on_snapshot();
  }
  std::sort(hits.begin(), hits.end(), [&](const auto& a, const auto& b) {
    const auto ka = std::tie(a.first, a.second.summary.id);
    const auto kb = std::tie(b.first, b.second.summary.id);
    return options.descending ? kb < ka : ka < kb;
  });
  for (const auto& [t, record] : hits) {
    if (!callback(record, t)) break;
  }
  return Status::Ok();
}

Status FakeStore::PutConfig(std::string_view ns, std::string_view key, std::string_view value) {
  std::lock_guard lock(mu_);
  config_[{std::string(ns), std::string(key)}] = std::string(value);
  return Status::Ok();
}

Result<std::string> FakeStore::GetConfig(std::string_view ns, std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = config_.find({std::string(ns), std::string(key)});
  if (it == config_.end()) return Status::NotFound("no such config");
  return it->second;
}

Status FakeStore::DeleteConfig(std::string_view ns, std::string_view key) {
  std::lock_guard lock(mu_);
  if (config_.erase({std::string(ns), std::string(key)}) == 0) {
    return Status::NotFound("no such config");
  }
  return Status::Ok();
}

Result<std::vector<std::pair<std::string, std::string>>> FakeStore::ListConfig(
    std::string_view ns) {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [k, v] : config_) {
    if (k.first == ns) out.emplace_back(k.second, v);
  }
  return out;
}

Status FakeStore::DeleteOlderThan(int64_t cutoff_us) {
  std::lock_guard lock(mu_);
  for (auto it = traces_.begin(); it != traces_.end();) {
    if (it->second.summary.start_time_us < cutoff_us) {
      documents_.erase(it->first);
      it = traces_.erase(it);
    } else {
      ++it;
    }
  }
  return Status::Ok();
}

store::StoreStats FakeStore::Stats() {
  std::lock_guard lock(mu_);
  store::StoreStats stats;
  for (const auto& [id, docs] : documents_) stats.documents += docs.size();
  stats.traces = traces_.size();
  return stats;
}

void FakeStore::FailWrites(Status s) {
  std::lock_guard lock(mu_);
  write_failure_ = std::move(s);
}

void FakeStore::FailReads(Status s) {
  std::lock_guard lock(mu_);
  read_failure_ = std::move(s);
}

void FakeStore::SetWriteHook(std::function<void()> hook) {
  std::lock_guard lock(mu_);
  write_hook_ = std::move(hook);
}

std::vector<size_t> FakeStore::batch_sizes() const {
  std::lock_guard lock(mu_);
  return batch_sizes_;
}

size_t FakeStore::document_count() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [id, docs] : documents_) n += docs.size();
  return n;
}

}  // namespace roentgen::ingest::testing
