#include "store/rocksdb_store.h"

#include <fmt/format.h>
#include <rocksdb/cache.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include "store/record_codec.h"
#include "store/rocksdb_store_impl.h"

namespace roentgen::store {

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string message = fmt::format("{}: {}", what, s.ToString());
  if (s.IsNotFound()) return Status::NotFound(std::move(message));
  if (s.IsCorruption()) return Status::Corruption(std::move(message));
  if (s.IsInvalidArgument() || s.IsNotSupported()) {
    return Status::InvalidArgument(std::move(message));
  }
  if (s.IsShutdownInProgress() || s.IsBusy() || s.IsTryAgain()) {
    return Status::Unavailable(std::move(message));
  }
  return Status::IOError(std::move(message));
}

Status RocksDbStoreConfig::Validate() const {
  if (path.empty()) return Status::InvalidArgument("store path must not be empty");
  if (retention_us <= 0) return Status::InvalidArgument("store retention must be positive");
  if (retention_interval_us <= 0) {
    return Status::InvalidArgument("store retention interval must be positive");
  }
  if (block_cache_bytes == 0) return Status::InvalidArgument("store block cache must not be 0");
  if (clock == nullptr) return Status::InvalidArgument("store clock must be set");
  return Status::Ok();
}

Result<std::unique_ptr<Store>> OpenRocksDbStore(const RocksDbStoreConfig& config) {
  return RocksDbStore::Open(config);
}

Result<std::unique_ptr<Store>> RocksDbStore::Open(const RocksDbStoreConfig& config) {
  RG_RETURN_IF_ERROR(config.Validate());
  std::error_code ec;
  std::filesystem::create_directories(config.path, ec);
  if (ec) {
    return Status::IOError(
        fmt::format("cannot create store directory {}: {}", config.path, ec.message()));
  }
  auto cache = rocksdb::NewLRUCache(config.block_cache_bytes);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(rocks::MakeDbOptions(), config.path,
                                        rocks::MakeColumnFamilies(cache), &handles, &raw);
  if (!s.ok()) return FromRocks(s, fmt::format("cannot open store at {}", config.path));
  return std::unique_ptr<Store>(
      new RocksDbStore(config, std::unique_ptr<rocksdb::DB>(raw), std::move(handles)));
}

RocksDbStore::RocksDbStore(const RocksDbStoreConfig& config, std::unique_ptr<rocksdb::DB> db,
                           std::vector<rocksdb::ColumnFamilyHandle*> handles)
    : config_(config), db_(std::move(db)), handles_(std::move(handles)) {
  for (size_t i = 0; i < rocks::kCfCount; ++i) cfs_[i] = handles_[i + 1];
  retention_thread_ = std::thread([this] { RetentionLoop(); });
}

