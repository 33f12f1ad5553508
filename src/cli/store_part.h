// The stored data of `roentgen serve` (src/cli/server.h wires the parts):
//
//   StorePart   the data directory and the store in it, of the engine
//               --store-engine names (rocksdb or block), or the database
//               --store names (clickhouse://…, shared with other servers;
//               the data dir then holds only this server's spools), with the store's
//               gauges for /metrics. Open() creates the directory, refuses a
//               data dir that holds the other engine's store, and opens the
//               store (whose lock keeps a second server out); the destructor
//               closes it, which releases the lock. Each engine runs
//               retention on a thread of its own (rg-retention).
//   RollupsPart the service-graph rollups (in memory, kept up to date by the
//               ingest writers), loaded at start from what the store
//               persists when its engine keeps them (the block engine:
//               Store::LoadRollups; no rebuild then), otherwise rebuilt from
//               the store on a thread of its own (rg-rebuild). Start()
//               returns once the rollups are loaded or the rebuild's scan
//               has fixed its snapshot of the store, so the writers, started
//               after, commit nothing counted twice (graph/rollup_store.h).
//               StopRebuild() (also run by the destructor) stops the scan if
//               it still runs and joins. Over a store shared with other
//               servers (Store::DerivesRecords) no rollups are kept: they
//               would lack the other servers' traces, so service maps are
//               answered from scans.
//
// Both are owned by the Server, the store outliving the rollups and both
// outliving the ingest pipeline. Not thread-safe: created and destroyed by
// the controlling thread; the store and rollups themselves are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "cli/serve.h"
#include "common/metrics.h"
#include "common/status.h"
#include "graph/rollup_store.h"
#include "store/store.h"
#include "store/store_metrics.h"

namespace roentgen::cli {

// The storage engines (docs/storage.md). A data dir's files say which one
// wrote it: RocksDB's CURRENT at its top, or the block engine's blocks/ and
// config/ (store/block/block_store.h) there.
// kClickHouse: a database that several servers share (--store), not a data
// dir's files.
enum class StoreEngine { kRocksDb, kBlock, kClickHouse };

const char* StoreEngineName(StoreEngine engine);  // "rocksdb", "block", "clickhouse"
// Errors: InvalidArgument naming --store-engine and the engines.
Result<StoreEngine> ParseStoreEngine(const std::string& name);

// The engine whose store `data_dir` holds; nullopt when it holds none (it is
// new, or missing). Errors: InvalidArgument when it holds both engines' files.
Result<std::optional<StoreEngine>> DetectStoreEngine(const std::string& data_dir);

// Opens the store of `engine` in `data_dir` with the serve options that apply
// to it (retention, indexing priority). Refuses a data dir that holds
// the other engine's store: InvalidArgument naming both engines and the way
// out. Otherwise the engine's errors.
Result<std::unique_ptr<store::Store>> OpenStore(StoreEngine engine, const std::string& data_dir,
                                                const ServeConfig& config);

class StorePart {
 public:
  // Errors: IOError (the directory cannot be created), the store's errors
  // (another server holds the lock, a corrupt store, …).
  static Result<std::unique_ptr<StorePart>> Open(const ServeConfig& config,
                                                 MetricsRegistry& metrics);
  ~StorePart();  // closes the store
  StorePart(const StorePart&) = delete;
  StorePart& operator=(const StorePart&) = delete;

  store::Store& store() { return *store_; }
  store::StoreMetrics& metrics() { return *metrics_; }
  int64_t retention_us() const { return retention_us_; }
  StoreEngine engine() const { return engine_; }
  // For the log: "data dir D (rocksdb engine)", or the shared store's URL
  // without its password.
  const std::string& description() const { return description_; }

 private:
  StorePart() = default;

  int64_t retention_us_ = 0;
  StoreEngine engine_ = StoreEngine::kRocksDb;
  std::string description_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::StoreMetrics> metrics_;  // after store_: refers to it
};

// How often retention runs (both engines).
inline constexpr std::chrono::minutes kRetentionInterval{5};

class RollupsPart {
 public:
  static Result<std::unique_ptr<RollupsPart>> Start(StorePart& store, MetricsRegistry& metrics);
  ~RollupsPart() { StopRebuild(); }
  RollupsPart(const RollupsPart&) = delete;
  RollupsPart& operator=(const RollupsPart&) = delete;

  graph::RollupStore& rollups() { return rollups_; }
  // Brings the roentgen_rollups_{minutes,hours,bytes,folded_minutes,
  // evicted_minutes,skipped_observations} gauges up to the rollups' stats:
  // at each /metrics scrape (a lock and a copy, nothing on the ingest path).
  void RefreshMetrics();
  // Idempotent; the rollups stay usable (the map is then answered from
  // trace scans until a rebuild completes, which none will).
  void StopRebuild();

 private:
  RollupsPart(int64_t retention_us, MetricsRegistry& metrics);
  void Rebuild(store::Store& store, int64_t retention_us, std::promise<void>& snapshot);
  // Loads the store's persisted rollups; false when it keeps none or the
  // load failed (logged), and the caller rebuilds.
  bool LoadPersisted(store::Store& store);

  graph::RollupStore rollups_;
  Gauge& rebuilding_;
  Gauge& rebuilt_traces_;
  Gauge& rebuilt_blocks_;
  Gauge& minutes_;
  Gauge& hours_;
  Gauge& bytes_;
  Gauge& folded_minutes_;
  Gauge& evicted_minutes_;
  Gauge& skipped_observations_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace roentgen::cli
