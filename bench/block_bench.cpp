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
// With --cut, times the cutter's path alone instead (RunCuts below): the
// rows applied to a head just over its memory bound, then the cut of its
// older half, step by step, as BlockStore's cutter runs it (less the
// manifest edit).
//
//   build/bench/block_bench --rows 100000
//   build/bench/block_bench --rows 20000 --zstd-level 1 --repeat 5   # as the engine's cut writes
//   build/bench/block_bench --rows 28000 --zstd-level 1 --repeat 4 --cut   # a cut of 14,007 rows
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
#include "graph/trace_record.h"
#include "segment_gen.h"
#include "store/block/head.h"
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

// The cutter's path (BlockStore's cut, less the manifest edit) on a head
// over its bound, as in a burst: each run applies copies of the rows to a
// fresh head (not timed) whose bound is just under what they take, so that
// a cut seals its older half, then times that cut's steps. Prints each
// step's best CPU time a sealed row.
int RunCuts(const std::vector<store::TraceRecord>& records,
            const std::vector<std::vector<store::StoredDocument>>& docs, const std::string& path,
            int zstd_level, int repeat) {
  const auto no_older =
      [](const xray::TraceId&) -> Result<std::optional<store::block::OlderVersion>> {
    return std::optional<store::block::OlderVersion>();
  };
  const char* kSteps[] = {"TakeCut",   "rollup section", "WriteBlock", "BlockReader::Open",
                          "CommitCut", "the cut freed",  "total"};
  constexpr size_t kStepCount = std::size(kSteps);
  std::vector<double> best(kStepCount, 1e100);
  size_t cut_rows = 0;
  constexpr int64_t kNow = 1'700'000'000'000'000;
  for (int run = 0; run < repeat; ++run) {
    std::vector<store::TraceRecord> copies = records;  // the head takes them
    uint64_t held = 0;  // what the head will count (the copies' capacities)
    for (size_t i = 0; i < copies.size(); ++i) {
      held += graph::EstimateMemoryBytes(copies[i]);
      for (const auto& d : docs[i]) held += sizeof(store::StoredDocument) + d.raw.size();
    }
    store::block::HeadOptions head_options;
    head_options.quiet_us = head_options.max_age_us = int64_t{1} << 60;  // due by size only
    head_options.max_bytes = held - 1;
    store::block::Head head(head_options);
    // One write a row, oldest first (the head cuts the first written).
    for (size_t i = 0; i < copies.size(); ++i) {
      store::WriteBatch one;
      one.traces.push_back(std::move(copies[i]));
      for (const auto& d : docs[i]) {
        one.documents.push_back({records[i].summary.id, d.entity_id, d.received_us, d.raw});
      }
      if (!head.Apply(std::move(one), kNow + static_cast<int64_t>(i), no_older).ok()) return 1;
    }
    if (run == 0 && head.stats().memory_bytes != held) {
      fmt::print(stderr, "the head holds {} bytes, {} expected\n", head.stats().memory_bytes, held);
    }
    std::vector<double> t(kStepCount + 1);
    t[0] = CpuMs();
    std::shared_ptr<const store::block::Cut> cut =
        head.TakeCut(1, kNow + static_cast<int64_t>(records.size()));
    t[1] = CpuMs();
    const std::vector<const store::TraceRecord*> rows = cut->RowPointers();
    store::block::BlockWriteOptions options;
    options.zstd_level = zstd_level;
    options.sections.emplace_back(
        std::string(store::block::kRollupSection),
        store::block::EncodeRollupSection(store::block::RollupsOfPointedRecords(rows)));
    t[2] = CpuMs();
    if (const Status s = store::block::WriteBlock(rows, cut->documents, path, options); !s.ok()) {
      fmt::print(stderr, "WriteBlock: {}\n", s.ToString());
      return 1;
    }
    t[3] = CpuMs();
    if (!store::block::BlockReader::Open(path).ok()) return 1;
    t[4] = CpuMs();
    head.Committed(*cut);
    t[5] = CpuMs();
    cut_rows = cut->size();
    cut.reset();
    t[6] = CpuMs();
    for (size_t k = 0; k + 1 < kStepCount; ++k) best[k] = std::min(best[k], t[k + 1] - t[k]);
    best[kStepCount - 1] = std::min(best[kStepCount - 1], t[6] - t[0]);
  }
  fmt::print("rows cut                               {} of {}\n", cut_rows, records.size());
  for (size_t k = 0; k < kStepCount; ++k) {
    fmt::print("{:<38} CPU {:.1f} ms ({:.2f} us/row)\n", kSteps[k], best[k],
               best[k] * 1000 / static_cast<double>(std::max<size_t>(1, cut_rows)));
  }
  return 0;
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
  bool cut_only = false;
  app.add_flag("--cut", cut_only,
               "time the cutter's path alone: the rows applied to a head over its memory "
               "bound (not timed), then the cut of its older half (TakeCut, rollup section, "
               "WriteBlock, Open, CommitCut, the cut freed)");
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
  if (cut_only) return RunCuts(sorted_records, sorted_docs, path, zstd_level, repeat);
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
