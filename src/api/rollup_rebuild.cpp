// Refills the rollups from stored trace records. See rollup_rebuild.h.
#include "api/rollup_rebuild.h"

#include <chrono>
#include <limits>

namespace roentgen::api {

Result<RebuildStats> RebuildRollups(store::Store& store, graph::RollupStore& rollups,
                                    int64_t retention_us, int64_t now_us,
                                    const std::atomic<bool>* stop,
                                    const std::function<void()>& on_snapshot) {
  const auto started = std::chrono::steady_clock::now();
  rollups.BeginRebuild();  // a no-op if the caller has begun it
  rollups.Expire(now_us);  // observations older than the retention are skipped
  store::ScanOptions scan;
  scan.start_us = now_us - retention_us;
  scan.end_us = std::numeric_limits<int64_t>::max();
  scan.time_range_type = store::TimeRangeType::kTraceId;
  // Ascending (start time, trace id): the order RollupStore::AddRebuilt needs.
  scan.descending = false;
  scan.return_graph = true;  // rolled up
  bool snapshot_taken = false;
  scan.on_snapshot = [&] {
    snapshot_taken = true;
    if (on_snapshot) on_snapshot();
  };
  RebuildStats stats;
  bool stopped = false;
  Result<store::ScanProgress> scanned =
      store.Scan(scan, [&](const store::TraceRecord& record, int64_t start_us) {
        if (stop != nullptr && stop->load(std::memory_order_relaxed)) {
          stopped = true;
          return false;
        }
        rollups.AddRebuilt(record.graph, start_us, record.summary.id);
        ++stats.traces;
        return true;
      });
  if (!snapshot_taken && on_snapshot) on_snapshot();
  if (!scanned.ok()) {
    rollups.AbandonRebuild();
    return scanned.status();
  }
  if (stopped) return Status::Unavailable("service-graph rollup rebuild stopped (shutting down)");
  rollups.EndRebuild();
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return stats;
}

}  // namespace roentgen::api
