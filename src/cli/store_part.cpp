#include "cli/store_part.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <future>

#include "api/rollup_rebuild.h"
#include "common/clock.h"
#include "common/thread_name.h"
#include "store/rocksdb/rocksdb_store.h"

namespace roentgen::cli {

Result<std::unique_ptr<StorePart>> StorePart::Open(const ServeConfig& config,
                                                   MetricsRegistry& metrics) {
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    return Status::IOError("serve: cannot create data dir '" + config.data_dir +
                           "': " + ec.message());
  }
  std::unique_ptr<StorePart> part(new StorePart());
  store::RocksDbStoreConfig store_config;
  store_config.path = config.data_dir;
  store_config.low_priority_background = config.low_priority_indexing;
  store_config.retention_us =
      std::chrono::duration_cast<std::chrono::microseconds>(config.retention).count();
  part->retention_us_ = store_config.retention_us;
  Result<std::unique_ptr<store::Store>> opened = store::OpenRocksDbStore(store_config);
  if (!opened.ok()) return opened.status();
  part->store_ = std::move(opened).value();
  part->metrics_ = std::make_unique<store::StoreMetrics>(*part->store_, metrics);
  return part;
}

RollupsPart::RollupsPart(int64_t retention_us, MetricsRegistry& metrics)
    : rollups_([retention_us] {
        graph::RollupConfig config;
        config.retention_us = retention_us;
        return config;
      }()),
      rebuilding_(metrics.GetGauge(
          "roentgen_rollups_rebuilding",
          "1 while the service-graph rollups are rebuilt from the store after a start (the "
          "default group's service map is then answered from trace scans)")),
      rebuilt_traces_(metrics.GetGauge("roentgen_rollups_rebuilt_traces",
                                       "Stored traces the last rollup rebuild added")) {}

Result<std::unique_ptr<RollupsPart>> RollupsPart::Start(StorePart& store,
                                                        MetricsRegistry& metrics) {
  std::unique_ptr<RollupsPart> part(new RollupsPart(store.retention_us(), metrics));
  part->rebuilding_.Set(1);
  std::promise<void> snapshot;
  std::future<void> snapshot_taken = snapshot.get_future();
  part->thread_ = std::thread([self = part.get(), &store, &snapshot] {
    SetCurrentThreadName("rg-rebuild");
    self->Rebuild(store.store(), store.retention_us(), snapshot);
  });
  snapshot_taken.wait();
  return part;
}

void RollupsPart::Rebuild(store::Store& store, int64_t retention_us, std::promise<void>& snapshot) {
  // `snapshot` lives until it is set: RebuildRollups calls on_snapshot once,
  // also when it fails before taking one.
  Result<api::RebuildStats> rebuilt =
      api::RebuildRollups(store, rollups_, retention_us, Clock::System().NowMicros(), &stop_,
                          [&snapshot] { snapshot.set_value(); });
  if (rebuilt.ok()) {
    rebuilding_.Set(0);
    rebuilt_traces_.Set(static_cast<int64_t>(rollups_.stats().rebuilt_traces));
    spdlog::info(
        "service-graph rollups rebuilt from {} stored traces in {:.3f} s ({} minutes, {} bytes)",
        rebuilt->traces, rebuilt->seconds, rollups_.stats().minutes, rollups_.stats().bytes);
  } else if (!stop_.load()) {
    spdlog::error(
        "service-graph rollup rebuild failed: {}; service maps keep being answered from trace "
        "scans",
        rebuilt.status().ToString());
  }
}

void RollupsPart::StopRebuild() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

}  // namespace roentgen::cli
