// Per-trace CPU of what the ingest writer does for every trace a batch touches
// (src/ingest/writer.cpp): AssembleTrace → Summarize → DeriveTraceGraph, then the
// store's EncodeTraceRecord and IndexEntriesFor, then the destruction of it all.
// Each trace is one bench/segment_gen document (a new trace: a segment with
// three subsegments, four annotations, http, aws, metadata), parsed once before
// timing starts.
//
// Every stage is timed on its own over batches of kBatch traces: what a stage
// needs is built before the timed loop or, for what each iteration consumes,
// while timing is paused (one pause per batch, so its cost is spread thin).
// Results a stage produces are kept and destroyed with timing paused, so a
// stage's figure excludes their destruction, which has benchmarks of its own.
// BM_Pipeline runs everything back to back, one trace at a time, as the writer
// does. The `per_trace` counter is CPU time per trace; `allocs` is the number of
// heap allocations per trace, counted once on kBatch traces before timing;
// BM_DestroyTraceRecord's `held` counters are the heap blocks a finished record
// holds, by part.
// BM_ParseToRecord starts from the document's text: parse through graph.
// BM_SummarizeTrace and BM_DeriveTraceGraphTrace take traces of several
// segments (MultiSegment).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "graph/trace_graph.h"
#include "segment_gen.h"
#include "store/record_codec.h"
#include "store/rocksdb/store_keys.h"
#include "store/store.h"
#include "xray/segment_parser.h"
#include "xray/trace.h"

// Counts every allocation of the process (the benchmark is single-threaded).
// GCC cannot see that these replacements pair malloc with free.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
size_t g_allocations = 0;
}  // namespace

void* operator new(size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t size) { return operator new(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  ++g_allocations;
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

using roentgen::graph::DeriveTraceGraph;
using roentgen::graph::TraceGraph;
using roentgen::store::TraceRecord;
using roentgen::xray::AssembledTrace;
using roentgen::xray::ReceivedDocument;
using roentgen::xray::TraceSummary;
namespace keys = roentgen::store::keys;

constexpr size_t kDocuments = 1024;
constexpr size_t kBatch = 256;
// The stage benchmarks cycle over this many inputs, which stay in the CPU
// caches, as the writer's are (each stage reads what the previous one has just
// made). BM_Pipeline cycles over all kDocuments.
constexpr size_t kHot = 64;

// One parsed document per trace, as the writer's cache holds them.
const std::vector<ReceivedDocument>& Documents() {
  static const std::vector<ReceivedDocument> docs = [] {
    roentgen::bench::SegmentGenerator gen(42);
    roentgen::xray::SegmentParser parser;
    std::vector<roentgen::xray::SegmentDocument> parsed;
    roentgen::xray::ParseFailure failure;
    std::vector<ReceivedDocument> out;
    for (size_t i = 0; i < kDocuments; ++i) {
      parsed.clear();
      if (!parser.Parse(gen.Next(1.7e9 + static_cast<double>(i)), parsed, failure)) abort();
      for (auto& d : parsed) {
        out.push_back({std::move(d), static_cast<int64_t>(1.7e15) + static_cast<int64_t>(i)});
      }
    }
    return out;
  }();
  return docs;
}

AssembledTrace AssembleOne(size_t i) {
  const ReceivedDocument& d = Documents()[i % kHot];
  const std::vector<const ReceivedDocument*> docs{&d};
  return roentgen::xray::AssembleTrace(*d.doc.entity.trace_id, docs);
}

const std::vector<AssembledTrace>& Assembled() {
  static const std::vector<AssembledTrace> traces = [] {
    std::vector<AssembledTrace> out;
    for (size_t i = 0; i < kHot; ++i) out.push_back(AssembleOne(i));
    return out;
  }();
  return traces;
}

TraceRecord RecordOf(const AssembledTrace& trace) {
  TraceRecord record{roentgen::xray::Summarize(trace), DeriveTraceGraph(trace)};
  record.summary.revision = 1;
  record.summary.updated_us = trace.last_received_us + 1000;
  return record;
}

const std::vector<TraceRecord>& Records() {
  static const std::vector<TraceRecord> records = [] {
    std::vector<TraceRecord> out;
    for (const auto& t : Assembled()) out.push_back(RecordOf(t));
    return out;
  }();
  return records;
}

// Allocations per trace of `make(i)` over kBatch traces, results kept.
template <typename T, typename Make>
double AllocationsPerTrace(Make make) {
  std::vector<T> out;
  out.reserve(kBatch);
  const size_t before = g_allocations;
  for (size_t i = 0; i < kBatch; ++i) out.push_back(make(i));
  return static_cast<double>(g_allocations - before) / kBatch;
}

// Heap blocks `x` holds, counted as the allocations of a copy (a copy holds a
// block for each non-empty vector and each string past the 15 characters kept
// in place, as the original does): the frees its destruction makes.
template <typename T>
size_t HeldBlocks(const T& x) {
  const size_t before = g_allocations;
  const T copy = x;
  benchmark::DoNotOptimize(&copy);
  return g_allocations - before;
}

void PerTrace(benchmark::State& state, size_t traces_per_iteration) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * traces_per_iteration));
  state.counters["per_trace"] = benchmark::Counter(
      static_cast<double>(traces_per_iteration),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// Runs `make(i)` for kBatch traces per iteration, timed; the results are
// destroyed untimed.
template <typename T, typename Make>
void TimeMaking(benchmark::State& state, Make make) {
  state.counters["allocs"] = AllocationsPerTrace<T>(make);
  std::vector<T> out;
  out.reserve(kBatch);
  size_t next = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < kBatch; ++i) out.push_back(make(next++));
    state.PauseTiming();
    out.clear();
    state.ResumeTiming();
  }
  PerTrace(state, kBatch);
}

