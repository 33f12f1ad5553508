// The stored data of `roentgen serve` (src/cli/server.h wires the parts):
//
//   StorePart   the data directory and the RocksDB store in it, with the
//               store's gauges for /metrics. Open() creates the directory and
//               opens the store (whose LOCK file keeps a second server out);
//               the destructor closes it, which releases the lock.
//   RollupsPart the service-graph rollups (in memory, kept up to date by the
//               ingest writers) and their rebuild from the store on a thread
//               of its own (rg-rebuild). Start() returns once the rebuild's
//               scan has fixed its snapshot of the store, so the writers,
//               started after, commit nothing the scan could also see
//               (graph/rollup_store.h). StopRebuild() (also run by the
//               destructor) stops the scan if it still runs and joins.
//
// Both are owned by the Server, the store outliving the rollups and both
// outliving the ingest pipeline. Not thread-safe: created and destroyed by
// the controlling thread; the store and rollups themselves are thread-safe.
#pragma once

#include <atomic>
#include <future>
#include <memory>
#include <thread>

#include "cli/serve.h"
#include "common/metrics.h"
#include "common/status.h"
#include "graph/rollup_store.h"
#include "store/store.h"
#include "store/store_metrics.h"

namespace roentgen::cli {

class StorePart {
 public:
  // Errors: IOError (the directory cannot be created), the store's errors
  // (another server holds the lock, a corrupt store, …).
  static Result<std::unique_ptr<StorePart>> Open(const ServeConfig& config,
                                                 MetricsRegistry& metrics);
  ~StorePart() = default;  // closes the store
  StorePart(const StorePart&) = delete;
  StorePart& operator=(const StorePart&) = delete;

  store::Store& store() { return *store_; }
  store::StoreMetrics& metrics() { return *metrics_; }
  int64_t retention_us() const { return retention_us_; }

 private:
  StorePart() = default;
  int64_t retention_us_ = 0;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::StoreMetrics> metrics_;  // after store_: refers to it
};

class RollupsPart {
 public:
  static Result<std::unique_ptr<RollupsPart>> Start(StorePart& store, MetricsRegistry& metrics);
  ~RollupsPart() { StopRebuild(); }
  RollupsPart(const RollupsPart&) = delete;
  RollupsPart& operator=(const RollupsPart&) = delete;

  graph::RollupStore& rollups() { return rollups_; }
  // Idempotent; the rollups stay usable (the map is then answered from
  // trace scans until a rebuild completes, which none will).
  void StopRebuild();

 private:
  RollupsPart(int64_t retention_us, MetricsRegistry& metrics);
  void Rebuild(store::Store& store, int64_t retention_us, std::promise<void>& snapshot);

  graph::RollupStore rollups_;
  Gauge& rebuilding_;
  Gauge& rebuilt_traces_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace roentgen::cli
