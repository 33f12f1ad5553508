// Start-up of a block store with its persisted service-graph rollups
// (src/store/block/rollup_section.h; issue 26: "with 10M traces stored,
// /healthz and the full service map within 2 s of start").
//
// Fills a BlockStore in --dir with --traces traces: --pool bench/segment_gen
// traces, made as the ingest writer makes them (parsed, assembled,
// summarized, graphed), cycled with fresh ids and times 10 ms apart (100
// traces/s) ending at the wall clock's now, one document each, flushed every
// --block-rows traces (cut blocks, not compacted: the most blocks a store of
// that size has). --late-percent of each block's traces get a second version
// (a late segment: another graph) in the next block, which supersedes their
// first row. Then, --repeat times, it closes the store and times what
// `roentgen serve` does before it opens its ports: RollupStore::Expire(now),
// BlockStore::Open, LoadRollups (the blocks' sections summed, the
// superseded rows taken back out, the minutes before the rollups' hourly
// floor summed per hour), RollupStore::Load, and the full map
// (QueryServiceGraph over the last 31 days). It reports the minutes and
// hours kept and any minute the memory cap evicted (the map is then not
// full: exit status 3), and the peak RSS. The store saved the superseded
// rows' rollups at close (--unsaved deletes them first, as a crash would
// leave the rows marked since the last save). With --rebuild it also times
// the rebuild by scan that serve does without persisted rollups, and checks
// that both give the same map. --reuse keeps a store a previous run filled
// (bench/block_start.sh then times `roentgen serve` on the same --dir).
//
//   build/bench/block_rollups_bench --traces 1000000 --rebuild
//   build/bench/block_rollups_bench --traces 10000000 --dir /tmp/rg-10m   # ~12 min of fill
//   build/bench/block_rollups_bench --traces 10000000 --dir /tmp/rg-10m --reuse
#include <fmt/format.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "graph/rollup_store.h"
#include "graph/service_graph_json.h"
#include "graph/trace_graph.h"
#include "segment_gen.h"
#include "store/block/block_store.h"
#include "xray/segment_parser.h"
#include "xray/trace.h"

