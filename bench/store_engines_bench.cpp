// The embedded engines (RocksDB, block) against ClickHouse on the same data,
// through the Store interface: ingest rate, the three query latencies of the
// storage-engine issue and the bytes on disk.
//
// Data: --traces traces of two segment documents each, as two services would
// send them: a bench/segment_gen segment (about 1.6 KB) and a segment of the
// downstream "payments" service whose parent is the first one's remote
// subsegment (about 0.4 KB). Trace start times are spread 10 ms apart over
// the hour before now (so no engine's retention touches them).
//
// Fill: documents go to Store::Write in batches of --batch documents, as the
// ingest writer sends them. The embedded engines get both documents of a
// trace in one batch with the trace's record (parsed, assembled, summarized,
// graphed beforehand, as the writer does, outside the clock). ClickHouse
// derives each record itself from the stored documents (the engine reads
// back every document of the touched traces on each Write), so its clock
// covers that work. With --nodes 2 (ClickHouse only) two ClickHouseStore
// instances on the same database write from two threads, each the documents
// one Roentgen node would receive: node 0 every trace's first segment, node 1
// every trace's second; the rate is of both together. The block engine's
// clock stops after a Flush, so everything is in committed blocks.
//
// Queries (over the whole range, searchable traces, most recent first, as
// GetTraceSummaries asks): `responsetime > 1.5` paging through every match
// (one Scan whose callback takes all), `annotation.email = "user-4242@..."`
// (every match), and `service("billing") { fault }` first page of 20. Each
// --repeat times; p50 and mean wall-clock ms.
//
// Disk: Store::Stats().disk_bytes after the queries (ClickHouse: its parts'
// bytes, as system.parts counts them) against the raw JSON documents' bytes.
//
// ClickHouse: without --clickhouse-url the bench starts a clickhouse-server
// of its own (src/store/clickhouse/testing) in --dir and stops it at the end;
// with --clickhouse-url it uses that database, which must hold no traces.
//
//   nice -n 10 build/bench/store_engines_bench --engine rocksdb --traces 100000
//   nice -n 10 build/bench/store_engines_bench --engine block --traces 100000
//   nice -n 10 build/bench/store_engines_bench --engine clickhouse --traces 100000
//   nice -n 10 build/bench/store_engines_bench --engine clickhouse --nodes 2 --traces 100000
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "filter/filter.h"
#include "graph/trace_graph.h"
#include "segment_gen.h"
#include "store/block/block_store.h"
#include "store/clickhouse/clickhouse_store.h"
#include "store/clickhouse/testing/clickhouse_test_server.h"
#include "store/rocksdb/rocksdb_store.h"
#include "store/store.h"
#include "xray/ids.h"
#include "xray/segment_parser.h"
#include "xray/trace.h"