// Builds kBatch results of `make(i)` untimed, then times their destruction.
template <typename T, typename Make>
void TimeDestroying(benchmark::State& state, Make make) {
  std::vector<T> out;
  out.reserve(kBatch);
  size_t next = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (size_t i = 0; i < kBatch; ++i) out.push_back(make(next++));
    state.ResumeTiming();
    out.clear();
  }
  PerTrace(state, kBatch);
}

void BM_AssembleTrace(benchmark::State& state) {
  Documents();
  TimeMaking<AssembledTrace>(state, AssembleOne);
}
BENCHMARK(BM_AssembleTrace);

void BM_Summarize(benchmark::State& state) {
  const auto& traces = Assembled();
  TimeMaking<TraceSummary>(state,
                           [&](size_t i) { return roentgen::xray::Summarize(traces[i % kHot]); });
}
BENCHMARK(BM_Summarize);

void BM_DeriveTraceGraph(benchmark::State& state) {
  const auto& traces = Assembled();
  TimeMaking<TraceGraph>(state, [&](size_t i) { return DeriveTraceGraph(traces[i % kHot]); });
}
BENCHMARK(BM_DeriveTraceGraph);

// Traces of `segments` segment_gen documents each (documents taken in turn,
// moved into the first one's trace): each later segment names a caller, in
// turn the previous segment's remote subsegment (a call into a traced
// service) and the previous segment itself; every other one takes the first
// one's name and user. kHot of them, as Assembled() holds.
struct MultiSegmentTraces {
  std::vector<std::vector<ReceivedDocument>> docs;
  std::vector<AssembledTrace> traces;
};

const MultiSegmentTraces& MultiSegment(size_t segments) {
  static std::vector<std::unique_ptr<MultiSegmentTraces>> made(16);
  std::unique_ptr<MultiSegmentTraces>& m = made.at(segments);
  if (m) return *m;
  m = std::make_unique<MultiSegmentTraces>();
  m->docs.reserve(kHot);  // the traces view the documents
  for (size_t t = 0; t < kHot; ++t) {
    std::vector<ReceivedDocument>& docs = m->docs.emplace_back();
    for (size_t j = 0; j < segments; ++j) {
      docs.push_back(Documents()[(t * segments + j) % kDocuments]);
      if (j == 0) continue;
      roentgen::xray::Entity& e = docs[j].doc.entity;
      const roentgen::xray::Entity& previous = docs[j - 1].doc.entity;
      e.trace_id = docs[0].doc.entity.trace_id;
      e.parent_id = j % 2 == 1 ? previous.subsegments.at(1).id : previous.id;
      if (j % 2 == 0) {
        e.name = docs[0].doc.entity.name;
        e.user = docs[0].doc.entity.user;
      }
    }
    std::vector<const ReceivedDocument*> pointers;
    for (const ReceivedDocument& d : docs) pointers.push_back(&d);
    m->traces.push_back(roentgen::xray::AssembleTrace(*docs[0].doc.entity.trace_id, pointers));
  }
  return *m;
}

// Summarize and DeriveTraceGraph on traces of state.range(0) segments
// (MultiSegment); `held` is what the results hold of their `allocs`.
void BM_SummarizeTrace(benchmark::State& state) {
  const auto& traces = MultiSegment(static_cast<size_t>(state.range(0))).traces;
  double held = 0;
  for (const AssembledTrace& t : traces) {
    held += static_cast<double>(HeldBlocks(roentgen::xray::Summarize(t)));
  }
  state.counters["held"] = held / static_cast<double>(traces.size());
  TimeMaking<TraceSummary>(state,
                           [&](size_t i) { return roentgen::xray::Summarize(traces[i % kHot]); });
}
BENCHMARK(BM_SummarizeTrace)->Arg(4)->Arg(8);

