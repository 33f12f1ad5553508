// How long RebuildRollups takes at serve start-up: writes N seed-topology
// trace records (5 segments each, spread over the last 6 hours) into a fresh
// RocksDB store, reopens it (cold block cache, as after a restart) and times
// the rebuild. Usage: rollup_rebuild_bench [traces=1000000] [dir]
// Figures: docs/benchmarks.md, "Service map".
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "api/rollup_rebuild.h"
#include "common/clock.h"
#include "graph/rollup_store.h"
#include "graph/test_traces.h"
#include "store/rocksdb/rocksdb_store.h"
#include "xray/trace.h"

namespace {

using roentgen::Result;
using roentgen::Status;
namespace graph = roentgen::graph;
namespace store = roentgen::store;
namespace xray = roentgen::xray;

constexpr int64_t kWindowUs = 6LL * 3600 * 1'000'000;
constexpr size_t kBatch = 1000;

int Fail(const Status& s) {
  fmt::print(stderr, "error: {}\n", s.ToString());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t traces = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const std::string dir = argc > 2 ? argv[2]
                                   : (std::filesystem::temp_directory_path() /
                                      fmt::format("roentgen-rebuild-bench-{}", ::getpid()))
                                         .string();
  std::filesystem::remove_all(dir);
  const int64_t now_us = roentgen::Clock::System().NowMicros();
  store::RocksDbStoreConfig config;
  config.path = dir;
  config.sync_writes = false;
  {
    Result<std::unique_ptr<store::Store>> opened = store::OpenRocksDbStore(config);
    if (!opened.ok()) return Fail(opened.status());
    const auto started = std::chrono::steady_clock::now();
    store::WriteBatch batch;
    for (size_t i = 0; i < traces; ++i) {
      graph::testing::SeedOptions opt;
      opt.t0_us = now_us - kWindowUs + static_cast<int64_t>(i * (kWindowUs / traces));
      opt.lambda_fault = i % 100 == 7;
      opt.dynamo_throttle = i % 100 == 42;
      opt.table = fmt::format("table-{}", i % 5);
      xray::AssembledTrace trace = graph::testing::SeedTrace(opt);
      for (int b = 0; b < 8; ++b) trace.id.bytes[4 + b] = static_cast<uint8_t>(i >> (8 * b));
      store::TraceRecord record{xray::Summarize(trace), graph::DeriveTraceGraph(trace)};
      record.summary.id = trace.id;
      record.summary.revision = 1;
      record.summary.updated_us = now_us;
      batch.traces.push_back(std::move(record));
      if (batch.traces.size() == kBatch || i + 1 == traces) {
        if (Status s = (*opened)->Write(batch); !s.ok()) return Fail(s);
        batch.traces.clear();
      }
    }
    fmt::print("wrote {} trace records in {:.1f} s\n", traces,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  Result<std::unique_ptr<store::Store>> reopened = store::OpenRocksDbStore(config);
  if (!reopened.ok()) return Fail(reopened.status());
  graph::RollupConfig rollup_config;
  rollup_config.retention_us = config.retention_us;
  graph::RollupStore rollups(rollup_config);
  Result<roentgen::api::RebuildStats> rebuilt =
      roentgen::api::RebuildRollups(**reopened, rollups, rollup_config.retention_us, now_us);
  if (!rebuilt.ok()) return Fail(rebuilt.status());
  const graph::RollupStats stats = rollups.stats();
  fmt::print(
      "rebuilt rollups from {} traces in {:.2f} s ({:.0f} traces/s); {} minutes, {:.1f} MiB\n",
      rebuilt->traces, rebuilt->seconds, rebuilt->traces / rebuilt->seconds, stats.minutes,
      stats.bytes / 1048576.0);
  const auto q0 = std::chrono::steady_clock::now();
  const graph::ServiceGraphResult map = rollups.QueryServiceGraph(now_us - kWindowUs, now_us);
  fmt::print(
      "6-hour GetServiceGraph over the rebuilt rollups: {} services in {:.1f} ms\n",
      map.services.size(),
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - q0).count());
  reopened->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
