#include "store/rocksdb/rocksdb_store.h"

#include <fmt/format.h>
#include <rocksdb/cache.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <unordered_map>

#include "common/disk_space.h"
#include "store/record_codec.h"
#include "store/rocksdb/rocksdb_store_impl.h"

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
  if (resume_check_interval_us <= 0) {
    return Status::InvalidArgument("store resume check interval must be positive");
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
  auto faults = std::make_unique<StoreFaults>(
      config.path, std::chrono::milliseconds(config.resume_check_interval_us / 1000 + 1));
  rocksdb::DBOptions db_options = rocks::MakeDbOptions();
  db_options.listeners.push_back(faults->listener());
  if (config.low_priority_background) {
    for (auto pool : {rocksdb::Env::Priority::LOW, rocksdb::Env::Priority::HIGH}) {
      rocksdb::Status lowered =
          db_options.env->LowerThreadPoolCPUPriority(pool, rocksdb::CpuPriority::kLow);
      if (!lowered.ok()) spdlog::warn("store: background priority: {}", lowered.ToString());
    }
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(db_options, config.path, rocks::MakeColumnFamilies(cache), &handles, &raw);
  if (!s.ok()) return StoreFaults::OpenFailed(s, config.path);
  std::unique_ptr<rocksdb::DB> db(raw);
  if (Status retired = DropRetiredIndexEntries(*db, handles[1 + rocks::kSecondaryIndex]);
      !retired.ok()) {
    for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
    return retired;
  }
  WarnIfLowOnSpace(config.path);
  return std::unique_ptr<Store>(
      new RocksDbStore(config, std::move(faults), std::move(db), std::move(handles)));
}

// A store that opens with little room left soon refuses writes: say so at
// start, beside the listen address, not only when the first write fails.
void RocksDbStore::WarnIfLowOnSpace(const std::string& path) {
  constexpr uint64_t kLow = uint64_t{256} << 20;  // about one write buffer flush of every family
  Result<DiskSpace> space = GetDiskSpace(path);
  if (space.ok() && space->available_bytes < kLow) {
    spdlog::warn("store: little room left ({}); writes are refused while the disk is full",
                 DescribeDiskSpace(path));
  }
}

// Index kinds no longer written (keys::IndexKind::kRetired*) are dropped with
// one range tombstone the first time a store written by an older version is
// opened, before any writer runs; compaction then reclaims their space.
Status RocksDbStore::DropRetiredIndexEntries(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* index) {
  const std::string begin(1, static_cast<char>(keys::IndexKind::kRetiredServiceType));
  const std::string end = keys::PrefixSuccessor(begin);
  rocksdb::ReadOptions ro;
  const rocksdb::Slice upper(end);
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(ro, index));
  it->Seek(begin);
  if (!it->Valid()) return FromRocks(it->status(), "checking for retired index entries");
  it.reset();
  spdlog::info("store: removing the retired service+type index entries (kind 0x03)");
  return FromRocks(db.DeleteRange(rocksdb::WriteOptions(), index, begin, end),
                   "removing retired index entries");
}

RocksDbStore::RocksDbStore(const RocksDbStoreConfig& config, std::unique_ptr<StoreFaults> faults,
                           std::unique_ptr<rocksdb::DB> db,
                           std::vector<rocksdb::ColumnFamilyHandle*> handles)
    : config_(config),
      faults_(std::move(faults)),
      db_(std::move(db)),
      handles_(std::move(handles)) {
  for (size_t i = 0; i < rocks::kCfCount; ++i) cfs_[i] = handles_[i + 1];
  faults_->Start(db_.get());
  retention_ = std::make_unique<PeriodicThread>(
      "rg-retention", std::chrono::microseconds(config_.retention_interval_us),
      [this] { RunRetention(); });
}

