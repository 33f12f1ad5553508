// The block file format (src/store/block) on a block of bench/segment_gen
// traces: what a block costs to write, how small it is, and how fast a
// predicate's columns decode.
//
// Prepares --rows traces as the ingest writer does (one bench/segment_gen
// document per trace, parsed, assembled, summarized, graphed), sorts them by
// (start, id), then times WriteBlock (encoding, compression, the write and its
// fsync) and, on the written file, Open plus the decoding of the start,
// duration and response-time columns, and counts `responsetime > 1.5` over
// the decoded column. Also times the rest of what a cut spends on its rows:
// the rollup section (RollupsOfRecords and its encoding) and the rows'
// destruction. Figures are the best of --repeat runs, in wall-clock and in
// this process's CPU time. The traces' ids are seeded: every run (and every
// build) writes the same rows, so two builds' blocks can be compared byte for
// byte (cmp the --dir files).
//
//   build/bench/block_bench --rows 100000
//   build/bench/block_bench --rows 20000 --zstd-level 1 --repeat 5   # as the engine's cut writes
#include <fmt/format.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "graph/trace_graph.h"
#include "segment_gen.h"
#include "store/block/rollup_section.h"
#include "store/block/summary_columns.h"
#include "store/record_codec.h"
#include "xray/segment_parser.h"
#include "xray/trace.h"