namespace {

using namespace roentgen;
using EnginesSteady = std::chrono::steady_clock;

double EnginesMs(EnginesSteady::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// One trace's two documents and the record the ingest writer would make of
// both.
struct EnginesTrace {
  xray::TraceId id;
  std::string raw[2];
  xray::SegmentId entity[2];
  int64_t received_us = 0;
  store::TraceRecord record;
};

// A segment of the "payments" service under `parent` (the first segment's
// remote subsegment), inside its time span.
std::string PaymentsSegment(const xray::TraceId& trace, const xray::SegmentId& parent, double start,
                            double end, bool fault) {
  return fmt::format(
      R"({{"name":"payments","id":"{}","trace_id":"{}","parent_id":"{}","start_time":{:.6f},)"
      R"("end_time":{:.6f},"origin":"AWS::ECS::Container",{})"
      R"("http":{{"request":{{"method":"POST","url":"https://payments.example.com/charge"}},)"
      R"("response":{{"status":{}}}}},"annotations":{{"provider":"card"}}}})",
      xray::SegmentId::Generate().ToString(), trace.ToString(), parent.ToString(), start, end,
      fault ? R"("fault":true,)" : "", fault ? 502 : 200);
}

Status PrepareEnginesTraces(size_t traces, double t0, std::vector<EnginesTrace>& out,
                            uint64_t& json_bytes) {
  bench::SegmentGenerator gen(42);
  xray::SegmentParser parser;
  xray::ParseFailure failure;
  std::vector<xray::SegmentDocument> parsed;
  out.resize(traces);
  json_bytes = 0;
  for (size_t i = 0; i < traces; ++i) {
    EnginesTrace& t = out[i];
    const double start = t0 + static_cast<double>(i) * 0.01;
    t.received_us = static_cast<int64_t>(start * 1e6) + 2'000'000;
    t.raw[0] = gen.Next(start);
    parsed.clear();
    if (!parser.Parse(t.raw[0], parsed, failure) || parsed.size() != 1) {
      return Status::Internal("segment_gen made a document that does not parse: " +
                              failure.message);
    }
    std::vector<xray::ReceivedDocument> received;
    received.push_back({std::move(parsed.front()), t.received_us});
    const xray::Entity& root = received[0].doc.entity;
    t.id = *root.trace_id;
    t.entity[0] = root.id;
    const xray::Entity* remote = nullptr;
    for (const xray::Entity& sub : root.subsegments) {
      if (sub.name == "payments.example.com") remote = &sub;
    }
    if (remote == nullptr || !remote->end_time_us) {
      return Status::Internal("segment_gen's document lacks its remote subsegment");
    }
    // Every eighth call to payments fails (a fault in a second service).
    const double call_start = static_cast<double>(remote->start_time_us) / 1e6;
    const double call = static_cast<double>(*remote->end_time_us) / 1e6 - call_start;
    t.raw[1] = PaymentsSegment(t.id, remote->id, call_start + call * 0.1, call_start + call * 0.9,
                               i % 8 == 3);
    parsed.clear();
    if (!parser.Parse(t.raw[1], parsed, failure) || parsed.size() != 1) {
      return Status::Internal("the payments document does not parse: " + failure.message);
    }
    received.push_back({std::move(parsed.front()), t.received_us});
    t.entity[1] = received[1].doc.entity.id;
    json_bytes += t.raw[0].size() + t.raw[1].size();
    const std::vector<const xray::ReceivedDocument*> view{&received[0], &received[1]};
    const xray::AssembledTrace assembled = xray::AssembleTrace(t.id, view);
    t.record = store::TraceRecord{xray::Summarize(assembled), graph::DeriveTraceGraph(assembled)};
    t.record.summary.id = t.id;
    t.record.summary.revision = 1;
    t.record.summary.updated_us = t.received_us;
    t.record.summary.indexed = true;
  }
  return Status::Ok();
}

// The batches one writer sends: of `traces`, the documents numbered in
// `docs` (0, 1 or both), --batch documents a batch, each with the records of
// its traces.
std::vector<store::WriteBatch> EnginesBatches(const std::vector<EnginesTrace>& traces,
                                              const std::vector<int>& docs, size_t batch_docs) {
  std::vector<store::WriteBatch> out;
  store::WriteBatch wb;
  for (const EnginesTrace& t : traces) {
    for (int d : docs) wb.documents.push_back({t.id, t.entity[d], t.received_us, t.raw[d]});
    wb.traces.push_back(t.record);
    wb.new_traces.push_back(true);
    if (wb.documents.size() >= batch_docs) {
      out.push_back(std::move(wb));
      wb = {};
    }
  }
  if (!wb.documents.empty()) out.push_back(std::move(wb));
  return out;
}

struct EnginesTiming {
  double p50 = 0;
  double mean = 0;
};

EnginesTiming SummarizeEnginesMs(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  EnginesTiming t;
  t.p50 = ms[ms.size() / 2];
  for (double m : ms) t.mean += m;
  t.mean /= static_cast<double>(ms.size());
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"embedded engines against ClickHouse: ingest, queries, disk"};
  std::string engine = "rocksdb";
  size_t traces = 100000;
  size_t batch_docs = 500;
  int nodes = 1;
  int repeat = 5;
  std::string dir = "/tmp/roentgen-store-engines-bench";
  std::string clickhouse_url;
  app.add_option("--engine", engine, "rocksdb, block or clickhouse")
      ->check(CLI::IsMember({"rocksdb", "block", "clickhouse"}));
  app.add_option("--traces", traces, "traces to write (two documents each)");
  app.add_option("--batch", batch_docs, "documents per Write");
  app.add_option("--nodes", nodes, "ClickHouse: stores (one thread each) writing the database");
  app.add_option("--repeat", repeat, "runs of each query");
  app.add_option("--dir", dir, "directory of the store or of the ClickHouse server (deleted first)");
  app.add_option("--clickhouse-url", clickhouse_url,
                 "clickhouse://HOST:PORT/DB of an existing server (a database without traces)");
  CLI11_PARSE(app, argc, argv);
  if (traces == 0 || batch_docs == 0 || repeat <= 0) {
    fmt::print(stderr, "--traces, --batch and --repeat must be positive\n");
    return 2;
  }
  if (nodes != 1 && !(nodes == 2 && engine == "clickhouse")) {
    fmt::print(stderr, "--nodes 2 is for --engine clickhouse only\n");
    return 2;
  }

  const double now = static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count()) /
                     1e6;
  const double t0 = std::floor(now - 3600.0 - static_cast<double>(traces) * 0.01);
  std::vector<EnginesTrace> prepared;
  uint64_t json_bytes = 0;
  if (Status s = PrepareEnginesTraces(traces, t0, prepared, json_bytes); !s.ok()) {
    fmt::print(stderr, "{}\n", s.ToString());
    return 1;
  }

