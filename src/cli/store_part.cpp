#include "cli/store_part.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>

#include "api/rollup_rebuild.h"
#include "common/clock.h"
#include "common/thread_name.h"
#include "store/block/block_store.h"
#include "store/clickhouse/clickhouse_store.h"
#include "store/migrate.h"
#include "store/rocksdb/rocksdb_store.h"

namespace roentgen::cli {

namespace fs = std::filesystem;

const char* StoreEngineName(StoreEngine engine) {
  switch (engine) {
    case StoreEngine::kRocksDb:
      return "rocksdb";
    case StoreEngine::kBlock:
      return "block";
    case StoreEngine::kClickHouse:
      return "clickhouse";
  }
  return "?";
}

Result<StoreEngine> ParseStoreEngine(const std::string& name) {
  if (name == "rocksdb") return StoreEngine::kRocksDb;
  if (name == "block") return StoreEngine::kBlock;
  return Status::InvalidArgument("serve: --store-engine must be rocksdb or block, not '" + name +
                                 "'");
}

Result<std::optional<StoreEngine>> DetectStoreEngine(const std::string& data_dir) {
  // A migration that committed its copy but did not finish moving the files
  // (store/migrate.h): the data dir is the block engine's, whatever files
  // are still at its top; OpenStore finishes the switch.
  if (store::MigrationSwitchPending(data_dir)) {
    return std::optional<StoreEngine>(StoreEngine::kBlock);
  }
  std::error_code ec;
  // RocksDB's CURRENT names its manifest; the block engine keeps its own
  // CURRENT in blocks/ (store/block/manifest.h).
  const bool rocksdb = fs::exists(fs::path(data_dir) / "CURRENT", ec);
  const bool block = fs::exists(fs::path(data_dir) / "blocks" / "CURRENT", ec);
  if (rocksdb && block) {
    return Status::InvalidArgument(fmt::format(
        "the data dir {} holds files of both storage engines (RocksDB's CURRENT and the block "
        "engine's blocks/): it is not one a Roentgen server wrote; move one engine's files out",
        data_dir));
  }
  if (rocksdb) return std::optional<StoreEngine>(StoreEngine::kRocksDb);
  if (block) return std::optional<StoreEngine>(StoreEngine::kBlock);
  return std::optional<StoreEngine>();
}

Result<std::unique_ptr<store::Store>> OpenStore(StoreEngine engine, const std::string& data_dir,
                                                const ServeConfig& config) {
  Result<std::optional<StoreEngine>> found = DetectStoreEngine(data_dir);
  if (!found.ok()) return found.status();
  if (found->has_value() && **found != engine) {
    const char* held = StoreEngineName(**found);
    if (**found == StoreEngine::kRocksDb) {
      return Status::InvalidArgument(fmt::format(
          "the data dir {} holds a store of the rocksdb engine, but --store-engine is block: "
          "migrate it first with the server stopped (roentgen migrate --data-dir {} --to block; "
          "docs/storage.md, \"Migration\"), start with --store-engine rocksdb (or "
          "store-engine = \"rocksdb\" in the config file) to keep using it, or give another "
          "--data-dir to start a block store",
          data_dir, data_dir));
    }
    return Status::InvalidArgument(fmt::format(
        "the data dir {} holds a store of the {} engine, but --store-engine is {}: start with "
        "--store-engine {} (or store-engine = \"{}\" in the config file) to use it, or give "
        "another --data-dir to start a {} store; a data dir does not migrate from the block "
        "engine back to rocksdb",
        data_dir, held, StoreEngineName(engine), held, held, StoreEngineName(engine)));
  }
  const int64_t retention_us =
      std::chrono::duration_cast<std::chrono::microseconds>(config.retention).count();
  std::error_code ec;
  if (engine == StoreEngine::kRocksDb) {
    if (fs::exists(fs::path(data_dir) / store::kMigrationBuildDir, ec)) {
      spdlog::warn(
          "{}/{} holds the copy of a migration to the block engine that did not finish; the "
          "rocksdb store is whole. roentgen migrate starts over (and removes it), or remove it",
          data_dir, store::kMigrationBuildDir);
    }
    store::RocksDbStoreConfig store_config;
    store_config.path = data_dir;
    store_config.low_priority_background = config.low_priority_indexing;
    store_config.retention_us = retention_us;
    store_config.retention_interval_us =
        std::chrono::duration_cast<std::chrono::microseconds>(kRetentionInterval).count();
    return store::OpenRocksDbStore(store_config);
  }
  // A migration interrupted after its commit is finished before the store opens.
  Result<bool> switched = store::FinishMigrationSwitch(data_dir);
  if (!switched.ok()) return switched.status();
  if (*switched) {
    spdlog::info(
        "finished the switch of {} to the block engine (its migration was interrupted "
        "after the copy committed)",
        data_dir);
  }
  if (fs::exists(fs::path(data_dir) / store::kPreMigrationStoreDir, ec)) {
    spdlog::info(
        "{}/{} holds the RocksDB store from before the migration to the block engine: "
        "remove it once this server serves what you expect",
        data_dir, store::kPreMigrationStoreDir);
  }
  store::block::BlockStoreOptions options;
  // At close the ingest pipeline has drained into the store, so the heads
  // hold at most the last head.max_age_us of writes (a block per shard to
  // cut): cutting them keeps a clean stop from leaving a spool replay to the
  // next start, and keeps what was taken without a spool
  // (--udp-spool-max-bytes 0).
  options.flush_at_close = true;
  options.retention_us = retention_us;
  options.retention_interval_us =
      std::chrono::duration_cast<std::chrono::microseconds>(kRetentionInterval).count();
  Result<std::unique_ptr<store::block::BlockStore>> opened =
      store::block::BlockStore::Open(data_dir, options);
  if (!opened.ok()) return opened.status();
  return std::unique_ptr<store::Store>(std::move(opened).value());
}

namespace {

// The --store database's options: its URL, the user of --store-user, the
// password of --store-password-file, else the URL's, else
// $ROENTGEN_STORE_PASSWORD.
Result<store::clickhouse::ClickHouseStoreOptions> SharedStoreOptions(const ServeConfig& config) {
  Result<store::clickhouse::ClickHouseUrl> url =
      store::clickhouse::ParseClickHouseUrl(config.store_url);
  if (!url.ok()) return Status::InvalidArgument("serve: --store: " + url.status().message());
  store::clickhouse::ClickHouseStoreOptions options;
  options.url = std::move(url).value();
  if (!config.store_user.empty()) options.url.user = config.store_user;
  if (!config.store_password_file.empty()) {
    std::ifstream in(config.store_password_file);
    std::string password;
    if (!in || !std::getline(in, password)) {
      return Status::InvalidArgument(
          fmt::format("serve: --store-password-file {}: cannot read its first line",
                      config.store_password_file));
    }
    if (!password.empty() && password.back() == '\r') password.pop_back();
    options.url.password = std::move(password);
  } else if (options.url.password.empty()) {
    if (const char* env = std::getenv("ROENTGEN_STORE_PASSWORD")) options.url.password = env;
  }
  options.retention_us =
      std::chrono::duration_cast<std::chrono::microseconds>(config.retention).count();
  options.retention_interval_us =
      std::chrono::duration_cast<std::chrono::microseconds>(kRetentionInterval).count();
  return options;
}

// The store of `engine`: the --store database, or the data dir's embedded
// store. `description` says which, for the log.
Result<std::unique_ptr<store::Store>> OpenPartStore(StoreEngine engine, const ServeConfig& config,
                                                    std::string& description) {
  if (engine == StoreEngine::kClickHouse) {
    Result<store::clickhouse::ClickHouseStoreOptions> options = SharedStoreOptions(config);
    if (!options.ok()) return options.status();
    description = options->url.ToString();
    return store::clickhouse::OpenClickHouseStore(*options);
  }
  description = fmt::format("data dir {} ({} engine)", config.data_dir, StoreEngineName(engine));
  return OpenStore(engine, config.data_dir, config);
}

}  // namespace

Result<std::unique_ptr<StorePart>> StorePart::Open(const ServeConfig& config,
                                                   MetricsRegistry& metrics) {
  Result<StoreEngine> engine = config.store_url.empty()
                                   ? ParseStoreEngine(config.store_engine)
                                   : Result<StoreEngine>(StoreEngine::kClickHouse);
  if (!engine.ok()) return engine.status();
  std::error_code ec;
  fs::create_directories(config.data_dir, ec);
  if (ec) {
    return Status::IOError("serve: cannot create data dir '" + config.data_dir +
                           "': " + ec.message());
  }
  std::unique_ptr<StorePart> part(new StorePart());
  part->engine_ = *engine;
  part->retention_us_ =
      std::chrono::duration_cast<std::chrono::microseconds>(config.retention).count();
  Result<std::unique_ptr<store::Store>> opened = OpenPartStore(*engine, config, part->description_);
  if (!opened.ok()) {
    if (opened.status().code() == StatusCode::kInvalidArgument) {
      return Status::InvalidArgument("serve: " + opened.status().message());
    }
    return opened.status();
  }
  part->store_ = std::move(opened).value();
  part->metrics_ = std::make_unique<store::StoreMetrics>(*part->store_, metrics);
  return part;
}

StorePart::~StorePart() = default;

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
                                       "Stored traces the last rollup rebuild added")),
      rebuilt_blocks_(metrics.GetGauge(
          "roentgen_rollups_rebuilt_blocks",
          "Blocks whose persisted service-graph rollups were missing or damaged at the last "
          "start, rebuilt from their rows (damage is logged)")),
      minutes_(metrics.GetGauge("roentgen_rollups_minutes",
                                "Minutes the service-graph rollups keep per minute")),
      hours_(metrics.GetGauge("roentgen_rollups_hours",
                              "Hours the service-graph rollups keep whole (past the minute window, "
                              "or folded for the memory cap)")),
      bytes_(metrics.GetGauge("roentgen_rollups_bytes",
                              "Estimated memory of the service-graph rollups (capped at 256 MiB)")),
      folded_minutes_(metrics.GetGauge("roentgen_rollups_folded_minutes",
                                       "Minutes summed into their hour since the start")),
      evicted_minutes_(metrics.GetGauge(
          "roentgen_rollups_evicted_minutes",
          "Minutes dropped for the memory cap since the start (an hour counts 60): above 0, "
          "service maps lack those minutes")),
      skipped_observations_(
          metrics.GetGauge("roentgen_rollups_skipped_observations",
                           "Observations that fell in a minute expired or evicted, not counted")) {}