RocksDbStore::~RocksDbStore() {
  {
    std::lock_guard lock(retention_mu_);
    stopping_ = true;
  }
  retention_cv_.notify_all();
  retention_thread_.join();
  for (auto* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
  db_->Close();
}

rocksdb::ColumnFamilyHandle* RocksDbStore::cf(keys::IndexFamily family) const {
  switch (family) {
    case keys::IndexFamily::kTime:
      return cf(rocks::kTimeIndex);
    case keys::IndexFamily::kEvent:
      return cf(rocks::kEventIndex);
    case keys::IndexFamily::kSecondary:
      break;
  }
  return cf(rocks::kSecondaryIndex);
}

rocksdb::WriteOptions RocksDbStore::write_options() const {
  rocksdb::WriteOptions o;
  o.sync = config_.sync_writes;
  return o;
}

std::vector<std::unique_lock<std::mutex>> RocksDbStore::LockStripes(
    const std::vector<xray::TraceId>& ids) {
  std::vector<size_t> stripes;
  stripes.reserve(ids.size());
  for (const auto& id : ids) stripes.push_back(xray::TraceIdHash()(id) % kStripes);
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(stripes.size());
  for (size_t s : stripes) locks.emplace_back(stripes_[s]);
  return locks;
}

Status RocksDbStore::Write(const WriteBatch& batch) {
  if (batch.documents.empty() && batch.traces.empty()) return Status::Ok();
  rocksdb::WriteBatch wb;
  std::string buffer;
  for (const auto& doc : batch.documents) {
    buffer.clear();
    EncodeDocumentValue(doc.received_us, doc.raw, buffer);
    rocksdb::Status s =
        wb.Put(cf(rocks::kDocuments), keys::DocumentKey(doc.trace_id, doc.entity_id), buffer);
    if (!s.ok()) return FromRocks(s, "store write");
  }

  std::vector<xray::TraceId> ids;
  ids.reserve(batch.traces.size());
  for (const auto& record : batch.traces) ids.push_back(record.summary.id);
  auto locks = LockStripes(ids);

  // A trace may appear twice in one batch: the later record replaces the earlier.
  std::unordered_map<xray::TraceId, const TraceRecord*, xray::TraceIdHash> in_batch;
  rocksdb::PinnableSlice old_value;
  for (const auto& record : batch.traces) {
    const std::string trace_key = keys::TraceKey(record.summary.id);
    std::vector<keys::IndexEntry> old_entries;
    if (auto it = in_batch.find(record.summary.id); it != in_batch.end()) {
      old_entries = keys::IndexEntriesFor(it->second->summary);
    } else {
      old_value.Reset();
      rocksdb::Status s =
          db_->Get(rocksdb::ReadOptions(), cf(rocks::kTraces), trace_key, &old_value);
      if (s.ok()) {
        // An undecodable old record leaves its index entries behind; they only
        // make scans over-return, which the query evaluator tolerates.
        auto old = DecodeTraceRecord(old_value.ToStringView());
        if (old.ok()) old_entries = keys::IndexEntriesFor(old->summary);
      } else if (!s.IsNotFound()) {
        return FromRocks(s, "store write: reading the old trace record");
      }
    }
    const std::vector<keys::IndexEntry> new_entries = keys::IndexEntriesFor(record.summary);
    std::vector<keys::IndexEntry> stale;
    std::set_difference(old_entries.begin(), old_entries.end(), new_entries.begin(),
                        new_entries.end(), std::back_inserter(stale));
    std::vector<keys::IndexEntry> added;
    std::set_difference(new_entries.begin(), new_entries.end(), old_entries.begin(),
                        old_entries.end(), std::back_inserter(added));
    for (const auto& e : stale) {
      rocksdb::Status s = wb.Delete(cf(e.family), e.key);
      if (!s.ok()) return FromRocks(s, "store write");
    }
    for (const auto& e : added) {
      rocksdb::Status s = wb.Put(cf(e.family), e.key, rocksdb::Slice());
      if (!s.ok()) return FromRocks(s, "store write");
    }
    buffer.clear();
    EncodeTraceRecord(record, buffer);
    rocksdb::Status s = wb.Put(cf(rocks::kTraces), trace_key, buffer);
    if (!s.ok()) return FromRocks(s, "store write");
    in_batch[record.summary.id] = &record;
  }
  return FromRocks(db_->Write(write_options(), &wb), "store write");
}

Result<std::vector<StoredDocument>> RocksDbStore::GetDocuments(const xray::TraceId& id) {
  const std::string lower = keys::TraceKey(id);
  const std::string upper = keys::PrefixSuccessor(lower);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.prefix_same_as_start = true;
  if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(rocks::kDocuments)));
  std::vector<StoredDocument> docs;
  for (it->Seek(lower); it->Valid() && it->key().starts_with(lower); it->Next()) {
    const rocksdb::Slice key = it->key();
    if (key.size() != keys::kTraceIdBytes + keys::kEntityIdBytes) {
      return Status::Corruption(
          fmt::format("document key of trace {} has {} bytes", id.ToString(), key.size()));
    }
    auto value = DecodeDocumentValue(it->value().ToStringView());
    if (!value.ok()) {
      return Status::Corruption(
          fmt::format("trace {}: {}", id.ToString(), value.status().message()));
    }
    docs.push_back(
        StoredDocument{xray::SegmentId::FromBinary(reinterpret_cast<const uint8_t*>(key.data()) +
                                                   keys::kTraceIdBytes),
                       value->received_us, std::string(value->raw)});
  }
  RG_RETURN_IF_ERROR(FromRocks(it->status(), "reading documents"));
  return docs;
}

Result<TraceRecord> RocksDbStore::GetTrace(const xray::TraceId& id) {
  rocksdb::PinnableSlice value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf(rocks::kTraces), keys::TraceKey(id), &value);
  if (s.IsNotFound()) return Status::NotFound(fmt::format("trace {} not found", id.ToString()));
  RG_RETURN_IF_ERROR(FromRocks(s, "reading a trace"));
  auto record = DecodeTraceRecord(value.ToStringView());
  if (!record.ok()) {
    return Status::Corruption(
        fmt::format("trace {}: {}", id.ToString(), record.status().message()));
  }
  return record;
}

StoreStats RocksDbStore::Stats() {
  StoreStats stats;
  uint64_t v = 0;
  if (db_->GetIntProperty(cf(rocks::kDocuments), rocksdb::DB::Properties::kEstimateNumKeys, &v)) {
    stats.documents = v;
  }
  if (db_->GetIntProperty(cf(rocks::kTraces), rocksdb::DB::Properties::kEstimateNumKeys, &v)) {
    stats.traces = v;
  }
  for (auto* handle : handles_) {
    if (db_->GetIntProperty(handle, rocksdb::DB::Properties::kTotalSstFilesSize, &v)) {
      stats.disk_bytes += v;
    }
  }
  rocksdb::VectorLogPtr wals;
  if (db_->GetSortedWalFiles(wals).ok()) {
    for (const auto& wal : wals) {
      if (wal->Type() == rocksdb::kAliveLogFile) stats.disk_bytes += wal->SizeFileBytes();
    }
  }
  return stats;
}

}  // namespace roentgen::store