  // The stores: one per node (the embedded engines have one).
  std::filesystem::remove_all(dir);
  std::unique_ptr<store::clickhouse::testing::ClickHouseTestServer> server;
  std::vector<std::unique_ptr<store::Store>> stores;
  store::block::BlockStore* block = nullptr;
  if (engine == "clickhouse") {
    store::clickhouse::ClickHouseStoreOptions options;
    if (clickhouse_url.empty()) {
      auto started = store::clickhouse::testing::ClickHouseTestServer::Start(dir);
      if (!started.ok()) {
        fmt::print(stderr, "clickhouse-server: {}\n", started.status().ToString());
        return 1;
      }
      server = std::move(*started);
      options.url = server->Url("roentgen_bench");
    } else {
      auto url = store::clickhouse::ParseClickHouseUrl(clickhouse_url);
      if (!url.ok()) {
        fmt::print(stderr, "--clickhouse-url: {}\n", url.status().ToString());
        return 2;
      }
      options.url = *url;
    }
    for (int n = 0; n < nodes; ++n) {
      auto opened = store::clickhouse::OpenClickHouseStore(options);
      if (!opened.ok()) {
        fmt::print(stderr, "open: {}\n", opened.status().ToString());
        return 1;
      }
      stores.push_back(std::move(*opened));
    }
    if (const uint64_t held = stores[0]->Stats().traces; held != 0) {
      fmt::print(stderr, "{} already holds {} traces: give a fresh database\n",
                 options.url.ToString(), held);
      return 2;
    }
  } else if (engine == "block") {
    store::block::BlockStoreOptions options;
    options.compaction = false;  // a round started by its timer would be timed in part
    auto opened = store::block::BlockStore::Open(dir, options);
    if (!opened.ok()) {
      fmt::print(stderr, "open: {}\n", opened.status().ToString());
      return 1;
    }
    block = opened->get();
    stores.push_back(std::move(*opened));
  } else {
    store::RocksDbStoreConfig config;
    config.path = dir;
    auto opened = store::OpenRocksDbStore(config);
    if (!opened.ok()) {
      fmt::print(stderr, "open: {}\n", opened.status().ToString());
      return 1;
    }
    stores.push_back(std::move(*opened));
  }