void RollupsPart::RefreshMetrics() {
  const graph::RollupStats stats = rollups_.stats();
  minutes_.Set(static_cast<int64_t>(stats.minutes));
  hours_.Set(static_cast<int64_t>(stats.hours));
  bytes_.Set(static_cast<int64_t>(stats.bytes));
  folded_minutes_.Set(static_cast<int64_t>(stats.folded_minutes));
  evicted_minutes_.Set(static_cast<int64_t>(stats.evicted_minutes));
  skipped_observations_.Set(static_cast<int64_t>(stats.skipped_observations));
}

Result<std::unique_ptr<RollupsPart>> RollupsPart::Start(StorePart& store,
                                                        MetricsRegistry& metrics) {
  std::unique_ptr<RollupsPart> part(new RollupsPart(store.retention_us(), metrics));
  if (store.store().DerivesRecords()) {
    // Other servers write to this store too: rollups kept in this process
    // would lack their traces. Marked incomplete for good, so that service
    // maps and insights are answered from trace scans of the shared store.
    part->rollups_.BeginRebuild();
    part->rollups_.AbandonRebuild();
    spdlog::info(
        "the store is shared by several servers: service maps are answered from trace scans, "
        "not from rollups kept in this process");
    return part;
  }
  if (part->LoadPersisted(store.store())) return part;
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

bool RollupsPart::LoadPersisted(store::Store& store) {
  const auto started = std::chrono::steady_clock::now();
  // First, so that the store sums per hour what the rollups keep per hour.
  rollups_.Expire(Clock::System().NowMicros());
  Result<std::optional<store::PersistedRollups>> loaded =
      store.LoadRollups(rollups_.hourly_before_us(), rollups_.max_bytes());
  if (!loaded.ok()) {
    spdlog::error(
        "loading the store's persisted service-graph rollups failed: {}; rebuilding them from "
        "the stored traces instead",
        loaded.status().ToString());
    return false;
  }
  if (!loaded->has_value()) return false;
  store::PersistedRollups& persisted = **loaded;
  for (const Status& damaged : persisted.damaged) {
    spdlog::warn("service-graph rollups: {}; that block's rollups were rebuilt from its rows",
                 damaged.ToString());
  }
  rollups_.Load(std::move(persisted.minutes), persisted.hourly_before_us);
  rebuilding_.Set(0);
  rebuilt_blocks_.Set(static_cast<int64_t>(persisted.rebuilt_blocks));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  spdlog::info(
      "service-graph rollups loaded from {} blocks in {:.3f} s ({} superseded rows taken out, {} "
      "blocks rebuilt from their rows; {} minutes and {} hours, {} bytes)",
      persisted.blocks, seconds, persisted.superseded_rows, persisted.rebuilt_blocks,
      rollups_.stats().minutes, rollups_.stats().hours, rollups_.stats().bytes);
  return true;
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
