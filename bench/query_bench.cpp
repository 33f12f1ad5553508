// query_bench: GetTraceSummaries latency over a RocksDB store of 1M traces
// (issue 4). Builds the data set once (bench/query_dataset.h) in --data-dir and
// reuses it; then times, warm, each query two ways:
//   api   the GetTraceSummaries handler through api::Router in process: request
//         JSON parsing, filter compilation, store scan, filter, response JSON;
//   store Store::Scan with the compiled filter (the engine narrows and matches),
//         stopping as the handler's first page does (100 matches or 10000
//         candidates), no JSON.
// Queries: annotation.email = "<one of 50k users>" over the window (a new user
// each run), service("api") { fault } (first page), and the full scan
// responsetime > 1.5 over every trace (api: every page until no NextToken;
// store: one Scan over the window).
// --only analytics times Roentgen's TraceAnalytics handler instead: over the
// most recent --analytics-traces traces' window (default 100k) without a
// filter, with an indexed, an unindexed and a graph filter, and over the whole
// window, where the default MaxTraces stops the scan.
#include <fmt/format.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "api/http.h"
#include "api/xray_handlers.h"
#include "filter/filter.h"
#include "query_dataset.h"
#include "store/rocksdb/rocksdb_store.h"

namespace roentgen::bench {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr size_t kPageSummaries = 100;     // api/xray_read.cpp kSummariesPerPage
constexpr size_t kPageCandidates = 10000;  // api/xray_read.cpp kMaxScannedPerPage

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// CPU time of the calling thread (the scans run on it), in ms: on the shared
// 2-core machine wall time also counts waiting for a core.
double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct Stats {
  double p50 = 0, p95 = 0, max = 0;
};

Stats Summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))]; };
  return {at(0.5), at(0.95), v.back()};
}

uint64_t DirectoryBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

