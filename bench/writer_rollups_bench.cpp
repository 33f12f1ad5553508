// The ingest writer's per-segment work with the service-map rollups on
// (src/ingest/writer.cpp): Writer::ProcessBatch over bench/segment_gen
// documents in batches, against the in-memory FakeStore, so that the
// writer's own costs (trace cache, assemble, summarize, graph, rollups, the
// cache's evictions) are what a profile sees. Meant for instruction counts,
// which do not depend on the machine's load:
//
//   valgrind --tool=callgrind --toggle-collect='roentgen::ingest::Writer::ProcessBatch*'
//       build/bench/writer_rollups_bench --traces 50000 --split 0
//
// --split 0: every trace is one segment, written once (the UDP burst's
// shape). --split 1: every trace has two root segments, the second in the
// next batch, so that every trace is written, then updated from the cache.
// --split 2: as 1, but the first segment names a parent (a called
// service's segment, sent before its caller's).
// Prints the CPU time per segment (getrusage) of the whole run too.
#include <fmt/format.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "common/clock.h"
#include "graph/rollup_store.h"
#include "ingest/ingest_metrics.h"
#include "ingest/testing/fake_store.h"
#include "ingest/writer.h"
#include "segment_gen.h"
#include "xray/segment_parser.h"

namespace {

double WriterBenchCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The value of the document's "trace_id".
std::string WriterBenchTraceIdOf(const std::string& doc) {
  const std::string key = "\"trace_id\":\"";
  const size_t at = doc.find(key);
  if (at == std::string::npos) return "";
  const size_t from = at + key.size();
  return doc.substr(from, doc.find('"', from) - from);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace roentgen;
  CLI::App app("ingest writer with rollups");
  size_t traces = 50000;
  size_t batch_size = 256;
  int split = 0;
  size_t cache_entries = 50000;
  size_t cache_bytes = size_t{64} << 20;
  app.add_option("--traces", traces);
  app.add_option("--batch", batch_size);
  app.add_option("--split", split,
                 "0: one segment a trace; 1: two, the second in the next batch; 2: as 1, the first "
                 "with a parent");
  app.add_option("--cache-entries", cache_entries);
  app.add_option("--cache-bytes", cache_bytes);
  CLI11_PARSE(app, argc, argv);

  const double t0_s = 1'700'000'000.0;
  bench::SegmentGenerator gen(42, /*seeded_ids=*/true);
  std::vector<std::string> first, second;
  first.reserve(traces);
  for (size_t i = 0; i < traces; ++i) {
    first.push_back(gen.Next(t0_s + static_cast<double>(i) * 0.001));
    if (split == 0) continue;
    if (split == 2) first.back().insert(1, R"("parent_id":"00000000000000aa",)");
    std::string doc = gen.Next(t0_s + static_cast<double>(i) * 0.001);
    const std::string own = WriterBenchTraceIdOf(doc);
    doc.replace(doc.find(own), own.size(), WriterBenchTraceIdOf(first.back()));
    second.push_back(std::move(doc));
  }

  ingest::testing::FakeStore store;
  MetricsRegistry registry;
  ingest::IngestMetrics metrics(registry);
  FakeClock clock(static_cast<int64_t>(t0_s * 1e6) + 60'000'000);
  graph::RollupStore rollups;
  ingest::Writer writer(store, metrics, clock, cache_entries, cache_bytes, &rollups);
  xray::SegmentParser parser;

  // Batch k holds the first segments of traces [k*B, (k+1)*B) and, split,
  // the second segments of the previous batch's traces.
  std::vector<std::vector<ingest::WriteItem>> batches;
  const size_t rounds = (traces + batch_size - 1) / batch_size + (split ? 1 : 0);
  size_t segments = 0;
  for (size_t k = 0; k < rounds; ++k) {
    std::vector<ingest::WriteItem>& batch = batches.emplace_back();
    auto add = [&](const std::string& text) {
      std::vector<xray::SegmentDocument> docs;
      xray::ParseFailure failure;
      if (!parser.Parse(text, docs, failure)) {
        fmt::print(stderr, "parse: {}\n", failure.message);
        std::exit(1);
      }
      for (auto& d : docs) batch.emplace_back(std::move(d), clock.NowMicros(), nullptr);
      ++segments;
    };
    for (size_t i = k * batch_size; i < std::min(traces, (k + 1) * batch_size); ++i) {
      add(first[i]);
    }
    if (split && k > 0) {
      for (size_t i = (k - 1) * batch_size; i < std::min(traces, k * batch_size); ++i) {
        add(second[i]);
      }
    }
  }

  const double cpu0 = WriterBenchCpuSeconds();
  for (auto& batch : batches) {
    const Status s = writer.ProcessBatch(batch);
    if (!s.ok()) {
      fmt::print(stderr, "write: {}\n", s.ToString());
      return 1;
    }
  }
  const double cpu = WriterBenchCpuSeconds() - cpu0;
  const graph::RollupStats stats = rollups.stats();
  fmt::print("{} segments in {} batches: {:.2f} us CPU a segment; rollups {} minutes, {} bytes\n",
             segments, batches.size(), cpu * 1e6 / static_cast<double>(segments), stats.minutes,
             stats.bytes);
  return 0;
}
