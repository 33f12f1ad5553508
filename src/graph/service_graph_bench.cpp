// Benchmarks of the service map: a 6-hour GetServiceGraph over rollups fed by
// 10M segments (target: < 100 ms), a time series over the same window, and the
// ingest-side cost of deriving and rolling up one trace.
//
// The data: 2.5M traces of the seed topology (4 segments each, 10M segments)
// spread evenly over 6 hours; 10 browser apps, 5 DynamoDB tables, response
// times spread over 1-700 ms, ~1% faults and ~1% throttles.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "graph/rollup_store.h"
#include "graph/test_traces.h"

namespace roentgen::graph {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000'000;
constexpr int64_t kWindowUs = 6LL * 3600 * 1'000'000;
constexpr int64_t kTraces = 2'500'000;

uint64_t Mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

xray::AssembledTrace MakeTrace(int64_t i) {
  const uint64_t r = Mix(static_cast<uint64_t>(i));
  testing::SeedOptions opt;
  opt.t0_us = kT0 + i * (kWindowUs / kTraces);
  opt.lambda_fault = r % 100 == 0;
  opt.dynamo_throttle = (r >> 8) % 100 == 0;
  opt.table = "Todo-table-" + std::to_string((r >> 16) % 5);
  xray::AssembledTrace trace = testing::SeedTrace(opt);
  trace.segments.Mutable(0).name = "Web-Application-" + std::to_string((r >> 24) % 10);
  // Stretch every segment's end by up to ~580 ms, with a long tail.
  const int64_t extra = static_cast<int64_t>(((r >> 32) % 1000) * ((r >> 42) % 1000) * 580 / 1000);
  for (size_t i = 0; i < trace.segments.size(); ++i)
    *trace.segments.Mutable(i).end_time_us += extra;
  return trace;
}

RollupStore& Store() {
  static std::unique_ptr<RollupStore> store = [] {
    RollupConfig config;
    config.max_bytes = size_t{2} << 30;
    auto s = std::make_unique<RollupStore>(config);
    const auto begin = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < kTraces; ++i) s->Replace(nullptr, DeriveTraceGraph(MakeTrace(i)));
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    const RollupStats stats = s->stats();
    std::fprintf(stderr, "loaded %lld traces (%lld segments) in %.1f s: %zu minutes, %.1f MiB\n",
                 static_cast<long long>(kTraces), static_cast<long long>(kTraces * 4), secs,
                 stats.minutes, static_cast<double>(stats.bytes) / (1 << 20));
    return s;
  }();
  return *store;
}

void BM_ServiceGraph6h(benchmark::State& state) {
  RollupStore& store = Store();
  size_t services = 0;
  for (auto _ : state) {
    ServiceGraphResult r = store.QueryServiceGraph(kT0, kT0 + kWindowUs);
    services = r.services.size();
    benchmark::DoNotOptimize(r);
  }
  state.counters["services"] = static_cast<double>(services);
}
BENCHMARK(BM_ServiceGraph6h)->Unit(benchmark::kMillisecond);

void BM_TimeSeries6h(benchmark::State& state) {
  RollupStore& store = Store();
  auto sel = ParseEntitySelector(R"(service(id(name: "todo-fn", type: "AWS::Lambda::Function")))");
  for (auto _ : state) {
    auto points = store.QueryTimeSeries(*sel, kT0, kT0 + kWindowUs, 60);
    benchmark::DoNotOptimize(points);
  }
}
BENCHMARK(BM_TimeSeries6h)->Unit(benchmark::kMillisecond);

void BM_DeriveAndRollUpOneTrace(benchmark::State& state) {
  RollupStore store;
  const xray::AssembledTrace trace = MakeTrace(7);
  const TraceGraph old_graph = DeriveTraceGraph(trace);
  store.Replace(nullptr, old_graph);
  for (auto _ : state) {
    TraceGraph g = DeriveTraceGraph(trace);
    store.Replace(&old_graph, g);
  }
}
BENCHMARK(BM_DeriveAndRollUpOneTrace);

}  // namespace
}  // namespace roentgen::graph

BENCHMARK_MAIN();
