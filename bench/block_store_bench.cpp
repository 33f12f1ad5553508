// The block engine's reads (src/store/block/block_store.h) on bench/segment_gen
// traces: point reads by trace id (a hit, a miss) and filtered scans (a first
// page of 20 and every match).
//
// Fills a BlockStore with --traces traces as the ingest writer prepares them
// (one bench/segment_gen document per trace, parsed, assembled, summarized,
// graphed), flushing every --block-rows traces so the store holds blocks of
// that size, then times GetTrace of --lookups random stored ids (hit) and
// --lookups fresh ids of the first second and as many of the second after the
// newest trace (misses; the latter is the ingest writer's look-up of each new
// trace), and Scan over the whole range with each filter
// of the issue: first page (callback stops after 20) and all matches.
// --head-traces N leaves the newest N traces unflushed, in the heads, where a
// server's recent traces are (not with --reuse: the heads are not kept).
// Figures are medians (p50) and the mean of --repeat runs, wall-clock, and
// the p50 of the scanning thread's CPU time (steadier than wall-clock on a
// machine shared with other work).
// Then compacts the store (BlockStore::Compact() until a round has nothing
// to merge) and reports the blocks' bytes before and after as a share of
// the raw JSON documents, and the compaction's wall-clock time
// (--skip-compaction leaves it out).
//
// --reuse reads the store an earlier run left in --dir (give the same
// --traces: the scans' time range follows from it), --filter picks the
// scans to time (e.g. for perf record), --paged N also pages through each
// filter's matches as GetTraceSummaries does (a new Scan a page of 100,
// resuming after the last), up to N pages.
//
//   build/bench/block_store_bench --traces 200000
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "filter/filter.h"
#include "graph/trace_graph.h"
#include "segment_gen.h"
#include "store/block/block_store.h"
#include "store/block/summary_columns.h"
#include "xray/segment_parser.h"
#include "xray/trace.h"

namespace {

using namespace roentgen;
using Steady = std::chrono::steady_clock;

double Ms(Steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
// The calling thread's CPU time, in ms.
double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct Timing {
  double p50 = 0;
  double mean = 0;
};

Timing Summarize(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  Timing t;
  t.p50 = ms[ms.size() / 2];
  for (double m : ms) t.mean += m;
  t.mean /= static_cast<double>(ms.size());
  return t;
}

// Where the blocks' bytes go: every block file under `dir`/blocks opened
// and its parts (BlockReader::Layout) summed by name, largest first, against
// the raw JSON and per trace.
bool PrintBreakdown(const std::string& dir, uint64_t json_bytes, size_t traces,
                    std::string_view title) {
  struct Sum {
    std::string kind, name;
    uint64_t stored = 0, raw = 0;
  };
  std::vector<Sum> sums;
  uint64_t total = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir + "/blocks")) {
    if (e.path().extension() != ".blk") continue;
    auto reader = store::block::BlockReader::Open(e.path().string());
    if (!reader.ok()) {
      fmt::print(stderr, "open {}: {}\n", e.path().string(), reader.status().ToString());
      return false;
    }
    total += (*reader)->file_bytes();
    for (const auto& part : (*reader)->Layout()) {
      // The annotation value columns differ by block: one line for them all.
      const bool annotation = part.name.starts_with("annotation.");
      const std::string name = annotation ? "annotation.*" : part.name;
      auto it = std::find_if(sums.begin(), sums.end(),
                             [&](const Sum& s) { return s.kind == part.kind && s.name == name; });
      if (it == sums.end()) it = sums.insert(sums.end(), Sum{part.kind, name});
      it->stored += part.stored_bytes;
      it->raw += part.raw_bytes;
    }
  }
  std::sort(sums.begin(), sums.end(),
            [](const Sum& a, const Sum& b) { return a.stored > b.stored; });
  const auto pct = [&](uint64_t b) {
    return 100.0 * static_cast<double>(b) / static_cast<double>(json_bytes);
  };
  fmt::print("{}: {} bytes, {:.1f}% of the JSON\n", title, total, pct(total));
  fmt::print(
      "| part | stored bytes | raw bytes | B/trace | % of the JSON |\n|---|---:|---:|---:|---:|\n");
  for (const Sum& s : sums) {
    fmt::print("| {} {} | {} | {} | {:.1f} | {:.2f}% |\n", s.kind, s.name, s.stored, s.raw,
               static_cast<double>(s.stored) / static_cast<double>(traces), pct(s.stored));
  }
  return true;
}