namespace {

using namespace roentgen;
using Steady = std::chrono::steady_clock;

double Ms(Steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// The CPU time of the whole process (every thread) so far, in ms.
double CpuMs() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval& t) { return t.tv_sec * 1e3 + t.tv_usec / 1e3; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

// The process's peak resident set so far, in MiB.
double PeakRssMiB() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024;
}

struct PoolTrace {
  store::TraceRecord record;
  xray::SegmentId entity;
  std::string raw;
};

// The pool trace moved to `start_us` with a fresh id.
store::TraceRecord Shifted(const PoolTrace& p, uint64_t n, int64_t start_us) {
  store::TraceRecord r = p.record;
  const int64_t delta = start_us - r.summary.start_time_us;
  for (size_t i = 0; i < 8; ++i) r.summary.id.bytes[4 + i] = static_cast<uint8_t>(n >> (8 * i));
  r.summary.start_time_us += delta;
  r.summary.updated_us += delta;
  for (graph::Node& node : r.graph.nodes) {
    for (graph::Observation& o : node.observations) {
      o.start_us += delta;
      if (o.end_us) *o.end_us += delta;
    }
  }
  for (graph::Edge& edge : r.graph.edges) {
    for (graph::Observation& o : edge.observations) {
      o.start_us += delta;
      if (o.end_us) *o.end_us += delta;
    }
  }
  return r;
}

// A late version: the first node's first observation now faults.
store::TraceRecord Late(store::TraceRecord r) {
  r.summary.revision = 2;
  r.summary.updated_us += 1'000'000;
  for (graph::Node& node : r.graph.nodes) {
    if (node.observations.empty()) continue;
    node.observations.front().fault = !node.observations.front().fault;
    break;
  }
  return r;
}

// The services of a map without their first and last times, which
// replacing a graph widens but a rebuild does not: the rest must be equal.
std::string WithoutTimes(const graph::ServiceGraphResult& map) {
  nlohmann::json services = graph::ToJson(map)["Services"];
  for (auto& s : services) {
    s.erase("StartTime");
    s.erase("EndTime");
    for (auto& edge : s["Edges"]) {
      edge.erase("StartTime");
      edge.erase("EndTime");
    }
  }
  return services.dump();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"block engine: open and the full service map from persisted rollups"};
  size_t traces = 1'000'000;
  size_t pool_size = 10'000;
  size_t block_rows = 45'000;
  size_t late_percent = 1;
  int repeat = 3;
  bool rebuild = false;
  bool reuse = false;
  std::string dir = "/tmp/roentgen-block-rollups-bench";
  app.add_option("--traces", traces, "traces in the store");
  app.add_option("--pool", pool_size, "distinct segment_gen traces cycled");
  app.add_option("--block-rows", block_rows, "traces per flush (block size)");
  app.add_option("--late-percent", late_percent, "traces of each block given a late version");
  app.add_option("--repeat", repeat, "opens timed");
  app.add_flag("--rebuild", rebuild, "also time a rebuild by scan and compare the maps");
  app.add_flag("--reuse", reuse, "keep the store a previous run filled in --dir");
  bool unsaved = false;
  app.add_flag("--unsaved", unsaved,
               "delete the saved rollups of superseded rows first (as after a crash): the "
               "superseded rows are read from their blocks");
  app.add_option("--dir", dir, "directory for the store");
  double minute_window_hours = -1;
  app.add_option("--minute-window-hours", minute_window_hours,
                 "RollupConfig::minute_window_us in hours (default: RollupConfig's)");
  size_t rollup_max_mib = 0;
  app.add_option("--rollup-max-mib", rollup_max_mib,
                 "RollupConfig::max_bytes in MiB (default: RollupConfig's)");
  CLI11_PARSE(app, argc, argv);
  if (traces == 0 || pool_size == 0 || block_rows == 0 || repeat <= 0 || late_percent > 100) {
    fmt::print(stderr,
               "--traces, --pool, --block-rows, --repeat must be positive, "
               "--late-percent at most 100\n");
    return 2;
  }

  store::block::BlockStoreOptions options;
  options.shards = 1;
  options.cut_interval_us = 3'600'000'000;  // the bench flushes
  options.head.quiet_us = options.head.max_age_us = 3'600'000'000;
  options.head.max_bytes = uint64_t{1} << 40;
  options.compaction = false;
  options.flush_at_close = false;
  // The traces end now, as a store that a server has just written would:
  // the rollups' minute window and retention count from the wall clock, and
  // `roentgen serve --data-dir` can open the same directory.
  const int64_t wall_us = std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  const int64_t t0_us = wall_us / 1'000'000 * 1'000'000 - static_cast<int64_t>(traces) * 10'000;
  const double t0 = static_cast<double>(t0_us) / 1e6;
  // Every minute stored: the retention's, and an hour to spare.
  const int64_t range_start_us = wall_us - 31LL * 24 * 3'600'000'000;
  const int64_t range_end_us = wall_us + 3'600'000'000;

