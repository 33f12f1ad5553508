// RocksDbStore retention: DeleteOlderThan and the background thread that runs
// it every config.retention_interval_us against config.clock.
//
// A pass walks the time index from its oldest entry up to the cutoff in
// batches of kRetentionBatch traces. Each batch locks its traces' stripes,
// re-reads each record (a writer may have changed it since the index was
// read), and deletes in one WriteBatch the record, every index entry it
// produces, its documents and the time-index entry seen. Afterwards the head
// of the time index, now all tombstones, is compacted away so the next pass
// and ascending scans do not step over them. (Range deletes are not used:
// concurrent writers may add keys inside a trace's document range or a time
// range at any moment, and point deletes keep those intact.)
#include <fmt/format.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "store/record_codec.h"
#include "store/rocksdb/rocksdb_store_impl.h"

namespace roentgen::store {
namespace {

constexpr size_t kRetentionBatch = 1000;

}  // namespace

Status RocksDbStore::DeleteDocuments(const xray::TraceId& id, rocksdb::WriteBatch& batch) {
  const std::string lower = keys::TraceKey(id);
  const std::string upper = keys::PrefixSuccessor(lower);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.prefix_same_as_start = true;
  if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(rocks::kDocuments)));
  for (it->Seek(lower); it->Valid() && it->key().starts_with(lower); it->Next()) {
    RG_RETURN_IF_ERROR(FromRocks(batch.Delete(cf(rocks::kDocuments), it->key()), "retention"));
  }
  return FromRocks(it->status(), "retention: listing documents");
}

Status RocksDbStore::DeleteOlderThanBatch(int64_t cutoff_us, size_t limit, size_t& seen) {
  seen = 0;
  std::string upper;
  keys::AppendOrderedInt64(cutoff_us, upper);
  const rocksdb::Slice upper_slice(upper);
  std::vector<std::string> time_keys;
  std::vector<xray::TraceId> ids;
  {
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(rocks::kTimeIndex)));
    for (it->SeekToFirst(); it->Valid() && time_keys.size() < limit; it->Next()) {
      int64_t time_us = 0;
      xray::TraceId id;
      if (it->key().size() != keys::kTimeSuffixBytes ||
          !keys::DecodeTimeSuffix(it->key().ToStringView(), &time_us, &id)) {
        return Status::Corruption(fmt::format("time index key of {} bytes, expected {}",
                                              it->key().size(), keys::kTimeSuffixBytes));
      }
      time_keys.push_back(it->key().ToString());
      ids.push_back(id);
    }
    RG_RETURN_IF_ERROR(FromRocks(it->status(), "retention: reading the time index"));
  }
  if (ids.empty()) return Status::Ok();

  auto locks = LockStripes(ids);
  rocksdb::WriteBatch wb;
  rocksdb::PinnableSlice value;
  for (size_t i = 0; i < ids.size(); ++i) {
    // The entry seen: stale if the trace moved, else also among the record's.
    RG_RETURN_IF_ERROR(FromRocks(wb.Delete(cf(rocks::kTimeIndex), time_keys[i]), "retention"));
    const std::string trace_key = keys::TraceKey(ids[i]);
    value.Reset();
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(rocks::kTraces), trace_key, &value);
    if (s.IsNotFound()) continue;
    RG_RETURN_IF_ERROR(FromRocks(s, "retention: reading a trace"));
    auto record = DecodeTraceRecord(value.ToStringView());
    if (record.ok()) {
      if (record->summary.start_time_us >= cutoff_us) continue;  // rewritten meanwhile
      for (const auto& e : keys::IndexEntriesFor(record->summary)) {
        RG_RETURN_IF_ERROR(FromRocks(wb.Delete(cf(e.family), e.key), "retention"));
      }
    }
    RG_RETURN_IF_ERROR(DeleteDocuments(ids[i], wb));
    RG_RETURN_IF_ERROR(FromRocks(wb.Delete(cf(rocks::kTraces), trace_key), "retention"));
  }
  RG_RETURN_IF_ERROR(
      faults_->Guarded("retention: deleting", [&] { return db_->Write(write_options(), &wb); }));
  seen = ids.size();
  return Status::Ok();
}

Status RocksDbStore::DeleteOlderThan(int64_t cutoff_us) {
  bool any = false;
  for (;;) {
    if (stopping_) return Status::Unavailable("store is closing");
    size_t seen = 0;
    RG_RETURN_IF_ERROR(DeleteOlderThanBatch(cutoff_us, kRetentionBatch, seen));
    if (seen > 0) any = true;
    if (seen < kRetentionBatch) break;
  }
  if (!any) return Status::Ok();
  std::string end;
  keys::AppendOrderedInt64(cutoff_us, end);
  const rocksdb::Slice end_slice(end);
  rocksdb::CompactRangeOptions options;
  return FromRocks(db_->CompactRange(options, cf(rocks::kTimeIndex), nullptr, &end_slice),
                   "retention: compacting the time index");
}

void RocksDbStore::RunRetention() {
  const int64_t cutoff = config_.clock->NowMicros() - config_.retention_us;
  Status s = DeleteOlderThan(cutoff);
  if (!s.ok() && s.code() != StatusCode::kUnavailable) {
    spdlog::warn("store retention (cutoff {} us) failed: {}", cutoff, s.ToString());
  }
}

}  // namespace roentgen::store
