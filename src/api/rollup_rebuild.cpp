// Refills the rollups from stored trace records. See rollup_rebuild.h.
#include "api/rollup_rebuild.h"

#include <chrono>
#include <limits>

namespace roentgen::api {

Result<RebuildStats> RebuildRollups(store::Store& store, graph::RollupStore& rollups,
                                    int64_t retention_us, int64_t now_us) {
  const auto started = std::chrono::steady_clock::now();
  rollups.Expire(now_us);  // observations older than the retention are skipped
  store::ScanOptions scan;
  scan.start_us = now_us - retention_us;
  scan.end_us = std::numeric_limits<int64_t>::max();
  scan.time_range_type = store::TimeRangeType::kTraceId;
  scan.descending = false;
  RebuildStats stats;
  Status status = store.Scan(scan, [&](const store::TraceRecord& record, int64_t) {
    rollups.Add(record.graph, +1);
    ++stats.traces;
    return true;
  });
  if (!status.ok()) return status;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return stats;
}

}  // namespace roentgen::api