void BM_DeriveTraceGraphTrace(benchmark::State& state) {
  const auto& traces = MultiSegment(static_cast<size_t>(state.range(0))).traces;
  double held = 0;
  for (const AssembledTrace& t : traces)
    held += static_cast<double>(HeldBlocks(DeriveTraceGraph(t)));
  state.counters["held"] = held / static_cast<double>(traces.size());
  TimeMaking<TraceGraph>(state, [&](size_t i) { return DeriveTraceGraph(traces[i % kHot]); });
}
BENCHMARK(BM_DeriveTraceGraphTrace)->Arg(4)->Arg(8);

// Into one reused buffer, as the store's value arena is reused across a batch.
void BM_EncodeTraceRecord(benchmark::State& state) {
  const auto& records = Records();
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < kHot; ++i) roentgen::store::EncodeTraceRecord(records[i], out);
  state.counters["bytes"] = static_cast<double>(out.size()) / kHot;
  for (auto _ : state) {
    out.clear();
    for (size_t i = 0; i < kBatch; ++i) {
      roentgen::store::EncodeTraceRecord(records[next++ % kHot], out);
    }
    benchmark::DoNotOptimize(out.data());
  }
  PerTrace(state, kBatch);
}
BENCHMARK(BM_EncodeTraceRecord);

// Into one reused record, as a scan decodes every candidate; arg 1 = with the
// graph, 0 = the summary only (a filter that needs no graph).
void BM_DecodeTraceRecord(benchmark::State& state) {
  const auto& records = Records();
  std::vector<std::string> encoded(kHot);
  for (size_t i = 0; i < kHot; ++i) roentgen::store::EncodeTraceRecord(records[i], encoded[i]);
  const bool with_graph = state.range(0) == 1;
  TraceRecord into;
  size_t next = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < kBatch; ++i) {
      if (!roentgen::store::DecodeTraceRecordInto(encoded[next++ % kHot], into, with_graph).ok()) {
        state.SkipWithError("decode failed");
        return;
      }
    }
    benchmark::DoNotOptimize(into.summary.start_time_us);
  }
  PerTrace(state, kBatch);
}
BENCHMARK(BM_DecodeTraceRecord)->Arg(0)->Arg(1);

void BM_IndexEntriesFor(benchmark::State& state) {
  const auto& records = Records();
  TimeMaking<std::vector<keys::IndexEntry>>(
      state, [&](size_t i) { return keys::IndexEntriesFor(records[i % kHot].summary); });
}
BENCHMARK(BM_IndexEntriesFor);

void BM_DestroyAssembledTrace(benchmark::State& state) {
  Documents();
  TimeDestroying<AssembledTrace>(state, AssembleOne);
}
BENCHMARK(BM_DestroyAssembledTrace);

// The blocks a record holds, by part, averaged over the kHot records.
void CountHeldBlocks(benchmark::State& state) {
  double summary = 0, graph = 0, annotations = 0, users = 0, services = 0, root_causes = 0,
         node_ids = 0, node_obs = 0, edge_obs = 0, names = 0;
  for (const TraceRecord& r : Records()) {
    const TraceSummary& s = r.summary;
    summary += static_cast<double>(HeldBlocks(s));
    graph += static_cast<double>(HeldBlocks(r.graph));
    annotations += static_cast<double>(HeldBlocks(s.annotations));
    users += static_cast<double>(HeldBlocks(s.users));
    services += static_cast<double>(HeldBlocks(s.service_ids) + HeldBlocks(s.entry_point));
    root_causes +=
        static_cast<double>(HeldBlocks(s.fault_root_causes) + HeldBlocks(s.error_root_causes) +
                            HeldBlocks(s.response_time_root_causes));
    // ServiceId::names and RootCauseService::names, wherever they are.
    auto id_names = [&](const std::vector<roentgen::xray::ServiceId>& ids) {
      for (const auto& id : ids) names += static_cast<double>(HeldBlocks(id.names));
    };
    for (const auto& a : s.annotations) {
      for (const auto& v : a.values) id_names(v.service_ids);
    }
    for (const auto& u : s.users) id_names(u.service_ids);
    id_names(s.service_ids);
    if (s.entry_point) names += static_cast<double>(HeldBlocks(s.entry_point->names));
    for (const auto* causes :
         {&s.fault_root_causes, &s.error_root_causes, &s.response_time_root_causes}) {
      for (const auto& c : *causes) {
        for (const auto& service : c.services) {
          names += static_cast<double>(HeldBlocks(service.names));
        }
      }
    }
    for (const auto& n : r.graph.nodes) {
      node_ids += static_cast<double>(HeldBlocks(n.id));
      node_obs += static_cast<double>(HeldBlocks(n.observations));
      names += static_cast<double>(HeldBlocks(n.id.names));
    }
    for (const auto& e : r.graph.edges) edge_obs += static_cast<double>(HeldBlocks(e.observations));
  }
  const auto n = static_cast<double>(Records().size());
  state.counters["held"] = (summary + graph) / n;
  state.counters["held_summary"] = summary / n;
  state.counters["held_graph"] = graph / n;
  state.counters["held_annotations"] = annotations / n;
  state.counters["held_users"] = users / n;
  state.counters["held_service_ids"] = services / n;
  state.counters["held_root_causes"] = root_causes / n;
  state.counters["held_node_ids"] = node_ids / n;
  state.counters["held_node_obs"] = node_obs / n;
  state.counters["held_edge_obs"] = edge_obs / n;
  state.counters["held_names"] = names / n;
}

