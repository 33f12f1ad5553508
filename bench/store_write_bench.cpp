// CPU cost of the embedded store's Write at ingest: what RocksDbStore::Write
// costs per new trace (document + trace record + index entries, one synced
// write per batch), apart from the parsing and summarizing that precede it.
// With --engine block, BlockStore::Write (into the heads) and the cuts of the
// heads into blocks: the clock stops after a Flush, so every trace has been
// written into a committed block. Compaction is off unless --block-compaction
// (a round started by its timer in the middle of a run would be timed in
// part).
//
// Prepares --traces bench/segment_gen traces (parsed, assembled, summarized,
// graphed: exactly the WriteBatch the ingest writer builds), then writes them
// in batches of --batch from --threads threads into a fresh store, and reports
// process CPU time per trace (all threads, RocksDB's flush and compaction
// included) and wall-clock traces/s, then the CPU of each thread still alive
// (the block engine's cutter `rg-block-cut`; the main thread, which runs the
// Flush's cut; the writer threads have exited). Everything but the Write
// calls happens before the clock starts.
//
//   build/bench/store_write_bench --traces 200000 --batch 2048 --threads 2
//   build/bench/store_write_bench --engine block --traces 200000 --batch 2048 --threads 2
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "graph/trace_graph.h"
#include "segment_gen.h"
#include "store/block/block_store.h"
#include "store/rocksdb/rocksdb_store.h"
#include "store/store.h"
#include "xray/segment_parser.h"
#include "xray/trace.h"

namespace {

using namespace roentgen;

double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// CPU seconds by thread name (utime + stime of /proc/self/task/*/stat), for
// the threads named so far: the block engine's cutter is `rg-block-cut`.
std::map<std::string, double> ThreadCpuSeconds() {
  std::map<std::string, double> out;
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream in(task.path() / "stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    const size_t open = line.find('(');
    const size_t close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0;
    // Fields 3.. after the name; utime and stime are fields 14 and 15.
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
    }
    out[line.substr(open + 1, close - open - 1)] += (utime + stime) / hz;
  }
  return out;
}

struct PreparedTrace {
  std::string raw;
  xray::SegmentDocument doc;
  store::TraceRecord record;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Store::Write CPU per new trace"};
  std::string engine = "rocksdb";
  bool block_compaction = false;
  int zstd_level = store::block::BlockStoreOptions().zstd_level;
  size_t traces = 200000;
  size_t batch = 2048;
  size_t threads = 2;
  std::string dir = "/tmp/roentgen-store-write-bench";
  app.add_option("--traces", traces, "traces to write");
  app.add_option("--batch", batch, "traces per Write");
  app.add_option("--threads", threads, "concurrent writers (each its own traces)");
  app.add_option("--dir", dir, "store directory (deleted first)");
  app.add_option("--engine", engine, "rocksdb or block")
      ->check(CLI::IsMember({"rocksdb", "block"}));
  app.add_option("--zstd-level", zstd_level, "the block engine's zstd level for cuts");
  app.add_flag("--block-compaction", block_compaction,
               "the block engine compacts in the background");
  CLI11_PARSE(app, argc, argv);
  if (batch == 0 || threads == 0) {
    fmt::print(stderr, "--batch and --threads must be > 0\n");
    return 2;
  }

  bench::SegmentGenerator gen(42);
  xray::SegmentParser parser;
  std::vector<PreparedTrace> prepared(traces);
  const double start_epoch = 1.7e9;
  for (size_t i = 0; i < traces; ++i) {
    PreparedTrace& p = prepared[i];
    p.raw = gen.Next(start_epoch + static_cast<double>(i) / 1000.0);
    std::vector<xray::SegmentDocument> docs;
    xray::ParseFailure failure;
    if (!parser.Parse(p.raw, docs, failure) || docs.size() != 1) {
      fmt::print(stderr, "generated document does not parse: {}\n", failure.message);
      return 1;
    }
    p.doc = std::move(docs.front());
    const xray::TraceId id = *p.doc.entity.trace_id;
    xray::ReceivedDocument received{p.doc, 0};
    std::vector<const xray::ReceivedDocument*> view{&received};
    xray::AssembledTrace assembled = xray::AssembleTrace(id, view);
    p.record = store::TraceRecord{xray::Summarize(assembled), graph::DeriveTraceGraph(assembled)};
    p.record.summary.id = id;
    p.record.summary.revision = 1;
    p.record.summary.updated_us = static_cast<int64_t>(start_epoch * 1e6) + static_cast<int64_t>(i);
  }

  std::filesystem::remove_all(dir);
  std::unique_ptr<store::Store> opened;
  store::block::BlockStore* block = nullptr;
  if (engine == "block") {
    store::block::BlockStoreOptions options;
    options.compaction = block_compaction;
    options.zstd_level = zstd_level;
    auto b = store::block::BlockStore::Open(dir, options);
    if (!b.ok()) {
      fmt::print(stderr, "open: {}\n", b.status().ToString());
      return 1;
    }
    block = b->get();
    opened = std::move(*b);
  } else {
    store::RocksDbStoreConfig config;
    config.path = dir;
    auto r = store::OpenRocksDbStore(config);
    if (!r.ok()) {
      fmt::print(stderr, "open: {}\n", r.status().ToString());
      return 1;
    }
    opened = std::move(*r);
  }
  store::Store& st = *opened;

  // Batches are built up front too (the writer builds them while the previous
  // one commits); only Write is measured.
  std::vector<store::WriteBatch> batches;
  for (size_t first = 0; first < traces; first += batch) {
    store::WriteBatch& wb = batches.emplace_back();
    for (size_t i = first; i < std::min(traces, first + batch); ++i) {
      const PreparedTrace& p = prepared[i];
      wb.documents.push_back(
          store::DocumentWrite{*p.doc.entity.trace_id, p.doc.entity.id, 0, p.raw});
      wb.traces.push_back(p.record);
      wb.new_traces.push_back(true);
    }
  }

  const std::map<std::string, double> threads0 = ThreadCpuSeconds();
  const double cpu0 = ProcessCpuSeconds();
  const auto wall0 = std::chrono::steady_clock::now();
  std::vector<std::thread> writers;
  std::atomic<bool> failed{false};
  for (size_t t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      for (size_t b = t; b < batches.size(); b += threads) {
        if (Status s = st.Write(batches[b]); !s.ok()) {
          fmt::print(stderr, "write: {}\n", s.ToString());
          failed = true;
          return;
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  if (block != nullptr) {
    if (Status s = block->Flush(); !s.ok()) {
      fmt::print(stderr, "flush: {}\n", s.ToString());
      return 1;
    }
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  const double cpu = ProcessCpuSeconds() - cpu0;
  if (failed) return 1;
  // Per thread, what the run took (the main thread also runs the Flush's cut).
  for (const auto& [name, seconds] : ThreadCpuSeconds()) {
    const auto before = threads0.find(name);
    const double used = seconds - (before == threads0.end() ? 0.0 : before->second);
    if (used >= 0.01) {
      fmt::print("thread {} {:.2f}s {:.1f}us/trace\n", name, used,
                 used * 1e6 / static_cast<double>(traces));
    }
  }
  fmt::print(
      "engine={} traces={} batch={} threads={} wall={:.2f}s rate={:.0f} traces/s cpu={:.2f}s "
      "cpu_per_trace={:.1f}us\n",
      engine, traces, batch, threads, wall, static_cast<double>(traces) / wall, cpu,
      cpu * 1e6 / static_cast<double>(traces));
  opened.reset();
  std::filesystem::remove_all(dir);
  return 0;
}
