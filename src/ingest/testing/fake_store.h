// A store::Store for unit tests of the ingest pipeline and the API handlers:
// the in-memory engine (store/memory/memory_store.h) with faults that can be
// injected and every call observed.
//
// Thread safety: as the engine; the hooks run outside of any lock.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "store/memory/memory_store.h"
#include "store/store.h"

namespace roentgen::ingest::testing {

class FakeStore final : public store::Store {
 public:
  Status Write(store::WriteBatch batch) override;
  Result<std::vector<store::StoredDocument>> GetDocuments(const xray::TraceId& id) override;
  Result<store::TraceRecord> GetTrace(const xray::TraceId& id) override;
  Result<store::ScanProgress> Scan(const store::ScanOptions& options,
                                   const store::ScanCallback& callback) override;
  Status PutConfig(std::string_view ns, std::string_view key, std::string_view value) override;
  Result<std::string> GetConfig(std::string_view ns, std::string_view key) override;
  Status DeleteConfig(std::string_view ns, std::string_view key) override;
  Result<std::vector<std::pair<std::string, std::string>>> ListConfig(std::string_view ns) override;
  Status DeleteOlderThan(int64_t cutoff_us) override;
  store::StoreStats Stats() override;
  bool DerivesRecords() const override { return derives_records_; }

  // Injected faults: a non-OK status makes every later Write (FailWrites) or
  // GetDocuments / GetTrace (FailReads) fail.
  void FailWrites(Status s);
  void FailReads(Status s);
  // Called at the start of every Write (outside the lock), e.g. to block it.
  void SetWriteHook(std::function<void()> hook);
  // Durability as an engine that commits in the background gives it: while
  // held, successful writes are applied and visible but their on_durable
  // callbacks wait until ReleaseDurable() calls them, in write order.
  void HoldDurability(bool hold);
  // Says the store derives records itself (Store::DerivesRecords); the
  // records are still stored as written. Set before a writer is made.
  void SetDerivesRecords(bool derives) { derives_records_ = derives; }
  void ReleaseDurable();
  size_t durable_pending() const;

  // Observations.
  size_t write_calls() const { return write_calls_.load(); }
  size_t get_documents_calls() const { return get_documents_calls_.load(); }
  size_t get_trace_calls() const { return get_trace_calls_.load(); }
  std::vector<size_t> batch_sizes() const;  // documents per successful Write
  size_t document_count() const;

 private:
  const std::unique_ptr<store::Store> engine_ = store::NewMemoryStore();
  mutable Mutex mu_;
  std::vector<size_t> batch_sizes_ GUARDED_BY(mu_);
  Status write_failure_ GUARDED_BY(mu_);
  Status read_failure_ GUARDED_BY(mu_);
  std::function<void()> write_hook_ GUARDED_BY(mu_);
  bool hold_durability_ GUARDED_BY(mu_) = false;
  std::vector<std::function<void()>> durable_pending_ GUARDED_BY(mu_);
  std::atomic<bool> derives_records_{false};
  std::atomic<size_t> write_calls_{0};
  std::atomic<size_t> get_documents_calls_{0};
  std::atomic<size_t> get_trace_calls_{0};
};

}  // namespace roentgen::ingest::testing