  if (!reuse) {
    std::filesystem::remove_all(dir);
    auto opened = store::block::BlockStore::Open(dir, options);
    if (!opened.ok()) {
      fmt::print(stderr, "open: {}\n", opened.status().ToString());
      return 1;
    }
    store::block::BlockStore& st = **opened;
    bench::SegmentGenerator gen(42);
    xray::SegmentParser parser;
    xray::ParseFailure failure;
    std::vector<PoolTrace> pool;
    for (size_t i = 0; i < pool_size; ++i) {
      PoolTrace p;
      p.raw = gen.Next(t0 + static_cast<double>(i) * 0.01);
      std::vector<xray::SegmentDocument> parsed;
      if (!parser.Parse(p.raw, parsed, failure) || parsed.size() != 1) {
        fmt::print(stderr, "segment_gen made a document that does not parse\n");
        return 1;
      }
      p.entity = parsed.front().entity.id;
      xray::ReceivedDocument received{std::move(parsed.front()),
                                      t0_us + static_cast<int64_t>(i) * 10000};
      const std::vector<const xray::ReceivedDocument*> one{&received};
      const xray::AssembledTrace trace = xray::AssembleTrace(*received.doc.entity.trace_id, one);
      p.record = {xray::Summarize(trace), graph::DeriveTraceGraph(trace)};
      p.record.summary.revision = 1;
      p.record.summary.updated_us = trace.last_received_us;
      p.record.summary.indexed = true;
      pool.push_back(std::move(p));
    }
    const auto fill0 = Steady::now();
    store::WriteBatch batch;
    std::vector<store::TraceRecord> late;  // of the last block, for the next
    std::vector<store::TraceRecord> late_next;
    uint64_t late_written = 0;
    auto write = [&]() -> bool {
      if (batch.traces.empty()) return true;
      if (Status s = st.Write(batch); !s.ok()) {
        fmt::print(stderr, "write: {}\n", s.ToString());
        return false;
      }
      batch = {};
      return true;
    };
    for (size_t i = 0; i < traces; ++i) {
      const PoolTrace& p = pool[i % pool.size()];
      store::TraceRecord r = Shifted(p, i, t0_us + static_cast<int64_t>(i) * 10'000);
      if (i % 100 < late_percent) {
        late_next.push_back(Late(r));
      }
      batch.documents.push_back({r.summary.id, p.entity, r.summary.updated_us, p.raw});
      batch.traces.push_back(std::move(r));
      batch.new_traces.push_back(true);
      if (batch.traces.size() == 1000 && !write()) return 1;
      if ((i + 1) % block_rows == 0 || i + 1 == traces) {
        // The previous block's late versions join this block.
        for (store::TraceRecord& l : late) {
          const PoolTrace& lp = pool[0];
          batch.documents.push_back(
              {l.summary.id, xray::SegmentId{lp.entity.value + 1}, l.summary.updated_us, lp.raw});
          batch.traces.push_back(std::move(l));
          batch.new_traces.push_back(false);
          ++late_written;
          if (batch.traces.size() == 1000 && !write()) return 1;
        }
        late = std::move(late_next);
        late_next.clear();
        if (!write()) return 1;
        if (Status s = st.Flush(); !s.ok()) {
          fmt::print(stderr, "flush: {}\n", s.ToString());
          return 1;
        }
        fmt::print("  {} traces written, {:.0f} s\n", i + 1, Ms(Steady::now() - fill0) / 1000);
        std::fflush(stdout);
      }
    }
    fmt::print("filled {} traces ({} late versions) in {:.0f} s\n", traces, late_written,
               Ms(Steady::now() - fill0) / 1000);
  }

  uint64_t disk = 0;
  size_t blocks = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir + "/blocks")) {
    if (e.path().extension() != ".blk") continue;
    disk += e.file_size();
    ++blocks;
  }
  fmt::print("store: {} blocks, {} bytes\n", blocks, disk);

  std::vector<double> open_ms, load_ms, into_ms, map_ms, total_ms, cpu_ms;
  bool partial = false;
  std::string map_json;
  for (int r = 0; r < repeat; ++r) {
    // Each close saves them again.
    if (unsaved) std::filesystem::remove(dir + "/blocks/superseded-rollups");
    const double cpu0 = CpuMs();
    const auto a = Steady::now();
    auto opened = store::block::BlockStore::Open(dir, options);
    if (!opened.ok()) {
      fmt::print(stderr, "open: {}\n", opened.status().ToString());
      return 1;
    }
    const auto b = Steady::now();
    // As serve: the rollups' now first, so that the store sums per hour what
    // they keep per hour.
    graph::RollupConfig rollup_config;
    if (minute_window_hours >= 0) {
      rollup_config.minute_window_us = static_cast<int64_t>(minute_window_hours * 3600e6);
    }
    if (rollup_max_mib > 0) rollup_config.max_bytes = rollup_max_mib << 20;
    graph::RollupStore rollups(rollup_config);
    rollups.Expire(std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count());
    auto loaded = (*opened)->LoadRollups(rollups.hourly_before_us(), rollups.max_bytes());
    if (!loaded.ok() || !loaded->has_value()) {
      fmt::print(stderr, "LoadRollups: {}\n",
                 loaded.ok() ? "nothing persisted" : loaded.status().ToString());
      return 1;
    }
    const auto c = Steady::now();
    const uint64_t superseded = (*loaded)->superseded_rows;
    const uint64_t superseded_read = (*loaded)->superseded_rows_read;
    const uint64_t rebuilt = (*loaded)->rebuilt_blocks;
    const size_t loaded_minutes = (*loaded)->minutes.size();
    rollups.Load(std::move((*loaded)->minutes), (*loaded)->hourly_before_us);
    const auto d = Steady::now();
    const graph::ServiceGraphResult map = rollups.QueryServiceGraph(range_start_us, range_end_us);
    const auto e = Steady::now();
    open_ms.push_back(Ms(b - a));
    load_ms.push_back(Ms(c - b));
    into_ms.push_back(Ms(d - c));
    map_ms.push_back(Ms(e - d));
    total_ms.push_back(Ms(e - a));
    cpu_ms.push_back(CpuMs() - cpu0);
    fmt::print(
        "open {:.1f} ms, LoadRollups {:.1f} ms ({} superseded rows, {} of them read, {} blocks "
        "rebuilt), "
        "RollupStore::Load {:.1f} ms ({} bytes), full map {:.1f} ms ({} services); "
        "total {:.1f} ms, {:.0f} ms of CPU\n",
        Ms(b - a), Ms(c - b), superseded, superseded_read, rebuilt, Ms(d - c),
        rollups.stats().bytes, Ms(e - d), map.services.size(), Ms(e - a), cpu_ms.back());
    // The map is full only if the memory cap evicted nothing.
    const graph::RollupStats rs = rollups.stats();
    fmt::print(
        "{} periods loaded; kept: {} minutes, {} hours ({} minutes folded into hours); {} minutes "
        "evicted by the memory cap, {} observations skipped; peak RSS {:.0f} MiB\n",
        loaded_minutes, rs.minutes, rs.hours, rs.folded_minutes, rs.evicted_minutes,
        rs.skipped_observations, PeakRssMiB());
    if (rs.evicted_minutes != 0 || rs.skipped_observations != 0) partial = true;
    map_json = WithoutTimes(map);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  fmt::print(
      "| traces | blocks | open | LoadRollups | RollupStore::Load | full map | total | CPU |\n"
      "|---:|---:|---:|---:|---:|---:|---:|---:|\n"
      "| {} | {} | {:.0f} ms | {:.0f} ms | {:.0f} ms | {:.0f} ms | **{:.0f} ms** | {:.0f} ms |\n",
      traces, blocks, median(open_ms), median(load_ms), median(into_ms), median(map_ms),
      median(total_ms), median(cpu_ms));
  if (partial) {
    fmt::print(stderr, "the map is NOT full: the rollups' memory cap evicted minutes\n");
  }

  if (rebuild) {
    auto opened = store::block::BlockStore::Open(dir, options);
    if (!opened.ok()) return 1;
    const auto a = Steady::now();
    graph::RollupStore rollups;
    store::ScanOptions so;
    so.start_us = INT64_MIN;
    so.end_us = INT64_MAX;
    so.return_graph = true;
    uint64_t n = 0;
    auto scanned = (*opened)->Scan(so, [&](const store::TraceRecord& rec, int64_t) {
      rollups.Add(rec.graph, +1);
      ++n;
      return true;
    });
    if (!scanned.ok()) {
      fmt::print(stderr, "scan: {}\n", scanned.status().ToString());
      return 1;
    }
    const graph::ServiceGraphResult map = rollups.QueryServiceGraph(range_start_us, range_end_us);
    fmt::print("rebuild by scan: {} traces in {:.0f} ms\n", n, Ms(Steady::now() - a));
    if (map_json != WithoutTimes(map)) {
      fmt::print(stderr, "the loaded map differs from the rebuilt one\n");
      return 1;
    }
    fmt::print("the loaded map equals the rebuilt one\n");
  }
  return partial ? 3 : 0;
}
