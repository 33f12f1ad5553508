// The rate of `roentgen migrate` (src/store/migrate.h): a RocksDB store of
// --traces query-benchmark traces (bench/query_dataset.h: three documents a
// trace, through the real parse/assemble/summarize/graph path) migrated to
// the block engine.
//
// The RocksDB store is built once in DIR/source (reused while its
// dataset.json is there), copied into DIR/run for each of --repeat runs,
// and migrated there with the command's defaults (compaction on, the old
// store kept). Prints per run: traces, documents, seconds, traces/s, MiB/s of
// raw documents, and the bytes of the RocksDB and block stores.
//
//   build/bench/migrate_bench --traces 100000
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "query_dataset.h"
#include "store/migrate.h"
#include "store/rocksdb/rocksdb_store.h"

namespace {

using namespace roentgen;
namespace fs = std::filesystem;

// DIR/source/store, built unless its dataset.json says it holds `traces`.
bool BuildSource(const std::string& source, size_t traces) {
  Result<bench::QueryDataset> info = bench::LoadDatasetInfo(source);
  if (info.ok() && info->traces == traces) return true;
  fs::remove_all(source);
  fs::create_directories(source);
  store::RocksDbStoreConfig config;
  config.path = source + "/store";
  config.retention_us = 10LL * 365 * 24 * 3600 * 1'000'000;
  config.sync_writes = false;  // loading only
  Result<std::unique_ptr<store::Store>> opened = store::OpenRocksDbStore(config);
  if (!opened.ok()) {
    std::cerr << opened.status().message() << "\n";
    return false;
  }
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  std::cerr << fmt::format("building {} traces in {}\n", traces, source);
  info = bench::LoadQueryDataset(**opened, traces, now_us / 60'000'000 * 60'000'000,
                                 6LL * 3600 * 1'000'000, 1000, 42);
  if (!info.ok()) {
    std::cerr << info.status().message() << "\n";
    return false;
  }
  opened->reset();
  return bench::SaveDatasetInfo(source, *info).ok();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"roentgen migrate: RocksDB to block engine rate"};
  size_t traces = 100000;
  int repeat = 1;
  std::string dir = "/tmp/roentgen-migrate-bench";
  app.add_option("--traces", traces, "traces in the RocksDB store");
  app.add_option("--repeat", repeat, "migrations of a fresh copy");
  app.add_option("--dir", dir, "working directory (the source store is kept there)");
  CLI11_PARSE(app, argc, argv);
  if (traces == 0 || repeat <= 0) {
    std::cerr << "--traces and --repeat must be positive\n";
    return 2;
  }
  const std::string source = dir + "/source";
  if (!BuildSource(source, traces)) return 1;
  std::cout << "| run | traces | documents | seconds | traces/s | MiB/s of documents | RocksDB "
               "| blocks |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (int run = 1; run <= repeat; ++run) {
    const std::string data_dir = dir + "/run";
    fs::remove_all(data_dir);
    fs::copy(source + "/store", data_dir, fs::copy_options::recursive);
    Result<store::MigrationResult> migrated = store::MigrateRocksDbToBlock(data_dir, {});
    if (!migrated.ok()) {
      std::cerr << migrated.status().ToString() << "\n";
      return 1;
    }
    const store::MigrationProgress& p = migrated->progress;
    std::cout << fmt::format(
        "| {} | {} | {} | {:.1f} | {:.0f} | {:.1f} | {:.1f} MiB | {:.1f} MiB |\n", run, p.traces,
        p.documents, p.seconds, static_cast<double>(p.traces) / p.seconds,
        static_cast<double>(p.document_bytes) / (1 << 20) / p.seconds,
        static_cast<double>(migrated->rocksdb_bytes) / (1 << 20),
        static_cast<double>(migrated->block_bytes) / (1 << 20));
    std::cout.flush();
  }
  fs::remove_all(dir + "/run");
  return 0;
}
