#include "ingest/testing/fake_store.h"

#include <utility>

namespace roentgen::ingest::testing {

Status FakeStore::Write(store::WriteBatch batch) {
  std::function<void()> hook;
  {
    MutexLock lock(mu_);
    hook = write_hook_;
  }
  if (hook) hook();
  ++write_calls_;
  {
    MutexLock lock(mu_);
    if (!write_failure_.ok()) return write_failure_;
  }
  bool hold = false;
  {
    MutexLock lock(mu_);
    hold = hold_durability_;
  }
  const size_t documents = batch.documents.size();
  std::function<void()> on_durable;
  // Moved, as a real engine takes it: a copy of every record here would
  // be most of what a profile of the writer over this store sees.
  if (hold) on_durable = std::exchange(batch.on_durable, nullptr);
  RG_RETURN_IF_ERROR(engine_->Write(std::move(batch)));
  MutexLock lock(mu_);
  batch_sizes_.push_back(documents);
  if (on_durable) durable_pending_.push_back(std::move(on_durable));
  return Status::Ok();
}

void FakeStore::HoldDurability(bool hold) {
  MutexLock lock(mu_);
  hold_durability_ = hold;
}

void FakeStore::ReleaseDurable() {
  std::vector<std::function<void()>> pending;
  {
    MutexLock lock(mu_);
    pending.swap(durable_pending_);
  }
  for (auto& callback : pending) callback();
}

size_t FakeStore::durable_pending() const {
  MutexLock lock(mu_);
  return durable_pending_.size();
}

Result<std::vector<store::StoredDocument>> FakeStore::GetDocuments(const xray::TraceId& id) {
  ++get_documents_calls_;
  {
    MutexLock lock(mu_);
    if (!read_failure_.ok()) return read_failure_;
  }
  return engine_->GetDocuments(id);
}

Result<store::TraceRecord> FakeStore::GetTrace(const xray::TraceId& id) {
  ++get_trace_calls_;
  {
    MutexLock lock(mu_);
    if (!read_failure_.ok()) return read_failure_;
  }
  return engine_->GetTrace(id);
}

Result<store::ScanProgress> FakeStore::Scan(const store::ScanOptions& options,
                                            const store::ScanCallback& callback) {
  {
    MutexLock lock(mu_);
    if (!read_failure_.ok()) return read_failure_;
  }
  return engine_->Scan(options, callback);
}

Status FakeStore::PutConfig(std::string_view ns, std::string_view key, std::string_view value) {
  return engine_->PutConfig(ns, key, value);
}

Result<std::string> FakeStore::GetConfig(std::string_view ns, std::string_view key) {
  return engine_->GetConfig(ns, key);
}

Status FakeStore::DeleteConfig(std::string_view ns, std::string_view key) {
  return engine_->DeleteConfig(ns, key);
}

Result<std::vector<std::pair<std::string, std::string>>> FakeStore::ListConfig(
    std::string_view ns) {
  return engine_->ListConfig(ns);
}

Status FakeStore::DeleteOlderThan(int64_t cutoff_us) { return engine_->DeleteOlderThan(cutoff_us); }

store::StoreStats FakeStore::Stats() { return engine_->Stats(); }

void FakeStore::FailWrites(Status s) {
  MutexLock lock(mu_);
  write_failure_ = std::move(s);
}

void FakeStore::FailReads(Status s) {
  MutexLock lock(mu_);
  read_failure_ = std::move(s);
}

void FakeStore::SetWriteHook(std::function<void()> hook) {
  MutexLock lock(mu_);
  write_hook_ = std::move(hook);
}

std::vector<size_t> FakeStore::batch_sizes() const {
  MutexLock lock(mu_);
  return batch_sizes_;
}

size_t FakeStore::document_count() const { return engine_->Stats().documents; }

}  // namespace roentgen::ingest::testing
