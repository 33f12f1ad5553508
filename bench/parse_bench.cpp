// The ceiling for ingest: how fast one core parses the load generator's
// documents, with raw simdjson (DOM, no field extraction) and with Roentgen's
// SegmentParser (full validation into the typed model).
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <vector>

#include "segment_gen.h"
#include "xray/segment_parser.h"

namespace {

std::vector<std::string> Documents() {
  roentgen::bench::SegmentGenerator gen(42);
  std::vector<std::string> docs;
  for (int i = 0; i < 1024; ++i) docs.push_back(gen.Next(1.7e9 + i));
  return docs;
}

void BM_SimdjsonDom(benchmark::State& state) {
  auto docs = Documents();
  simdjson::dom::parser parser;
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const auto& d = docs[i++ % docs.size()];
    auto r = parser.parse(d);
    benchmark::DoNotOptimize(r.error());
    bytes += d.size();
  }
  state.SetBytesProcessed(bytes);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SimdjsonDom);

void BM_SegmentParser(benchmark::State& state) {
  auto docs = Documents();
  roentgen::xray::SegmentParser parser;
  std::vector<roentgen::xray::SegmentDocument> out;
  roentgen::xray::ParseFailure failure;
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const auto& d = docs[i++ % docs.size()];
    out.clear();
    if (!parser.Parse(d, out, failure)) state.SkipWithError(failure.message.c_str());
    bytes += d.size();
  }
  state.SetBytesProcessed(bytes);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SegmentParser);

}  // namespace

BENCHMARK_MAIN();
