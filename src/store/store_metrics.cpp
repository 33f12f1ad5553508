#include "store/store_metrics.h"

namespace roentgen::store {

StoreMetrics::StoreMetrics(Store& store, MetricsRegistry& metrics)
    : store_(store),
      traces_(metrics.GetGauge("roentgen_store_traces", "Stored traces (estimate).")),
      documents_(metrics.GetGauge("roentgen_store_documents",
                                  "Stored segment and subsegment documents (estimate).")),
      disk_bytes_(metrics.GetGauge("roentgen_store_disk_bytes",
                                   "Bytes of the store's table files and live write-ahead log.")),
      memtable_bytes_(metrics.GetGauge("roentgen_store_memtable_bytes",
                                       "Written bytes held in memory until flushed.")),
      block_cache_bytes_(
          metrics.GetGauge("roentgen_store_block_cache_bytes",
                           "Memory used by the block cache (table blocks, indexes and filters).")),
      pending_compaction_bytes_(metrics.GetGauge(
          "roentgen_store_pending_compaction_bytes",
          "Bytes compaction must still rewrite; growing without end means ingest outruns it.")),
      running_compactions_(
          metrics.GetGauge("roentgen_store_running_compactions", "Compactions running now.")),
      writes_stalled_(metrics.GetGauge(
          "roentgen_store_writes_stalled",
          "1 while the store slows or stops writes to let compaction catch up.")) {}

void StoreMetrics::Refresh() {
  const StoreStats s = store_.Stats();
  auto set = [](Gauge& g, uint64_t v) { g.Set(static_cast<int64_t>(v)); };
  set(traces_, s.traces);
  set(documents_, s.documents);
  set(disk_bytes_, s.disk_bytes);
  set(memtable_bytes_, s.memtable_bytes);
  set(block_cache_bytes_, s.block_cache_bytes);
  set(pending_compaction_bytes_, s.pending_compaction_bytes);
  set(running_compactions_, s.running_compactions);
  writes_stalled_.Set(s.writes_stalled ? 1 : 0);
}

}  // namespace roentgen::store