RocksDbStore::~RocksDbStore() {
  stopping_ = true;
  retention_.reset();
  faults_->Stop();  // before Close: it may be resuming the DB
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

namespace {

// The operations of one Write, collected before they go into the RocksDB batch
// so that each column family's keys can be inserted in key order: the memtable
// skip list then reuses its last insert position (nearly sequential inserts
// instead of one full search per key, the largest ingest cost). Keys and values
// live in two arenas; the sort is stable, so a Put and a Delete of the same key
// keep their order.
class SortedOps {
 public:
  void Put(size_t cf, std::string_view key, std::string_view value) { Add(cf, false, key, value); }
  void Delete(size_t cf, std::string_view key) { Add(cf, true, key, {}); }
  // Values are encoded straight into the arena: note its size, append the
  // value, then call PutEncoded with the noted size.
  std::string& value_arena() { return values_; }
  void Reserve(size_t ops, size_t key_bytes, size_t value_bytes) {
    ops_.reserve(ops);
    keys_.reserve(key_bytes);
    values_.reserve(value_bytes);
  }
  void PutEncoded(size_t cf, std::string_view key, size_t value_begin) {
    Op op{cf, false, keys_.size(), key.size(), value_begin, values_.size() - value_begin};
    keys_.append(key);
    ops_.push_back(op);
  }

  Status Emit(const std::array<rocksdb::ColumnFamilyHandle*, rocks::kCfCount>& cfs,
              rocksdb::WriteBatch& wb) {
    std::stable_sort(ops_.begin(), ops_.end(), [this](const Op& a, const Op& b) {
      if (a.cf != b.cf) return a.cf < b.cf;
      return Key(a).compare(Key(b)) < 0;
    });
    for (const Op& op : ops_) {
      rocksdb::Status s =
          op.del ? wb.Delete(cfs[op.cf], Key(op)) : wb.Put(cfs[op.cf], Key(op), Value(op));
      if (!s.ok()) return FromRocks(s, "store write");
    }
    return Status::Ok();
  }

  // Bytes the RocksDB batch will need (keys, values, and per-record headers).
  size_t EstimatedBytes() const { return keys_.size() + values_.size() + ops_.size() * 16 + 64; }

 private:
  struct Op {
    size_t cf;
    bool del;
    size_t key_at, key_len, value_at, value_len;
  };
  void Add(size_t cf, bool del, std::string_view key, std::string_view value) {
    ops_.push_back(Op{cf, del, keys_.size(), key.size(), values_.size(), value.size()});
    keys_.append(key);
    values_.append(value);
  }
  rocksdb::Slice Key(const Op& op) const { return {keys_.data() + op.key_at, op.key_len}; }
  rocksdb::Slice Value(const Op& op) const { return {values_.data() + op.value_at, op.value_len}; }

  std::vector<Op> ops_;
  std::string keys_;
  std::string values_;
};

rocks::Cf IndexCf(keys::IndexFamily family) {
  switch (family) {
    case keys::IndexFamily::kTime:
      return rocks::kTimeIndex;
    case keys::IndexFamily::kEvent:
      return rocks::kEventIndex;
    case keys::IndexFamily::kSecondary:
      break;
  }
  return rocks::kSecondaryIndex;
}

}  // namespace

Status RocksDbStore::Write(WriteBatch batch) {
  Status s = Apply(batch);
  // The write's WAL is synced (or as durable as sync_writes makes it) when
  // it returns; the stripes' locks are released by now.
  if (s.ok() && batch.on_durable) batch.on_durable();
  return s;
}

Status RocksDbStore::Apply(const WriteBatch& batch) {
  if (batch.documents.empty() && batch.traces.empty()) return Status::Ok();
  SortedOps ops;
  size_t document_bytes = 0;
  for (const auto& doc : batch.documents) document_bytes += doc.raw.size() + kDocumentHeaderBytes;
  // Typical traces: about 16 index entries of about 40 bytes, records of ~1 KB.
  ops.Reserve(batch.documents.size() + 18 * batch.traces.size(),
              keys::kTraceIdBytes * batch.documents.size() + 700 * batch.traces.size(),
              document_bytes + 1024 * batch.traces.size());
  for (const auto& doc : batch.documents) {
    const size_t begin = ops.value_arena().size();
    EncodeDocumentValue(doc.received_us, doc.raw, ops.value_arena());
    ops.PutEncoded(rocks::kDocuments, keys::DocumentKey(doc.trace_id, doc.entity_id), begin);
  }

  std::vector<xray::TraceId> ids;
  ids.reserve(batch.traces.size());
  for (const auto& record : batch.traces) ids.push_back(record.summary.id);
  auto locks = LockStripes(ids);

  // A trace may appear twice in one batch: the later record replaces the earlier.
  std::unordered_map<xray::TraceId, const TraceRecord*, xray::TraceIdHash> in_batch;
  in_batch.reserve(batch.traces.size());
  rocksdb::PinnableSlice old_value;
  std::vector<keys::IndexEntry> stale;
  std::vector<keys::IndexEntry> added;
  for (size_t i = 0; i < batch.traces.size(); ++i) {
    const TraceRecord& record = batch.traces[i];
    const bool known_new = i < batch.new_traces.size() && batch.new_traces[i];
    const std::string trace_key = keys::TraceKey(record.summary.id);
    std::vector<keys::IndexEntry> old_entries;
    if (auto it = in_batch.find(record.summary.id); it != in_batch.end()) {
      old_entries = keys::IndexEntriesFor(it->second->summary);
    } else if (!known_new) {
      old_value.Reset();
      rocksdb::Status s =
          db_->Get(rocksdb::ReadOptions(), cf(rocks::kTraces), trace_key, &old_value);
      if (s.ok()) {
        // An undecodable old record leaves its index entries behind; they only
        // make scans over-return, which the query evaluator tolerates.
        auto old = DecodeTraceRecord(old_value.ToStringView());
        if (old.ok()) old_entries = keys::IndexEntriesFor(old->summary);
      } else if (!s.IsNotFound()) {
        return faults_->ReadFailed(FromRocks(s, "store write: reading the old trace record"));
      }
    }
    const std::vector<keys::IndexEntry> new_entries = keys::IndexEntriesFor(record.summary);
    stale.clear();
    std::set_difference(old_entries.begin(), old_entries.end(), new_entries.begin(),
                        new_entries.end(), std::back_inserter(stale));
    added.clear();
    std::set_difference(new_entries.begin(), new_entries.end(), old_entries.begin(),
                        old_entries.end(), std::back_inserter(added));
    for (const auto& e : stale) ops.Delete(IndexCf(e.family), e.key);
    for (const auto& e : added) ops.Put(IndexCf(e.family), e.key, {});
    const size_t begin = ops.value_arena().size();
    EncodeTraceRecord(record, ops.value_arena());
    ops.PutEncoded(rocks::kTraces, trace_key, begin);
    in_batch[record.summary.id] = &record;
  }
  rocksdb::WriteBatch wb(ops.EstimatedBytes());
  RG_RETURN_IF_ERROR(ops.Emit(cfs_, wb));
  return faults_->Guarded("store write", [&] { return db_->Write(write_options(), &wb); });
}

Result<std::vector<StoredDocument>> RocksDbStore::GetDocuments(const xray::TraceId& id) {
  Result<std::vector<StoredDocument>> docs = ReadDocuments(id);
  if (!docs.ok()) return faults_->ReadFailed(docs.status());
  return docs;
}

Result<TraceRecord> RocksDbStore::GetTrace(const xray::TraceId& id) {
  Result<TraceRecord> record = ReadTrace(id);
  if (!record.ok()) return faults_->ReadFailed(record.status());
  return record;
}

Result<std::vector<StoredDocument>> RocksDbStore::ReadDocuments(const xray::TraceId& id) {
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

Result<TraceRecord> RocksDbStore::ReadTrace(const xray::TraceId& id) {
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
  // 0 when RocksDB cannot give the figure. DB-wide properties are read
  // through the default column family.
  auto property = [this](rocksdb::ColumnFamilyHandle* handle, const std::string& name) {
    uint64_t v = 0;
    return db_->GetIntProperty(handle, name, &v) ? v : 0;
  };
  rocksdb::ColumnFamilyHandle* const db_wide = db_->DefaultColumnFamily();
  using P = rocksdb::DB::Properties;
  stats.documents = property(cf(rocks::kDocuments), P::kEstimateNumKeys);
  stats.traces = property(cf(rocks::kTraces), P::kEstimateNumKeys);
  for (auto* handle : handles_) {
    stats.disk_bytes += property(handle, P::kTotalSstFilesSize);
    stats.unflushed_bytes += property(handle, P::kCurSizeAllMemTables);
    stats.backlog_bytes += property(handle, P::kEstimatePendingCompactionBytes);
  }
  rocksdb::VectorLogPtr wals;
  if (db_->GetSortedWalFiles(wals).ok()) {
    for (const auto& wal : wals) {
      if (wal->Type() == rocksdb::kAliveLogFile) stats.disk_bytes += wal->SizeFileBytes();
    }
  }
  // One cache serves every column family (rocksdb_options.cpp).
  stats.read_cache_bytes = property(cf(rocks::kDocuments), P::kBlockCacheUsage);
  stats.background_jobs = property(db_wide, P::kNumRunningCompactions);
  stats.writes_stalled = property(db_wide, P::kIsWriteStopped) != 0 ||
                         property(db_wide, P::kActualDelayedWriteRate) != 0;
  const StoreFaults::State faults = faults_->state();
  stats.read_only = faults.read_only;
  stats.disk_full = faults.disk_full;
  stats.write_errors = faults.write_errors;
  stats.read_errors = faults.read_errors;
  return stats;
}

}  // namespace roentgen::store