class Bench {
 public:
  Bench(store::Store& store, const QueryDataset& data) : store_(store), data_(data) {
    // The dataset's ranges are not what is measured: no range limit.
    api::QueryLimits unlimited;
    unlimited.max_range_us = int64_t{253'402'300'800} * 1'000'000;  // to year 9999
    auto limits = std::make_shared<const api::ApiLimits>(unlimited, metrics_);
    api::RegisterReadApis(router_, store_, nullptr, limits);
    api::RegisterAnalyticsApis(router_, store_, nullptr, limits);
  }

  // One TraceAnalytics call over [start_us, end_us) (MaxTraces: the default
  // when 0): the handler's wall and thread CPU time, and the response.
  json Analytics(const std::string& filter, int64_t start_us, int64_t end_us, int64_t max_traces,
                 double& ms, double& cpu_ms) {
    json body = {{"StartTime", static_cast<double>(start_us) / 1e6},
                 {"EndTime", static_cast<double>(end_us) / 1e6}};
    if (!filter.empty()) body["FilterExpression"] = filter;
    if (max_traces > 0) body["MaxTraces"] = max_traces;
    api::HttpRequest request;
    request.method = "POST";
    request.path = request.target = "/roentgen/TraceAnalytics";
    request.body = body.dump();
    api::HttpResponse response;
    const double cpu0 = ThreadCpuMs();
    const auto t0 = Clock::now();
    router_.Dispatch(request, [&response](api::HttpResponse r) { response = std::move(r); });
    ms = Ms(Clock::now() - t0);
    cpu_ms = ThreadCpuMs() - cpu0;
    if (response.status != 200) {
      std::cerr << "TraceAnalytics failed: " << response.status << " " << response.body << "\n";
      std::exit(1);
    }
    return json::parse(response.body);
  }

  // One GetTraceSummaries call; returns the response JSON (aborts on error) and
  // adds the handler's time (request parsing to response body, not the
  // client's parsing of the response) to `ms`.
  json Call(const std::string& filter, const std::string& token, double& ms) {
    json body = {{"StartTime", static_cast<double>(data_.start_us) / 1e6},
                 {"EndTime", static_cast<double>(data_.end_us) / 1e6},
                 {"FilterExpression", filter}};
    if (!token.empty()) body["NextToken"] = token;
    api::HttpRequest request;
    request.method = "POST";
    request.path = request.target = "/TraceSummaries";
    request.body = body.dump();
    api::HttpResponse response;
    const auto t0 = Clock::now();
    router_.Dispatch(request, [&response](api::HttpResponse r) { response = std::move(r); });
    ms += Ms(Clock::now() - t0);
    if (response.status != 200) {
      std::cerr << "GetTraceSummaries failed: " << response.status << " " << response.body << "\n";
      std::exit(1);
    }
    return json::parse(response.body);
  }

  // First page through the API: (ms, summaries returned).
  std::pair<double, size_t> ApiFirstPage(const std::string& filter) {
    double ms = 0;
    const json page = Call(filter, "", ms);
    return {ms, page["TraceSummaries"].size()};
  }

  // Every page through the API: (ms, matches, pages).
  std::tuple<double, size_t, size_t> ApiAllPages(const std::string& filter) {
    double ms = 0;
    size_t matches = 0, pages = 0;
    std::string token;
    do {
      const json page = Call(filter, token, ms);
      ++pages;
      matches += page["TraceSummaries"].size();
      token = page.contains("NextToken") ? page["NextToken"].get<std::string>() : "";
    } while (!token.empty());
    return {ms, matches, pages};
  }

  // The handler's scan without HTTP/JSON: (ms, matches, candidates).
  std::tuple<double, size_t, size_t> StoreScan(const std::string& expression, bool first_page) {
    const auto t0 = Clock::now();
    Result<filter::CompiledFilter> f = filter::CompileFilter(expression);
    if (!f.ok()) {
      std::cerr << "filter: " << f.status().message() << "\n";
      std::exit(1);
    }
    store::ScanOptions options;
    options.start_us = data_.start_us;
    options.end_us = data_.end_us;
    options.filter = std::make_shared<const filter::CompiledFilter>(std::move(*f));
    if (first_page) options.max_examined = kPageCandidates;
    size_t matches = 0;
    Result<store::ScanProgress> progress =
        store_.Scan(options, [&](const store::TraceRecord&, int64_t) {
          if (first_page && matches >= kPageSummaries) return false;
          ++matches;
          return true;
        });
    if (!progress.ok()) {
      std::cerr << "scan: " << progress.status().message() << "\n";
      std::exit(1);
    }
    const size_t candidates = progress->examined;
    return {Ms(Clock::now() - t0), matches, candidates};
  }

 private:
  store::Store& store_;
  QueryDataset data_;
  MetricsRegistry metrics_;
  api::Router router_;
};

void Report(const std::string& name, const std::vector<double>& api, const std::vector<double>& st,
            const std::string& detail) {
  const Stats a = Summarize(api), s = Summarize(st);
  std::cout << fmt::format(
      "{:<44} api p50 {:8.2f} ms  p95 {:8.2f} ms  max {:8.2f} | store+filter p50 {:8.2f} ms  "
      "p95 {:8.2f} ms | {}\n",
      name, a.p50, a.p95, a.max, s.p50, s.p95, detail);
}

// TraceAnalytics: each case once to warm up, then `runs` timed runs.
int RunAnalytics(Bench& bench, const QueryDataset& data, size_t traces, int64_t max_traces,
                 int runs) {
  // Traces start evenly over the window: the most recent `traces` of them.
  const int64_t window_us = data.end_us - data.start_us;
  const int64_t recent_us = static_cast<int64_t>(
      static_cast<double>(window_us) * std::min(1.0, static_cast<double>(traces) / data.traces));
  struct Case {
    std::string name, filter;
    int64_t start_us, max_traces;
  };
  const std::vector<Case> cases = {
      {"no filter", "", data.end_us - recent_us, 0},
      {R"(annotation.tenant = "tenant-3" (indexed))", R"(annotation.tenant = "tenant-3")",
       data.end_us - recent_us, 0},
      {"responsetime > 1.5 (unindexed)", "responsetime > 1.5", data.end_us - recent_us, 0},
      {R"(service("api") { fault } (graph))", R"(service("api") { fault })",
       data.end_us - recent_us, 0},
      {"no filter, whole window", "", data.start_us, max_traces},
  };
  std::cout << fmt::format("TraceAnalytics, window of the most recent {} traces = {:.0f} s\n",
                           traces, recent_us / 1e6);
  for (const Case& c : cases) {
    double ms = 0, cpu = 0;
    bench.Analytics(c.filter, c.start_us, data.end_us, c.max_traces, ms, cpu);  // warm-up
    std::vector<double> wall, cpus;
    json out;
    for (int i = 0; i < runs; ++i) {
      out = bench.Analytics(c.filter, c.start_us, data.end_us, c.max_traces, ms, cpu);
      wall.push_back(ms);
      cpus.push_back(cpu);
    }
    const Stats w = Summarize(wall), u = Summarize(cpus);
    const auto processed = out["TracesProcessedCount"].get<int64_t>();
    std::cout << fmt::format(
        "{:<44} p50 {:8.1f} ms  max {:8.1f} ms  CPU p50 {:8.1f} ms | {} candidates ({:.2f} µs "
        "CPU each), {} matches, complete {}, {} annotation keys, {} users listed, {} others\n",
        c.name, w.p50, w.max, u.p50, processed, u.p50 * 1e3 / std::max<int64_t>(processed, 1),
        out["TraceCount"].get<int64_t>(), out["Complete"].get<bool>(), out["Annotations"].size(),
        out["Users"].size(), out["OtherUsers"].get<int64_t>());
  }
  return 0;
}

int Run(int argc, char** argv) {
  CLI::App app{"GetTraceSummaries latency over a RocksDB store (issue 4)"};
  std::string dir = "/tmp/roentgen-query-bench";
  bool rebuild = false;
  size_t traces = 1'000'000;
  int runs = 30;
  int full_runs = 3;
  app.add_option("--data-dir", dir, "where the data set is built and kept");
  app.add_flag("--rebuild", rebuild, "rebuild the data set even if present");
  app.add_option("--traces", traces, "traces in a newly built data set");
  app.add_option("--runs", runs, "timed runs of each first-page query");
  app.add_option("--full-runs", full_runs, "timed runs of the full scan");
  std::string only;
  app.add_option("--only", only, "run one query: email, fault, full or analytics")
      ->check(CLI::IsMember({"email", "fault", "full", "analytics"}));
  size_t analytics_traces = 100'000;
  app.add_option("--analytics-traces", analytics_traces,
                 "TraceAnalytics: the window of the most recent N traces");
  int64_t analytics_max = 0;
  app.add_option("--analytics-max-traces", analytics_max,
                 "TraceAnalytics: MaxTraces of the whole-window run (0: the default)");
  CLI11_PARSE(app, argc, argv);

  Result<QueryDataset> info = LoadDatasetInfo(dir);
  const bool build = rebuild || !info.ok();
  if (build) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  store::RocksDbStoreConfig config;
  config.path = dir + "/store";
  config.retention_us = 10LL * 365 * 24 * 3600 * 1'000'000;  // never expire the data set
  // Loading only: no fsync per batch (the load time is not the subject here).
  config.sync_writes = !build;
  Result<std::unique_ptr<store::Store>> opened = store::OpenRocksDbStore(config);
  if (!opened.ok()) {
    std::cerr << opened.status().message() << "\n";
    return 1;
  }
  if (build) {
    const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    const int64_t end_us = now_us / 60'000'000 * 60'000'000;
    std::cerr << fmt::format("building {} traces in {} (sync_writes=false)\n", traces, dir);
    info = LoadQueryDataset(**opened, traces, end_us, 6LL * 3600 * 1'000'000, 1000, 42);
    if (!info.ok()) {
      std::cerr << info.status().message() << "\n";
      return 1;
    }
    opened->reset();  // flush and close before recording the data set as complete
    if (Status s = SaveDatasetInfo(dir, *info); !s.ok()) return 1;
    config.sync_writes = true;
    opened = store::OpenRocksDbStore(config);
    if (!opened.ok()) return 1;
  }
  store::Store& store = **opened;
  std::cout << fmt::format("data set: {} traces, window {} s, load {:.1f} s, on disk {:.1f} MiB\n",
                           info->traces, (info->end_us - info->start_us) / 1'000'000,
                           info->load_seconds, DirectoryBytes(dir) / 1048576.0);

  Bench bench(store, *info);
  if (only == "analytics")
    return RunAnalytics(bench, *info, analytics_traces, analytics_max, full_runs);
  std::mt19937_64 rng(7);
  // Warm-up: one pass of each query so the block cache and page cache hold
  // what a steady server would.
  const bool all = only.empty();
  if (all || only == "email")
    bench.ApiFirstPage(fmt::format(R"(annotation.email = "{}")", UserEmail(1)));
  if (all || only == "fault") bench.ApiFirstPage(R"(service("api") { fault })");
  if (all || only == "full") bench.StoreScan("responsetime > 1.5", false);

  std::vector<double> api, st, api_cpu, st_cpu;
  size_t found = 0;
  for (int i = 0; i < (all || only == "email" ? runs : 0); ++i) {
    // A user not queried before on each path: neither finds its blocks cached.
    const std::string f = fmt::format(R"(annotation.email = "{}")", UserEmail(rng() % kUsers));
    auto [ms, n] = bench.ApiFirstPage(f);
    api.push_back(ms);
    found += n;
    const std::string g = fmt::format(R"(annotation.email = "{}")", UserEmail(rng() % kUsers));
    st.push_back(std::get<0>(bench.StoreScan(g, true)));
  }
  if (all || only == "email")
    Report(R"(annotation.email = "user-N@example.com")", api, st,
           fmt::format("{:.1f} traces/query", static_cast<double>(found) / runs));

  api.clear();
  st.clear();
  size_t n_first = 0, candidates = 0;
  for (int i = 0; i < (all || only == "fault" ? runs : 0); ++i) {
    auto [ms, n] = bench.ApiFirstPage(R"(service("api") { fault })");
    api.push_back(ms);
    n_first = n;
    auto [sms, m, c] = bench.StoreScan(R"(service("api") { fault })", true);
    st.push_back(sms);
    candidates = c;
  }
  if (all || only == "fault")
    Report(R"(service("api") { fault }  (first page))", api, st,
           fmt::format("{} summaries, {} candidates", n_first, candidates));

  api.clear();
  st.clear();
  size_t matches = 0, pages = 0, scanned = 0;
  for (int i = 0; i < (all || only == "full" ? full_runs : 0); ++i) {
    double cpu0 = ThreadCpuMs();
    auto [ms, m, p] = bench.ApiAllPages("responsetime > 1.5");
    api_cpu.push_back(ThreadCpuMs() - cpu0);
    api.push_back(ms);
    matches = m;
    pages = p;
    cpu0 = ThreadCpuMs();
    auto [sms, sm, c] = bench.StoreScan("responsetime > 1.5", false);
    st_cpu.push_back(ThreadCpuMs() - cpu0);
    st.push_back(sms);
    scanned = c;
    if (sm != m) std::cerr << fmt::format("warning: api found {}, store scan {}\n", m, sm);
  }
  if (all || only == "full")
    Report("responsetime > 1.5  (all traces, all pages)", api, st,
           fmt::format("{} matches of {} traces, {} pages; thread CPU api {:.0f} ms "
                       "(incl. client JSON parsing), store+filter {:.0f} ms",
                       matches, scanned, pages, full_runs ? Summarize(api_cpu).p50 : 0.0,
                       full_runs ? Summarize(st_cpu).p50 : 0.0));
  return 0;
}

}  // namespace
}  // namespace roentgen::bench

int main(int argc, char** argv) { return roentgen::bench::Run(argc, argv); }