  // Fill: each node's batches from a thread of its own.
  std::vector<std::vector<store::WriteBatch>> batches;
  if (nodes == 1) {
    batches.push_back(EnginesBatches(prepared, {0, 1}, batch_docs));
  } else {
    batches.push_back(EnginesBatches(prepared, {0}, batch_docs));
    batches.push_back(EnginesBatches(prepared, {1}, batch_docs));
  }
  std::atomic<bool> failed{false};
  const auto fill0 = EnginesSteady::now();
  std::vector<std::thread> writers;
  for (int n = 0; n < nodes; ++n) {
    writers.emplace_back([&, n] {
      for (const store::WriteBatch& wb : batches[n]) {
        if (Status s = stores[n]->Write(wb); !s.ok()) {
          fmt::print(stderr, "write (node {}): {}\n", n, s.ToString());
          failed = true;
          return;
        }
      }
    });
  }
  for (std::thread& w : writers) w.join();
  if (failed) return 1;
  if (block != nullptr) {
    if (Status s = block->Flush(); !s.ok()) {
      fmt::print(stderr, "flush: {}\n", s.ToString());
      return 1;
    }
  }
  const double fill_s = EnginesMs(EnginesSteady::now() - fill0) / 1000.0;
  const size_t documents = traces * 2;
  fmt::print(
      "engine={} nodes={} traces={} documents={} batch={} fill={:.2f}s "
      "rate={:.0f} segments/s ({:.0f} traces/s)\n",
      engine, nodes, traces, documents, batch_docs, fill_s, static_cast<double>(documents) / fill_s,
      static_cast<double>(traces) / fill_s);

  // Queries, on the first store.
  store::Store& st = *stores[0];
  struct EnginesQuery {
    const char* text;
    size_t page;  // 0: every match
  };
  const EnginesQuery queries[] = {
      {"responsetime > 1.5", 0},
      {R"(annotation.email = "user-4242@example.com")", 0},
      {R"(service("billing") { fault })", 20},
  };
  fmt::print("| query | p50 ms | mean ms | matches |\n|---|---:|---:|---:|\n");
  for (const EnginesQuery& q : queries) {
    auto compiled = filter::CompileFilter(q.text);
    if (!compiled.ok()) {
      fmt::print(stderr, "filter {}: {}\n", q.text, compiled.status().ToString());
      return 1;
    }
    auto shared = std::make_shared<const filter::CompiledFilter>(std::move(*compiled));
    std::vector<double> ms;
    size_t matches = 0;
    for (int r = 0; r < repeat; ++r) {
      store::ScanOptions so;
      so.start_us = static_cast<int64_t>(t0 * 1e6) - 1'000'000;
      so.end_us = static_cast<int64_t>((t0 + static_cast<double>(traces) * 0.01) * 1e6) + 10'000'000;
      so.filter = shared;
      so.searchable_only = true;
      size_t n = 0;
      const auto a = EnginesSteady::now();
      auto progress = st.Scan(so, [&](const store::TraceRecord&, int64_t) {
        ++n;
        return q.page == 0 || n < q.page;
      });
      ms.push_back(EnginesMs(EnginesSteady::now() - a));
      if (!progress.ok()) {
        fmt::print(stderr, "scan {}: {}\n", q.text, progress.status().ToString());
        return 1;
      }
      matches = n;
    }
    const EnginesTiming t = SummarizeEnginesMs(ms);
    fmt::print("| `{}` {} | {:.2f} | {:.2f} | {} |\n", q.text,
               q.page == 0 ? "every match" : "first page of 20", t.p50, t.mean, matches);
  }

  const store::StoreStats stats = st.Stats();
  // Stats().traces is approximate: ClickHouse counts record rows that its
  // merges have not yet folded into one per trace.
  fmt::print("disk {} bytes = {:.1f}% of the raw JSON documents' {} bytes; Stats().traces {}\n",
             stats.disk_bytes,
             100.0 * static_cast<double>(stats.disk_bytes) / static_cast<double>(json_bytes),
             json_bytes, stats.traces);

  stores.clear();
  if (server != nullptr) {
    if (Status s = server->Stop(); !s.ok()) fmt::print(stderr, "stop: {}\n", s.ToString());
  }
  std::filesystem::remove_all(dir);
  return 0;
}
