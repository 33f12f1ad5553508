// RocksDbStore: the Store implementation behind OpenRocksDbStore. Private to
// src/store; split over rocksdb_store.cpp (open, write, point reads, config,
// stats), rocksdb_scan.cpp (Scan) and rocksdb_retention.cpp (retention).
//
// Thread safety: every public method may run concurrently. Updates of one
// trace's record and indexes (Write, retention) hold that trace's lock stripe
// while they read the old record and commit the new batch, so index entries
// never go stale; batches over different stripes commit concurrently and share
// RocksDB's group-committed WAL writes. Reads use snapshots, no locks.
#pragma once

#include <rocksdb/db.h>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/periodic_thread.h"
#include "store/rocksdb/rocksdb_faults.h"
#include "store/rocksdb/rocksdb_options.h"
#include "store/rocksdb/rocksdb_store.h"
#include "store/rocksdb/store_keys.h"

namespace roentgen::store {

// Maps a RocksDB status to ours, prefixing the message with `what`.
Status FromRocks(const rocksdb::Status& s, std::string_view what);

class RocksDbStore final : public Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const RocksDbStoreConfig& config);
  ~RocksDbStore() override;

  Status Write(WriteBatch batch) override;
  Result<std::vector<StoredDocument>> GetDocuments(const xray::TraceId& id) override;
  Result<TraceRecord> GetTrace(const xray::TraceId& id) override;
  Result<ScanProgress> Scan(const ScanOptions& options, const ScanCallback& callback) override;
  Status PutConfig(std::string_view ns, std::string_view key, std::string_view value) override;
  Result<std::string> GetConfig(std::string_view ns, std::string_view key) override;
  Status DeleteConfig(std::string_view ns, std::string_view key) override;
  Result<std::vector<std::pair<std::string, std::string>>> ListConfig(std::string_view ns) override;
  Status DeleteOlderThan(int64_t cutoff_us) override;
  StoreStats Stats() override;
  Status Checkpoint(const std::string& dir) override;  // rocksdb_checkpoint.cpp

 private:
  // Write's work, under the trace stripes' locks; durable on return (synced WAL).
  Status Apply(const WriteBatch& batch);
  static constexpr size_t kStripes = 64;

  RocksDbStore(const RocksDbStoreConfig& config, std::unique_ptr<StoreFaults> faults,
               std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> handles);

  rocksdb::ColumnFamilyHandle* cf(rocks::Cf which) const { return cfs_[which]; }
  rocksdb::ColumnFamilyHandle* cf(keys::IndexFamily family) const;
  rocksdb::WriteOptions write_options() const;
  static void WarnIfLowOnSpace(const std::string& path);
  static Status DropRetiredIndexEntries(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* index);

  // Locks the stripes of `ids` in ascending order (no deadlock between batches).
  std::vector<std::unique_lock<std::mutex>> LockStripes(const std::vector<xray::TraceId>& ids);

  // Adds deletes of every document of `id` to `batch`.
  Status DeleteDocuments(const xray::TraceId& id, rocksdb::WriteBatch& batch);
  // Deletes the traces of up to `limit` time-index entries before `cutoff_us`;
  // sets `seen` to the number of entries handled (< limit: none are left).
  Status DeleteOlderThanBatch(int64_t cutoff_us, size_t limit, size_t& seen);
  // The public reads, before their failures are counted (faults_->ReadFailed).
  Result<std::vector<StoredDocument>> ReadDocuments(const xray::TraceId& id);
  Result<TraceRecord> ReadTrace(const xray::TraceId& id);
  Status ScanIndex(const ScanOptions& options, const ScanCallback& callback,
                   ScanProgress& progress);
  void RunRetention();

  RocksDbStoreConfig config_;
  // Declared before db_: the DB's listener points into it, so it is
  // destroyed after the DB is closed.
  std::unique_ptr<StoreFaults> faults_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // "default" first; owned
  std::array<rocksdb::ColumnFamilyHandle*, rocks::kCfCount> cfs_{};
  std::array<std::mutex, kStripes> stripes_;
  std::mutex config_mu_;  // makes DeleteConfig's check-then-delete atomic

  // Set at destruction: a retention run in progress stops between batches.
  std::atomic<bool> stopping_{false};
  std::unique_ptr<PeriodicThread> retention_;  // last: its runs use the fields above
};

}  // namespace roentgen::store
