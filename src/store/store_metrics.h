// A store's figures (StoreStats) as Prometheus gauges, roentgen_store_*,
// refreshed when /metrics is scraped: reading them costs a few property
// lookups, too much for every write and nothing at a scrape.
//
// Ownership: borrows the store and the registry (they must outlive it).
// Thread safety: Refresh() may run on several threads at once.
#pragma once

#include "common/metrics.h"
#include "store/store.h"

namespace roentgen::store {

class StoreMetrics {
 public:
  StoreMetrics(Store& store, MetricsRegistry& metrics);
  void Refresh();

 private:
  Store& store_;
  Gauge& traces_;
  Gauge& documents_;
  Gauge& disk_bytes_;
  Gauge& memtable_bytes_;
  Gauge& block_cache_bytes_;
  Gauge& pending_compaction_bytes_;
  Gauge& running_compactions_;
  Gauge& writes_stalled_;
};

}  // namespace roentgen::store