namespace {

using namespace roentgen;
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// This process's CPU time (user + system), in ms: steadier than wall time on
// a shared machine.
double CpuMs() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"block file format: write, size, column decode"};
  size_t rows = 100000;
  int repeat = 3;
  std::string dir = "/tmp/roentgen-block-bench";
  app.add_option("--rows", rows, "traces in the block");
  app.add_option("--repeat", repeat, "runs; the best is reported");
  int zstd_level = store::block::BlockWriteOptions{}.zstd_level;
  app.add_option("--zstd-level", zstd_level, "WriteBlock's level (the engine's cuts use 1)");
  app.add_option("--dir", dir, "directory for the block (deleted first)");
  CLI11_PARSE(app, argc, argv);

  bench::SegmentGenerator gen(42, /*seeded_ids=*/true);  // the same block every run
  xray::SegmentParser parser;
  xray::ParseFailure failure;
  std::vector<store::TraceRecord> records;
  std::vector<std::vector<store::StoredDocument>> docs;
  size_t json_bytes = 0;
  size_t record_codec_bytes = 0;
  std::vector<xray::SegmentDocument> parsed;
  std::string encoded;
  for (size_t i = 0; i < rows; ++i) {
    const std::string raw = gen.Next(1.7e9 + static_cast<double>(i) * 0.01);
    json_bytes += raw.size();
    parsed.clear();
    if (!parser.Parse(raw, parsed, failure) || parsed.size() != 1) {
      fmt::print(stderr, "segment_gen made a document that does not parse\n");
      return 1;
    }
    xray::ReceivedDocument received{std::move(parsed.front()),
                                    static_cast<int64_t>(1.7e15) + static_cast<int64_t>(i) * 10000};
    const std::vector<const xray::ReceivedDocument*> one{&received};
    const xray::AssembledTrace trace = xray::AssembleTrace(*received.doc.entity.trace_id, one);
    store::TraceRecord record{xray::Summarize(trace), graph::DeriveTraceGraph(trace)};
    record.summary.revision = 1;
    record.summary.updated_us = trace.last_received_us;
    encoded.clear();
    store::EncodeTraceRecord(record, encoded);
    record_codec_bytes += encoded.size();
    docs.push_back({{received.doc.entity.id, received.received_us, raw}});
    records.push_back(std::move(record));
  }
  std::vector<size_t> order(rows);
  for (size_t i = 0; i < rows; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const auto& x = records[a].summary;
    const auto& y = records[b].summary;
    return std::tie(x.start_time_us, x.id.bytes) < std::tie(y.start_time_us, y.id.bytes);
  });
  std::vector<store::TraceRecord> sorted_records;
  std::vector<std::vector<store::StoredDocument>> sorted_docs;
  for (size_t i : order) {
    sorted_records.push_back(std::move(records[i]));
    sorted_docs.push_back(std::move(docs[i]));
  }

  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/block";
  store::block::BlockWriteOptions options;
  options.zstd_level = zstd_level;
  double write_ms = 1e100;
  double write_cpu_ms = 1e100;
  double decode_ms = 1e100;
  double decode_cpu_ms = 1e100;
  size_t slow = 0;
  for (int run = 0; run < repeat; ++run) {
    const double c0 = CpuMs();
    const auto t0 = Clock::now();
    const Status s = store::block::WriteBlock(sorted_records, sorted_docs, path, options);
    const auto t1 = Clock::now();
    write_cpu_ms = std::min(write_cpu_ms, CpuMs() - c0);
    if (!s.ok()) {
      fmt::print(stderr, "WriteBlock: {}\n", s.ToString());
      return 1;
    }
    write_ms = std::min(write_ms, Ms(t1 - t0));

    const double c2 = CpuMs();
    const auto t2 = Clock::now();
    auto reader = store::block::BlockReader::Open(path);
    if (!reader.ok()) {
      fmt::print(stderr, "Open: {}\n", reader.status().ToString());
      return 1;
    }
    auto start = (*reader)->ReadInt64(store::block::col::kStart);
    auto duration = (*reader)->ReadOptionalInt64(store::block::col::kDuration);
    auto response = (*reader)->ReadOptionalInt64(store::block::col::kResponseTime);
    const auto t3 = Clock::now();
    if (!start.ok() || !duration.ok() || !response.ok()) {
      fmt::print(stderr, "column decode failed\n");
      return 1;
    }
    decode_ms = std::min(decode_ms, Ms(t3 - t2));
    decode_cpu_ms = std::min(decode_cpu_ms, CpuMs() - c2);
    store::block::Bitmap selected((*reader)->row_count());
    store::block::SelectGreater(*response, 1'500'000, selected);
    slow = selected.Count();
  }
  // The rest of a cut's CPU beside WriteBlock: its rollup section, and the
  // destruction of its rows once committed (here of a copy, made anew for
  // each run; the copy is not timed).
  double rollups_cpu_ms = 1e100;
  double destroy_cpu_ms = 1e100;
  size_t rollup_bytes = 0;
  for (int run = 0; run < repeat; ++run) {
    const double c0 = CpuMs();
    const std::string section =
        store::block::EncodeRollupSection(store::block::RollupsOfRecords(sorted_records));
    rollups_cpu_ms = std::min(rollups_cpu_ms, CpuMs() - c0);
    rollup_bytes = section.size();
    auto copy = std::make_unique<std::vector<store::TraceRecord>>(sorted_records);
    const double c1 = CpuMs();
    copy.reset();
    destroy_cpu_ms = std::min(destroy_cpu_ms, CpuMs() - c1);
  }

  const size_t disk = std::filesystem::file_size(path);
  auto reader = store::block::BlockReader::Open(path);
  if (!reader.ok()) return 1;
  size_t column_bytes = 0;
  for (const auto& c : (*reader)->columns()) column_bytes += c.extent.size;

  fmt::print("rows                                   {}\n", rows);
  fmt::print(
      "write (encode + compress + fsync)      wall {:.1f} ms ({:.2f} us/row), CPU {:.1f} ms "
      "({:.2f} us/row)\n",
      write_ms, write_ms * 1000 / static_cast<double>(rows), write_cpu_ms,
      write_cpu_ms * 1000 / static_cast<double>(rows));
  fmt::print("rollup section (sum + encode)          CPU {:.1f} ms ({:.2f} us/row), {} bytes\n",
             rollups_cpu_ms, rollups_cpu_ms * 1000 / static_cast<double>(rows), rollup_bytes);
  fmt::print("destroy the rows (a copy)              CPU {:.1f} ms ({:.2f} us/row)\n",
             destroy_cpu_ms, destroy_cpu_ms * 1000 / static_cast<double>(rows));
  fmt::print("raw JSON documents                     {} bytes ({:.0f} B/trace)\n", json_bytes,
             static_cast<double>(json_bytes) / static_cast<double>(rows));
  fmt::print("records in record_codec encoding       {} bytes ({:.0f} B/trace)\n",
             record_codec_bytes,
             static_cast<double>(record_codec_bytes) / static_cast<double>(rows));
  fmt::print(
      "block file                             {} bytes ({:.0f} B/trace, {:.1f}% of the JSON)\n",
      disk, static_cast<double>(disk) / static_cast<double>(rows),
      100.0 * static_cast<double>(disk) / static_cast<double>(json_bytes));
  fmt::print("  of which columns                     {} bytes ({:.0f} B/trace)\n", column_bytes,
             static_cast<double>(column_bytes) / static_cast<double>(rows));
  fmt::print("open + decode start, duration, response time  wall {:.2f} ms, CPU {:.2f} ms\n",
             decode_ms, decode_cpu_ms);
  fmt::print("responsetime > 1.5                     {} rows\n", slow);
  return 0;
}