// `held` and its parts: the heap blocks one record holds, each a free when
// it is destroyed (CountHeldBlocks).
void BM_DestroyTraceRecord(benchmark::State& state) {
  const auto& traces = Assembled();
  CountHeldBlocks(state);
  TimeDestroying<TraceRecord>(state, [&](size_t i) { return RecordOf(traces[i % kHot]); });
}
BENCHMARK(BM_DestroyTraceRecord);

void BM_DestroyIndexEntries(benchmark::State& state) {
  const auto& records = Records();
  TimeDestroying<std::vector<keys::IndexEntry>>(
      state, [&](size_t i) { return keys::IndexEntriesFor(records[i % kHot].summary); });
}
BENCHMARK(BM_DestroyIndexEntries);

// Everything the writer and the store do per trace, back to back.
void BM_Pipeline(benchmark::State& state) {
  const auto& docs = Documents();
  std::string arena;
  arena.reserve(1 << 20);
  size_t next = 0;
  std::vector<const ReceivedDocument*> pointers;
  pointers.reserve(1);
  size_t allocations = 0;
  for (auto _ : state) {
    if (next == kBatch) allocations = g_allocations;
    if (next == 2 * kBatch) {
      state.counters["allocs"] = static_cast<double>(g_allocations - allocations) / kBatch;
    }
    const ReceivedDocument& d = docs[next++ % kDocuments];
    if (next % kBatch == 0) arena.clear();
    pointers.clear();
    pointers.push_back(&d);
    {
      AssembledTrace assembled = roentgen::xray::AssembleTrace(*d.doc.entity.trace_id, pointers);
      TraceRecord record{roentgen::xray::Summarize(assembled), DeriveTraceGraph(assembled)};
      record.summary.revision = 1;
      record.summary.updated_us = d.received_us + 1000;
      const std::vector<keys::IndexEntry> entries = keys::IndexEntriesFor(record.summary);
      roentgen::store::EncodeTraceRecord(record, arena);
      benchmark::DoNotOptimize(entries.data());
    }
  }
  PerTrace(state, 1);
}
BENCHMARK(BM_Pipeline);

// The part of a segment's ingest this file's other benchmarks leave out, and
// the one before the store: a segment_gen document as text parsed
// (SegmentParser), assembled, summarized, its graph derived, then all of it
// destroyed, one segment (a new trace) at a time. No encode, no index keys.
void BM_ParseToRecord(benchmark::State& state) {
  std::vector<std::string> texts;
  roentgen::bench::SegmentGenerator gen(42);
  for (size_t i = 0; i < kDocuments; ++i) texts.push_back(gen.Next(1.7e9 + static_cast<double>(i)));
  roentgen::xray::SegmentParser parser;
  roentgen::xray::ParseFailure failure;
  std::vector<roentgen::xray::SegmentDocument> parsed;
  std::vector<const ReceivedDocument*> pointers;
  size_t next = 0;
  size_t allocations = 0;
  for (auto _ : state) {
    if (next == kBatch) allocations = g_allocations;
    if (next == 2 * kBatch) {
      state.counters["allocs"] = static_cast<double>(g_allocations - allocations) / kBatch;
    }
    const std::string& text = texts[next++ % kDocuments];
    parsed.clear();
    if (!parser.Parse(text, parsed, failure)) {
      state.SkipWithError(failure.message.c_str());
      return;
    }
    const ReceivedDocument received{std::move(parsed.front()), static_cast<int64_t>(next)};
    pointers.clear();
    pointers.push_back(&received);
    const AssembledTrace assembled =
        roentgen::xray::AssembleTrace(*received.doc.entity.trace_id, pointers);
    const TraceRecord record{roentgen::xray::Summarize(assembled), DeriveTraceGraph(assembled)};
    benchmark::DoNotOptimize(record.summary.start_time_us);
  }
  PerTrace(state, 1);
}
BENCHMARK(BM_ParseToRecord);

}  // namespace

BENCHMARK_MAIN();