// A field of /proc/self/status in KiB ("VmRSS:", "VmHWM:"); 0 if absent.
uint64_t ResidentKiB(std::string_view field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(field)) return std::strtoull(line.c_str() + field.size(), nullptr, 10);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"block engine: point reads and filtered scans"};
  size_t traces = 100000;
  size_t block_rows = 25000;
  size_t lookups = 200;
  int repeat = 5;
  std::string dir = "/tmp/roentgen-block-store-bench";
  size_t paged_pages = 0;
  int compaction_zstd_level = store::block::BlockStoreOptions{}.compaction_zstd_level;
  size_t fanin = store::block::BlockStoreOptions{}.compaction_fanin;
  size_t page_bytes = store::block::BlockStoreOptions{}.compaction_page_raw_bytes;
  app.add_option("--traces", traces, "traces in the store");
  app.add_option("--block-rows", block_rows, "traces per flush (block size)");
  app.add_option("--lookups", lookups, "GetTrace calls per kind");
  app.add_option("--repeat", repeat, "runs of each scan");
  app.add_option("--dir", dir, "directory for the store (deleted first)");
  app.add_option("--compaction-zstd-level", compaction_zstd_level,
                 "zstd level of compaction's output");
  app.add_option("--fanin", fanin, "blocks merged into one by compaction");
  app.add_option("--compaction-page-bytes", page_bytes,
                 "raw document bytes per page of compaction's output");
  size_t head_traces = 0;
  app.add_option("--head-traces", head_traces,
                 "the newest traces written without a flush: scans read them from the heads, as a "
                 "server's recent traces");
  bool skip_compaction = false;
  app.add_flag("--skip-compaction", skip_compaction, "time the reads only");
  bool compaction_by_records = false;
  app.add_flag("--compaction-by-records", compaction_by_records,
               "compact by decoding every row (BlockStoreOptions::compaction_by_columns false), "
               "to compare with compaction by columns");
  bool reuse = false;
  app.add_flag("--reuse", reuse,
               "read the store a previous run left in --dir (same --traces) instead of filling "
               "a new one");
  std::vector<std::string> only_filters;
  app.add_option("--paged", paged_pages,
                 "also page through every match as GetTraceSummaries does (100 summaries and at "
                 "most 10,000 examined a page, each page a new Scan resuming after the last), at "
                 "most this many pages (0: not)");
  app.add_option("--filter", only_filters,
                 "scan only with these filters (repeatable; \"\" for all traces)");
  CLI11_PARSE(app, argc, argv);
  if (traces == 0 || block_rows == 0 || lookups == 0 || repeat <= 0) {
    fmt::print(stderr, "--traces, --block-rows, --lookups and --repeat must be positive\n");
    return 2;
  }

  if (!reuse) std::filesystem::remove_all(dir);
  store::block::BlockStoreOptions options;
  options.shards = 1;
  options.cut_interval_us = 3'600'000'000;  // the bench flushes
  options.head.quiet_us = options.head.max_age_us = 3'600'000'000;
  options.head.max_bytes = uint64_t{1} << 40;
  options.compaction = false;  // the bench compacts at the end
  options.compaction_zstd_level = compaction_zstd_level;
  options.compaction_fanin = fanin;
  options.compaction_page_raw_bytes = page_bytes;
  options.compaction_by_columns = !compaction_by_records;
  auto opened = store::block::BlockStore::Open(dir, options);
  if (!opened.ok()) {
    fmt::print(stderr, "open: {}\n", opened.status().ToString());
    return 1;
  }
  store::block::BlockStore& st = **opened;

  bench::SegmentGenerator gen(42);
  xray::SegmentParser parser;
  xray::ParseFailure failure;
  std::vector<xray::SegmentDocument> parsed;
  std::vector<xray::TraceId> ids;
  std::vector<std::string> raws;
  store::WriteBatch batch;
  const double t0 = 1.7e9;
  uint64_t json_bytes = 0;
  double cut_ms = 0, cut_cpu_ms = 0;  // the flushes (the cuts' block writes)
  const auto fill0 = Steady::now();
  for (size_t i = 0; i < (reuse ? 0 : traces); ++i) {
    raws.push_back(gen.Next(t0 + static_cast<double>(i) * 0.01));
    json_bytes += raws.back().size();
    parsed.clear();
    if (!parser.Parse(raws.back(), parsed, failure) || parsed.size() != 1) {
      fmt::print(stderr, "segment_gen made a document that does not parse\n");
      return 1;
    }
    xray::ReceivedDocument received{std::move(parsed.front()), static_cast<int64_t>(t0 * 1e6) +
                                                                   static_cast<int64_t>(i) * 10000};
    const std::vector<const xray::ReceivedDocument*> one{&received};
    const xray::AssembledTrace trace = xray::AssembleTrace(*received.doc.entity.trace_id, one);
    store::TraceRecord record{xray::Summarize(trace), graph::DeriveTraceGraph(trace)};
    record.summary.revision = 1;
    record.summary.updated_us = trace.last_received_us;
    record.summary.indexed = true;
    ids.push_back(record.summary.id);
    batch.documents.push_back(
        {record.summary.id, received.doc.entity.id, received.received_us, {}});
    batch.traces.push_back(std::move(record));
    batch.new_traces.push_back(true);
    if (batch.traces.size() == 1000 || i + 1 == traces || (i + 1) % block_rows == 0) {
      // raws may reallocate: point the documents at their strings only now.
      for (size_t k = 0; k < batch.documents.size(); ++k) {
        batch.documents[k].raw = raws[raws.size() - batch.documents.size() + k];
      }
      if (Status s = st.Write(batch); !s.ok()) {
        fmt::print(stderr, "write: {}\n", s.ToString());
        return 1;
      }
      batch = {};
      raws.clear();
    }
    const size_t flushed = traces - std::min(head_traces, traces);
    if (i + 1 <= flushed && ((i + 1) % block_rows == 0 || i + 1 == flushed)) {
      const auto f0 = Steady::now();
      const double fcpu0 = ThreadCpuMs();
      const Status s = st.Flush();
      cut_cpu_ms += ThreadCpuMs() - fcpu0;
      cut_ms += Ms(Steady::now() - f0);
      if (!s.ok()) {
        fmt::print(stderr, "flush: {}\n", s.ToString());
        return 1;
      }
    }
  }
  const double fill_ms = Ms(Steady::now() - fill0);
  if (reuse) {
    // The ids to look up: the newest stored traces.
    store::ScanOptions so;
    so.start_us = INT64_MIN;
    so.end_us = INT64_MAX;
    auto p = st.Scan(so, [&](const store::TraceRecord& r, int64_t) {
      ids.push_back(r.summary.id);
      return ids.size() < 10 * lookups;
    });
    if (!p.ok() || ids.empty()) {
      fmt::print(stderr, "--reuse: no traces in {}\n", dir);
      return 1;
    }
  }

  std::mt19937_64 rng(7);
  // A miss of an id of the first second (the oldest block's) and of the
  // second after the newest trace (what the ingest writer looks up for each
  // new trace).
  std::vector<double> hit_ms, miss_ms, new_miss_ms;
  const auto newest_second = static_cast<uint32_t>(t0 + static_cast<double>(traces) * 0.01 + 1);
  // Times GetTrace of an id no trace has; false if it found one.
  auto time_miss = [&st](uint32_t second, std::vector<double>& ms) {
    const xray::TraceId missing = xray::TraceId::Generate(second);
    const auto begin = Steady::now();
    auto m = st.GetTrace(missing);
    ms.push_back(Ms(Steady::now() - begin));
    return !m.ok() && m.status().code() == StatusCode::kNotFound;
  };
  for (size_t i = 0; i < lookups; ++i) {
    const xray::TraceId& id = ids[rng() % ids.size()];
    const auto a = Steady::now();
    auto r = st.GetTrace(id);
    hit_ms.push_back(Ms(Steady::now() - a));
    if (!r.ok()) {
      fmt::print(stderr, "GetTrace hit: {}\n", r.status().ToString());
      return 1;
    }
    if (!time_miss(static_cast<uint32_t>(t0), miss_ms) || !time_miss(newest_second, new_miss_ms)) {
      fmt::print(stderr, "GetTrace of an absent id found something\n");
      return 1;
    }
  }
  const Timing hit = Summarize(hit_ms), miss = Summarize(miss_ms),
               new_miss = Summarize(new_miss_ms);

  fmt::print("traces {}, blocks of {} rows, fill {:.0f} ms, read cache {} bytes\n", traces,
             block_rows, fill_ms, st.Stats().read_cache_bytes);
  fmt::print("cuts (Flush) {:.0f} ms wall, {:.0f} ms CPU: {:.1f} us per trace wall, {:.1f} CPU\n",
             cut_ms, cut_cpu_ms, cut_ms * 1000.0 / static_cast<double>(traces),
             cut_cpu_ms * 1000.0 / static_cast<double>(traces));
  if (!PrintBreakdown(dir, json_bytes, traces, "cut blocks")) return 1;
  fmt::print("| read | p50 ms | mean ms | CPU p50 ms | matches |\n|---|---:|---:|---:|---:|\n");
  fmt::print("| GetTrace hit | {:.4f} | {:.4f} | | |\n", hit.p50, hit.mean);
  fmt::print("| GetTrace miss (the first second's id) | {:.4f} | {:.4f} | | |\n", miss.p50,
             miss.mean);
  fmt::print("| GetTrace miss (a new trace's id) | {:.4f} | {:.4f} | | |\n", new_miss.p50,
             new_miss.mean);

  std::vector<std::string> filters = {"", "responsetime > 1.5",
                                      R"(annotation.email = "user-4242@example.com")",
                                      R"(service("billing") { fault })"};
  if (!only_filters.empty()) filters = only_filters;
  for (const std::string& text : filters) {
    std::shared_ptr<const filter::CompiledFilter> compiled;
    if (!text.empty()) {
      auto f = filter::CompileFilter(text);
      if (!f.ok()) {
        fmt::print(stderr, "filter {}: {}\n", text, f.status().ToString());
        return 1;
      }
      compiled = std::make_shared<const filter::CompiledFilter>(std::move(*f));
    }
    // The store's whole range with the filter, as a scan of every test below.
    auto whole_range_scan = [&] {
      store::ScanOptions so;
      so.start_us = static_cast<int64_t>(t0 * 1e6) - 1'000'000;
      so.end_us =
          static_cast<int64_t>((t0 + static_cast<double>(traces) * 0.01) * 1e6) + 10'000'000;
      so.filter = compiled;
      so.searchable_only = true;
      return so;
    };
    size_t all_matches = 0;
    for (const size_t page : {size_t{20}, size_t{0}}) {
      std::vector<double> ms, cpu_ms;
      size_t matches = 0;
      for (int r = 0; r < repeat; ++r) {
        store::ScanOptions so = whole_range_scan();
        size_t n = 0;
        const auto a = Steady::now();
        const double cpu0 = ThreadCpuMs();
        auto p = st.Scan(so, [&](const store::TraceRecord&, int64_t) {
          ++n;
          return page == 0 || n < page;
        });
        cpu_ms.push_back(ThreadCpuMs() - cpu0);
        ms.push_back(Ms(Steady::now() - a));
        if (!p.ok()) {
          fmt::print(stderr, "scan {}: {}\n", text, p.status().ToString());
          return 1;
        }
        matches = n;
      }
      const Timing t = Summarize(ms), cpu = Summarize(cpu_ms);
      fmt::print("| Scan `{}` {} | {:.3f} | {:.3f} | {:.3f} | {} |\n",
                 text.empty() ? "(all)" : text, page == 0 ? "all matches" : "first page of 20",
                 t.p50, t.mean, cpu.p50, matches);
      if (page == 0) all_matches = matches;
    }
    if (paged_pages > 0) {
      // As src/api/xray_read.cpp pages GetTraceSummaries: each page a new
      // Scan resuming after the previous page's last trace.
      constexpr size_t kPerPage = 100;
      std::optional<store::ScanCursor> resume;
      size_t pages = 0, n = 0;
      const auto a = Steady::now();
      const double cpu0 = ThreadCpuMs();
      for (;;) {
        store::ScanOptions so = whole_range_scan();
        so.max_examined = 10000;
        so.resume_after = resume;
        size_t in_page = 0;
        auto p = st.Scan(so, [&](const store::TraceRecord&, int64_t) {
          if (in_page == kPerPage) return false;
          ++in_page;
          return true;
        });
        if (!p.ok()) {
          fmt::print(stderr, "paged scan {}: {}\n", text, p.status().ToString());
          return 1;
        }
        ++pages;
        n += in_page;
        if (!p->stopped_at || !p->last || pages == paged_pages) break;
        resume = p->last;
      }
      const double cpu = ThreadCpuMs() - cpu0, wall = Ms(Steady::now() - a);
      fmt::print(
          "| Scan `{}` paged by 100 | {} pages, {:.0f} ms wall, {:.0f} ms CPU | {:.3f} ms/page | "
          "{:.3f} CPU ms/page | {}{} |\n",
          text.empty() ? "(all)" : text, pages, wall, cpu, wall / static_cast<double>(pages),
          cpu / static_cast<double>(pages), n,
          pages < paged_pages && n != all_matches ? " MISMATCH with the unpaged scan" : "");
    }
  }
  fmt::print("read cache after the scans: {} bytes\n", st.Stats().read_cache_bytes);
  if (skip_compaction) return 0;

  // The block files' bytes and count.
  auto blocks = [&] {
    std::pair<uint64_t, size_t> out{0, 0};
    for (const auto& e : std::filesystem::directory_iterator(dir + "/blocks")) {
      if (e.path().extension() != ".blk") continue;
      out.first += e.file_size();
      ++out.second;
    }
    return out;
  };
  const auto [bytes_before, blocks_before] = blocks();
  // The process's peak resident set from here on (Linux: "5" resets
  // VmHWM), so that the filling and the scans do not count.
  const uint64_t rss_before = ResidentKiB("VmRSS:");
  std::ofstream("/proc/self/clear_refs") << "5";
  const auto c0 = Steady::now();
  const double ccpu0 = ThreadCpuMs();
  int rounds = 0;
  for (;;) {
    auto replaced = st.Compact();
    if (!replaced.ok()) {
      fmt::print(stderr, "compact: {}\n", replaced.status().ToString());
      return 1;
    }
    if (*replaced == 0) break;
    ++rounds;
  }
  const double compact_ms = Ms(Steady::now() - c0);
  const double compact_cpu_ms = ThreadCpuMs() - ccpu0;
  const auto [bytes_after, blocks_after] = blocks();
  const auto pct = [&](uint64_t b) {
    return 100.0 * static_cast<double>(b) / static_cast<double>(json_bytes);
  };
  fmt::print("raw JSON documents {} bytes\n", json_bytes);
  fmt::print("| blocks | files | bytes | % of the JSON |\n|---|---:|---:|---:|\n");
  fmt::print("| cut (zstd {}) | {} | {} | {:.1f}% |\n", options.zstd_level, blocks_before,
             bytes_before, pct(bytes_before));
  fmt::print("| compacted (zstd {}, pages of {} KiB, fan-in {}, {} rounds) | {} | {} | {:.1f}% |\n",
             compaction_zstd_level, page_bytes >> 10, fanin, rounds, blocks_after, bytes_after,
             pct(bytes_after));
  fmt::print("compaction {:.0f} ms ({:.1f} us per trace), {:.0f} ms CPU ({:.1f} us per trace)\n",
             compact_ms, compact_ms * 1000.0 / static_cast<double>(traces), compact_cpu_ms,
             compact_cpu_ms * 1000.0 / static_cast<double>(traces));
  fmt::print("compaction by {}: resident {} MiB before, peak {} MiB during\n",
             compaction_by_records ? "records" : "columns", rss_before >> 10,
             ResidentKiB("VmHWM:") >> 10);
  if (!PrintBreakdown(dir, json_bytes, traces, "compacted blocks")) return 1;
  return 0;
}
