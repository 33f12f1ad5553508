// RocksDbStore::Scan: one bounded iterator over a time-ordered index, the
// filter evaluated on every trace it reads.
//
// Which index: TimeRangeType kEvent walks the event index (updated_us); the
// others walk start-time order: the time index, or, when the filter has a
// condition a secondary index answers (index_plan.h), that index value's
// entries (which are ordered by start time). kService uses start time as well
// (a trace's start is when its services were active). With kEvent no
// secondary index is used (they are ordered by start time, not update time).
// Either way the index only narrows: each trace read is checked against
// searchable_only and the filter before the callback sees it, and each index
// key is one (time, trace id), so no trace comes twice.
//
// Every key in the range is prefix + time (8) + trace id (16), so the time
// range and the resume cursor are just iterator bounds: [prefix+start,
// prefix+end) narrowed to keys after (ascending) or before (descending)
// prefix+cursor. Records are read from the same snapshot as the index, with
// MultiGet in batches of index entries, and decoded into one reused record
// (without its graph when neither the caller nor the filter reads it). A scan
// without an index condition does not fill the block cache.
#include <fmt/format.h>
#include <rocksdb/snapshot.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <vector>

#include "store/record_codec.h"
#include "store/rocksdb/index_plan.h"
#include "store/rocksdb/rocksdb_store_impl.h"

namespace roentgen::store {

Result<ScanProgress> RocksDbStore::Scan(const ScanOptions& options, const ScanCallback& callback) {
  ScanProgress progress;
  Status s = ScanIndex(options, callback, progress);
  if (!s.ok()) return faults_->ReadFailed(std::move(s));
  return progress;
}

Status RocksDbStore::ScanIndex(const ScanOptions& options, const ScanCallback& callback,
                               ScanProgress& progress) {
  if (options.start_us >= options.end_us) return Status::Ok();
  const bool event = options.time_range_type == TimeRangeType::kEvent;
  const filter::CompiledFilter* filter =
      options.filter && !options.filter->MatchesAll() ? options.filter.get() : nullptr;
  std::optional<IndexCondition> condition;
  if (filter != nullptr && !event) condition = ChooseIndex(filter->bound());
  std::string prefix;
  rocksdb::ColumnFamilyHandle* index = cf(event ? rocks::kEventIndex : rocks::kTimeIndex);
  if (condition) {
    auto p = keys::IndexPrefix(*condition);
    if (!p.ok()) return p.status();
    prefix = std::move(*p);
    index = cf(rocks::kSecondaryIndex);
  }
  const bool decode_graph = options.return_graph || (filter != nullptr && filter->NeedsGraph());

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
  if (options.on_snapshot) options.on_snapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot.snapshot();
  const rocksdb::Slice lower_slice(lower);
  const rocksdb::Slice upper_slice(upper);
  ro.iterate_lower_bound = &lower_slice;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, index));

  // Records are fetched with MultiGet, a batch of index entries at a time (one
  // sorted pass over the traces' blocks instead of a lookup per trace). The
  // batch starts small, so a scan that stops early reads few records ahead,
  // and doubles up to kMaxBatch. Every candidate is decoded into one record
  // whose storage is reused.
  constexpr size_t kFirstBatch = 8;
  constexpr size_t kMaxBatch = 128;
  rocksdb::ReadOptions get_options;
  get_options.snapshot = snapshot.snapshot();
  // A scan without an index condition walks every trace of the range: its
  // blocks would only evict what the narrower (repeated) queries keep cached.
  get_options.fill_cache = condition.has_value();
  const size_t key_size = prefix.size() + keys::kTimeSuffixBytes;
  std::vector<int64_t> times;
  std::vector<std::string> trace_keys;
  std::vector<rocksdb::Slice> slices;
  std::vector<rocksdb::PinnableSlice> values(kMaxBatch);
  std::vector<rocksdb::Status> statuses(kMaxBatch);
  TraceRecord record;
  size_t batch = kFirstBatch;
  Status key_error;
  if (options.descending) {
    it->SeekToLast();
  } else {
    it->SeekToFirst();
  }
  // Stops the batch loop at the first trace past max_examined, which is
  // reported (not read).
  const uint64_t max_examined =
      options.max_examined == 0 ? std::numeric_limits<uint64_t>::max() : options.max_examined;
  uint64_t batched = 0;
  while (it->Valid()) {
    times.clear();
    trace_keys.clear();
    for (; it->Valid() && times.size() < batch; options.descending ? it->Prev() : it->Next()) {
      const std::string_view key = it->key().ToStringView();
      int64_t time_us = 0;
      xray::TraceId id;
      if (key.size() != key_size || !keys::DecodeTimeSuffix(key, &time_us, &id)) {
        key_error = Status::Corruption(
            fmt::format("index key of {} bytes, expected {}", key.size(), key_size));
        break;
      }
      if (batched == max_examined) {
        progress.stopped_at = ScanCursor{time_us, id};
        break;
      }
      ++batched;
      times.push_back(time_us);
      trace_keys.push_back(keys::TraceKey(id));
    }
    const size_t n = times.size();
    slices.assign(trace_keys.begin(), trace_keys.end());
    for (size_t i = 0; i < n; ++i) values[i].Reset();
    if (n > 0) {
      db_->MultiGet(get_options, cf(rocks::kTraces), n, slices.data(), values.data(),
                    statuses.data());
    }
    for (size_t i = 0; i < n; ++i) {
      xray::TraceId id;
      std::copy(trace_keys[i].begin(), trace_keys[i].end(), id.bytes.begin());
      const ScanCursor position{times[i], id};
      // An entry left by an undecodable old record has no trace to match.
      if (!statuses[i].IsNotFound()) {
        RG_RETURN_IF_ERROR(FromRocks(statuses[i], "scan: reading a trace"));
        if (Status s = DecodeTraceRecordInto(values[i].ToStringView(), record, decode_graph);
            !s.ok()) {
          return Status::Corruption(fmt::format("trace {}: {}", id.ToString(), s.message()));
        }
        if ((!options.searchable_only || record.summary.indexed) &&
            (filter == nullptr || filter->Matches(record)) && !callback(record, times[i])) {
          progress.stopped_at = position;
          return Status::Ok();
        }
      }
      ++progress.examined;
      progress.last = position;
    }
    if (!key_error.ok()) return key_error;
    if (progress.stopped_at) return Status::Ok();
    batch = std::min(batch * 2, kMaxBatch);
  }
  return FromRocks(it->status(), "scan");
}

}  // namespace roentgen::store
