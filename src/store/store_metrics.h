// A store's figures (StoreStats) as Prometheus gauges, roentgen_store_*
// (named in the embedded engine's words, kept for the dashboards that use
// them: memtable_bytes is StoreStats::unflushed_bytes, block_cache_bytes
// read_cache_bytes, pending_compaction_bytes backlog_bytes,
// running_compactions background_jobs; 0 from an engine without them),
// refreshed when /metrics is scraped: reading them costs a few property
// lookups, too much for every write and nothing at a scrape. Its faults:
// roentgen_store_write_errors_total{reason="disk_full|io_error|corruption"},
// roentgen_store_read_errors_total{reason="corruption|io_error"},
// roentgen_store_read_only, and roentgen_disk_full{component="store"}
// (counters brought up to the store's counts at each refresh).
//
// Ownership: borrows the store and the registry (they must outlive it).
// Thread safety: Refresh() may run on several threads at once.
#pragma once

#include <array>
#include <mutex>

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
  Gauge& unflushed_bytes_;
  Gauge& read_cache_bytes_;
  Gauge& backlog_bytes_;
  Gauge& background_jobs_;
  Gauge& writes_stalled_;
  Gauge& read_only_;
  Gauge& disk_full_;
  std::array<Counter*, 3> write_errors_;  // disk_full, io_error, corruption
  std::array<Counter*, 2> read_errors_;   // corruption, io_error
  std::mutex counters_mu_;                // one refresh at a time moves the counters
};

}  // namespace roentgen::store
