// RocksDbStore::Scan: one bounded iterator over a time-ordered index.
//
// Which index: TimeRangeType kEvent walks the event index (updated_us); the
// others walk start-time order: the time index, or, with options.index, that
// secondary index value's entries (which are ordered by start time). kService
// uses start time as well (a trace's start is when its services were active).
// With kEvent an index condition is not used (secondary indexes are ordered by
// start time, not update time): the scan over-returns and the evaluator
// re-checks, as the Store contract allows.
//
// Every key in the range is prefix + time (8) + trace id (16), so the time
// range and the resume cursor are just iterator bounds: [prefix+start,
// prefix+end) narrowed to keys after (ascending) or before (descending)
// prefix+cursor. Records are read from the same snapshot as the index.
#include <fmt/format.h>
#include <rocksdb/snapshot.h>

#include "store/record_codec.h"
#include "store/rocksdb_store_impl.h"

namespace roentgen::store {

Status RocksDbStore::Scan(const ScanOptions& options, const ScanCallback& callback) {
  if (options.start_us >= options.end_us) return Status::Ok();
  const bool event = options.time_range_type == TimeRangeType::kEvent;
  std::string prefix;
  rocksdb::ColumnFamilyHandle* index = cf(event ? rocks::kEventIndex : rocks::kTimeIndex);
  if (options.index && !event) {
    auto p = keys::IndexPrefix(*options.index);
    if (!p.ok()) return p.status();
    prefix = std::move(*p);
    index = cf(rocks::kSecondaryIndex);
  }

  std::string lower = prefix;
  keys::AppendOrderedInt64(options.start_us, lower);
  std::string upper = prefix;
  keys::AppendOrderedInt64(options.end_us, upper);
  if (options.resume_after) {
    std::string cursor =
        prefix + keys::TimeKey(options.resume_after->time_us, options.resume_after->trace_id);
    if (options.descending) {
      upper = std::min(upper, cursor);  // the bound is exclusive: skips the cursor
    } else {
      cursor.push_back('\0');  // the smallest key after the cursor (keys have one length)
      lower = std::max(lower, cursor);
    }
  }
  if (lower >= upper) return Status::Ok();

  rocksdb::ManagedSnapshot snapshot(db_.get());
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot.snapshot();
  const rocksdb::Slice lower_slice(lower);
  const rocksdb::Slice upper_slice(upper);
  ro.iterate_lower_bound = &lower_slice;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, index));

  rocksdb::ReadOptions get_options;
  get_options.snapshot = snapshot.snapshot();
  rocksdb::PinnableSlice value;
  const size_t key_size = prefix.size() + keys::kTimeSuffixBytes;
  if (options.descending) {
    it->SeekToLast();
  } else {
    it->SeekToFirst();
  }
  for (; it->Valid(); options.descending ? it->Prev() : it->Next()) {
    const std::string_view key = it->key().ToStringView();
    int64_t time_us = 0;
    xray::TraceId id;
    if (key.size() != key_size || !keys::DecodeTimeSuffix(key, &time_us, &id)) {
      return Status::Corruption(
          fmt::format("index key of {} bytes, expected {}", key.size(), key_size));
    }
    value.Reset();
    rocksdb::Status s = db_->Get(get_options, cf(rocks::kTraces), keys::TraceKey(id), &value);
    if (s.IsNotFound()) continue;  // an entry left by an undecodable old record
    RG_RETURN_IF_ERROR(FromRocks(s, "scan: reading a trace"));
    auto record = DecodeTraceRecord(value.ToStringView());
    if (!record.ok()) {
      return Status::Corruption(
          fmt::format("trace {}: {}", id.ToString(), record.status().message()));
    }
    if (!callback(*record, time_us)) return Status::Ok();
  }
  return FromRocks(it->status(), "scan");
}

}  // namespace roentgen::store
