// Ingest load generator: sends realistic ~1 KB segments (bench/segment_gen) to a
// running `roentgen serve` over UDP (daemon protocol, sendmmsg) or HTTP
// (PutTraceSegments, keep-alive, 50 documents per call), then waits until the
// server reports them stored and prints segments/s, server CPU, peak RSS and loss
// (counted by the server, and dropped by the kernel's UDP socket buffers).
// With --verify it then asks the API that every segment is queryable: it pages
// GetTraceSummaries over the run's time range and counts the traces, and asks
// BatchGetTraces for a sample of the trace ids sent.
// With --page-only it sends nothing and only pages GetTraceSummaries over
// [--start-time, --end-time) (epoch seconds), with --filter-expression if
// given, and prints the pages, the summaries and the time (e.g. against a
// server serving a store that block_store_bench filled).
//
//   ingest_load --target 127.0.0.1:2000 --mode udp --count 2000000 --server-pid PID
//   ingest_load --target 127.0.0.1:2000 --page-only --start-time 1699999999
//       --end-time 1700010010 --filter-expression "responsetime > 1.5"
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "load_util.h"
#include "segment_gen.h"

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string target = "127.0.0.1:2000";
  std::string mode = "udp";
  uint64_t count = 1'000'000;
  uint64_t rate = 0;  // segments/s, 0 = as fast as possible
  int server_pid = 0;
  int http_connections = 4;
  int http_batch = 50;
  double settle_seconds = 5;
  bool random_trace_ids = false;
  bool verify = false;
  size_t verify_sample = 1000;  // trace ids asked of BatchGetTraces
  bool page_only = false;
  double start_time = 0, end_time = 0;
  std::string filter_expression;
  uint64_t max_pages = 0;  // 0: every page
};

// Trace ids sent, kept for --verify: every `every`-th send of each lane.
class SampledIds {
 public:
  explicit SampledIds(uint64_t every) : every_(std::max<uint64_t>(1, every)) {}
  bool Wants(uint64_t seq) const { return seq % every_ == 0; }
  void Add(std::string id) {
    roentgen::MutexLock lock(mu_);
    ids_.push_back(std::move(id));
  }
  std::vector<std::string> Take() {
    roentgen::MutexLock lock(mu_);
    return std::move(ids_);
  }

 private:
  const uint64_t every_;
  roentgen::Mutex mu_;
  std::vector<std::string> ids_ GUARDED_BY(mu_);
};

// A document with places for a unique trace id and segment id, and for every
// start_time and end_time in it (the segment's and its subsegments'), patched
// per send: like an SDK's segments, each begins "now" (a fixed set of start
// times would put every trace of a run into a few instants, which no real
// traffic does and which the time-ordered indexes handle differently). The
// subsegments move with the segment: a trace's start time is the earliest
// start of any of its entities (src/xray/trace_summary.cpp), so subsegments
// left at the template's times would place every trace at the generator's
// start.
struct TimeField {
  size_t pos = 0;         // offset of the value (kTimeChars characters)
  int64_t offset_us = 0;  // from the segment's start_time
};

struct Template {
  std::string text;
  size_t trace_pos = 0;  // offset of the 24 random hex digits
  size_t id_pos = 0;     // offset of the 16 hex digits of the segment id
  std::vector<TimeField> times;
};

constexpr size_t kTimeChars = 17;  // "1700000000.000000"

// Writes epoch microseconds as seconds with six decimals, in exactly kTimeChars.
void PutTime(char* at, int64_t epoch_us) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%10lld.%06lld", static_cast<long long>(epoch_us / 1'000'000),
                static_cast<long long>(epoch_us % 1'000'000));
  std::memcpy(at, buf, kTimeChars);
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<Template> MakeTemplates(size_t n) {
  roentgen::bench::SegmentGenerator gen(7);
  std::vector<Template> out;
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (size_t i = 0; i < n; ++i) {
    Template t;
    t.text = gen.Next(now - 10 + i * 1e-4);
    t.trace_pos = t.text.find("\"trace_id\":\"") + 12 + 11;
    t.id_pos = t.text.find("\"id\":\"") + 6;
    // Every start_time and end_time; the segment's own come first in
    // segment_gen.
    int64_t segment_start_us = 0;
    for (const std::string key : {"\"start_time\":", "\"end_time\":"}) {
      for (size_t at = t.text.find(key); at != std::string::npos; at = t.text.find(key, at + 1)) {
        const size_t pos = at + key.size();
        const char after = t.text[pos + kTimeChars];
        if (after != ',' && after != '}') {
          std::fprintf(stderr, "segment_gen times are not %zu characters\n", kTimeChars);
          std::exit(1);
        }
        const int64_t us = std::llround(std::stod(t.text.substr(pos, kTimeChars)) * 1e6);
        if (t.times.empty()) segment_start_us = us;
        t.times.push_back({pos, us - segment_start_us});
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

void PutHex(char* at, uint64_t v, int digits) {
  static const char* kHex = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i, v >>= 4) at[i] = kHex[v & 0xf];
}

// A bijection of 64-bit values (splitmix64's finalizer): distinct sequence
// numbers give distinct ids that look random, as SDK-generated ids do.
uint64_t Scramble(uint64_t v) {
  v += 0x9e3779b97f4a7c15ULL;
  v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ULL;
  v = (v ^ (v >> 27)) * 0x94d049bb133111ebULL;
  return v ^ (v >> 31);
}

// Makes template `t`, copied into `text` at offset `at`, unique for sequence
// number `seq` (sender `lane`), starting now. `random_id`: the trace id's first
// 8 hex digits are random too, not the epoch second (no X-Ray SDK does that;
// W3C-style ids from other clients do).
void Stamp(std::string& text, size_t at, const Template& t, uint64_t lane, uint64_t seq,
           bool random_id) {
  const int64_t now_us = NowMicros();
  char* base = text.data() + at;
  for (const TimeField& f : t.times) PutTime(base + f.pos, now_us + f.offset_us);
  // An SDK's trace id begins with the current epoch second (X-Ray rejects ids
  // older than 30 days), so ids, and the store's keys, advance with time.
  PutHex(base + t.trace_pos - 9,
         random_id ? Scramble(~seq) >> 32 : static_cast<uint64_t>(now_us / 1'000'000), 8);
  PutHex(base + t.trace_pos, lane, 8);
  PutHex(base + t.trace_pos + 8, Scramble(seq), 16);
  PutHex(base + t.id_pos, (lane << 48) ^ seq ^ 0x5bd1e995ULL, 16);
}

// The trace id of template `t` as stamped into `text` at offset `at`.
std::string StampedTraceId(const std::string& text, size_t at, const Template& t) {
  return text.substr(at + t.trace_pos - 11, 35);  // "1-" 8 hex "-" 24 hex
}

// "HOST:PORT" with the port as a number.
std::pair<std::string, uint16_t> HostAndPort(const std::string& target) {
  auto [host, port] = roentgen::bench::SplitHostPort(target);
  return {host, static_cast<uint16_t>(std::stoi(port))};
}

using roentgen::bench::HttpGet;
using roentgen::bench::MetricSum;
using roentgen::bench::ProcSample;
using roentgen::bench::SampleProcess;

void Pace(const Options& o, Clock::time_point start, uint64_t sent) {
  if (o.rate == 0) return;
  auto due = start + std::chrono::duration<double>(double(sent) / o.rate);
  std::this_thread::sleep_until(due);
}

uint64_t SendUdp(const Options& o, const std::vector<Template>& templates, SampledIds& sample) {
  auto [host, port] = HostAndPort(o.target);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int sndbuf = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    perror("connect");
    return 0;
  }
  const std::string header = "{\"format\":\"json\",\"version\":1}\n";
  constexpr int kBatch = 64;
  std::vector<std::string> bufs(kBatch);
  std::vector<iovec> iov(kBatch);
  std::vector<mmsghdr> msgs(kBatch);
  uint64_t sent = 0;
  auto start = Clock::now();
  while (sent < o.count) {
    int n = static_cast<int>(std::min<uint64_t>(kBatch, o.count - sent));
    for (int i = 0; i < n; ++i) {
      const Template& t = templates[(sent + i) % templates.size()];
      bufs[i] = header;
      bufs[i] += t.text;
      Stamp(bufs[i], header.size(), t, 1, sent + i, o.random_trace_ids);
      if (sample.Wants(sent + i)) sample.Add(StampedTraceId(bufs[i], header.size(), t));
      iov[i] = {bufs[i].data(), bufs[i].size()};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int done = 0;
    while (done < n) {
      int r = sendmmsg(fd, msgs.data() + done, n - done, 0);
      if (r < 0) {
        if (errno == EAGAIN || errno == ENOBUFS || errno == ECONNREFUSED) continue;
        perror("sendmmsg");
        close(fd);
        return sent + done;
      }
      done += r;
    }
    sent += n;
    Pace(o, start, sent);
  }
  close(fd);
  return sent;
}

uint64_t SendHttp(const Options& o, const std::vector<Template>& templates, SampledIds& sample) {
  auto [host, port] = HostAndPort(o.target);
  std::atomic<uint64_t> next{0}, sent{0};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < o.http_connections; ++c) {
    threads.emplace_back([&, c] {
      boost::asio::io_context ioc;
      tcp::resolver resolver(ioc);
      beast::tcp_stream stream(ioc);
      stream.connect(resolver.resolve(host, std::to_string(port)));
      beast::flat_buffer buf;
      while (true) {
        uint64_t first = next.fetch_add(o.http_batch);
        if (first >= o.count) break;
        uint64_t n = std::min<uint64_t>(o.http_batch, o.count - first);
        nlohmann::json docs = nlohmann::json::array();
        for (uint64_t i = 0; i < n; ++i) {
          const Template& t = templates[(first + i) % templates.size()];
          std::string text = t.text;
          Stamp(text, 0, t, 2 + c, first + i, o.random_trace_ids);
          if (sample.Wants(first + i)) sample.Add(StampedTraceId(text, 0, t));
          docs.push_back(std::move(text));
        }
        http::request<http::string_body> req{http::verb::post, "/TraceSegments", 11};
        req.set(http::field::host, host);
        req.set(http::field::content_type, "application/json");
        req.body() = nlohmann::json{{"TraceSegmentDocuments", docs}}.dump();
        req.prepare_payload();
        http::write(stream, req);
        http::response<http::string_body> res;
        http::read(stream, buf, res);
        if (res.result_int() != 200) {
          fmt::print(stderr, "HTTP {}: {}\n", res.result_int(), res.body());
          break;
        }
        sent += n;
        Pace(o, start, first + n);
      }
    });
  }
  for (auto& t : threads) t.join();
  return sent;
}

// Pages GetTraceSummaries over [start_s, end_s) (with `filter` unless empty)
// and counts the summaries (every trace once, page_token.h), up to
// `max_pages` pages (0: all). Returns {traces, pages}.
std::pair<uint64_t, uint64_t> CountSummaries(roentgen::bench::HttpClient& api, double start_s,
                                             double end_s, const std::string& filter = {},
                                             uint64_t max_pages = 0) {
  uint64_t traces = 0, pages = 0;
  std::string token;
  do {
    nlohmann::json req = {{"StartTime", start_s}, {"EndTime", end_s}};
    if (!filter.empty()) req["FilterExpression"] = filter;
    if (!token.empty()) req["NextToken"] = token;
    auto [status, body] = api.Post("/TraceSummaries", req.dump());
    if (status != 200) {
      fmt::print(stderr, "GetTraceSummaries: HTTP {}: {}\n", status, body);
      break;
    }
    nlohmann::json page = nlohmann::json::parse(body);
    traces += page.value("TraceSummaries", nlohmann::json::array()).size();
    token = page.value("NextToken", std::string());
    ++pages;
  } while (!token.empty() && pages != max_pages);
  return {traces, pages};
}

// Asks BatchGetTraces for `ids`, five a call; returns how many came back.
uint64_t CountFound(roentgen::bench::HttpClient& api, const std::vector<std::string>& ids) {
  uint64_t found = 0;
  for (size_t i = 0; i < ids.size(); i += 5) {
    nlohmann::json req = {{"TraceIds", nlohmann::json::array()}};
    for (size_t j = i; j < std::min(ids.size(), i + 5); ++j) req["TraceIds"].push_back(ids[j]);
    auto [status, body] = api.Post("/Traces", req.dump());
    if (status != 200) {
      fmt::print(stderr, "BatchGetTraces: HTTP {}: {}\n", status, body);
      continue;
    }
    found += nlohmann::json::parse(body).value("Traces", nlohmann::json::array()).size();
  }
  return found;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Roentgen ingest load generator"};
  app.add_option("--target", o.target, "server HOST:PORT");
  app.add_option("--mode", o.mode, "udp or http")->check(CLI::IsMember({"udp", "http"}));
  app.add_option("--count", o.count, "segments to send");
  app.add_option("--rate", o.rate, "segments per second (0 = unthrottled)");
  app.add_option("--server-pid", o.server_pid, "server PID, for CPU and peak RSS");
  app.add_option("--http-connections", o.http_connections);
  app.add_option("--http-batch", o.http_batch, "documents per PutTraceSegments call");
  app.add_option("--settle", o.settle_seconds, "seconds without progress before giving up");
  app.add_flag("--random-trace-ids", o.random_trace_ids,
               "random trace-id epochs (W3C-style ids); default: the current second, as SDKs do");
  app.add_flag("--verify", o.verify,
               "then count the traces through GetTraceSummaries and fetch a sample of them with "
               "BatchGetTraces");
  app.add_option("--verify-sample", o.verify_sample, "trace ids asked of BatchGetTraces");
  app.add_flag("--page-only", o.page_only,
               "send nothing: page GetTraceSummaries over [--start-time, --end-time) and time it");
  app.add_option("--start-time", o.start_time, "--page-only: StartTime (epoch seconds)");
  app.add_option("--end-time", o.end_time, "--page-only: EndTime (epoch seconds)");
  app.add_option("--filter-expression", o.filter_expression, "--page-only: FilterExpression");
  app.add_option("--max-pages", o.max_pages, "--page-only: stop after this many pages");
  CLI11_PARSE(app, argc, argv);

  auto [host, port] = HostAndPort(o.target);
  if (o.page_only) {
    roentgen::bench::HttpClient api(host, port);
    ProcSample cpu0 = SampleProcess(o.server_pid);
    auto p0 = Clock::now();
    auto [traces, pages] =
        CountSummaries(api, o.start_time, o.end_time, o.filter_expression, o.max_pages);
    const double s = std::chrono::duration<double>(Clock::now() - p0).count();
    // This client's own CPU (its HTTP and its parse of every page's JSON),
    // on the same cores as the server's.
    const double client_cpu_s = static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
    ProcSample cpu1 = SampleProcess(o.server_pid);
    fmt::print(
        "page-only: {} summaries in {} pages, {:.2f} s ({:.1f} pages/s, {:.2f} ms a page), client "
        "CPU {:.2f} s{}\n",
        traces, pages, s, static_cast<double>(pages) / s, 1e3 * s / static_cast<double>(pages),
        client_cpu_s,
        o.server_pid > 0 ? fmt::format(", server CPU {:.2f} s", cpu1.cpu_seconds - cpu0.cpu_seconds)
                         : std::string());
    return 0;
  }
  auto templates = MakeTemplates(4096);
  double avg_bytes = 0;
  for (auto& t : templates) avg_bytes += t.text.size();
  avg_bytes /= templates.size();

  const std::string kStored = "roentgen_segments_stored_total";
  // UDP datagrams are durable once in the server's spool (when it has one),
  // and stored (queryable) once the writers have committed them.
  const std::string kSpooled = "roentgen_spool_appended_total{spool=\"udp\"}";
  const std::string metrics0 = HttpGet(host, port, "/metrics");
  double stored0 = MetricSum(metrics0, kStored);
  double spooled0 = MetricSum(metrics0, kSpooled);
  const bool has_spool = o.mode == "udp" && metrics0.find(kSpooled) != std::string::npos;
  const double dropped0 = MetricSum(metrics0, "roentgen_segments_dropped_total");
  const roentgen::bench::KernelUdpDrops kernel0 = roentgen::bench::ReadKernelUdpDrops();
  ProcSample cpu0 = SampleProcess(o.server_pid);
  // A sample per lane: HTTP lanes count their own sequence numbers.
  SampledIds sample(o.verify ? std::max<uint64_t>(1, o.count / std::max<size_t>(1, o.verify_sample))
                             : ~uint64_t{0});
  const double t0_epoch = NowMicros() / 1e6;
  auto t0 = Clock::now();
  uint64_t sent = o.mode == "udp" ? SendUdp(o, templates, sample) : SendHttp(o, templates, sample);
  auto t_sent = Clock::now();
  double stored_at_send_end = -1;

  // Wait until everything sent is stored, or no progress for settle_seconds.
  double stored = 0, spooled = 0;
  auto last_progress = Clock::now();
  auto t_done = t_sent, t_spooled = t_sent;
  while (true) {
    const std::string text = HttpGet(host, port, "/metrics");
    double now_stored = MetricSum(text, kStored) - stored0;
    double now_spooled = MetricSum(text, kSpooled) - spooled0;
    if (stored_at_send_end < 0) stored_at_send_end = now_stored;
    if (now_spooled > spooled) {
      spooled = now_spooled;
      last_progress = t_spooled = Clock::now();
    }
    if (now_stored > stored) {
      stored = now_stored;
      last_progress = t_done = Clock::now();
    }
    if (stored >= sent) break;
    if (std::chrono::duration<double>(Clock::now() - last_progress).count() > o.settle_seconds)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ProcSample cpu1 = SampleProcess(o.server_pid);
  std::string metrics = HttpGet(host, port, "/metrics");

  double send_s = std::chrono::duration<double>(t_sent - t0).count();
  double total_s = std::chrono::duration<double>(t_done - t0).count();
  fmt::print("mode={} sent={} stored={} lost={} ({:.3f}%) avg_doc_bytes={:.0f}\n", o.mode, sent,
             uint64_t(stored), uint64_t(sent - stored),
             100.0 * (sent - stored) / std::max<double>(1, sent), avg_bytes);
  fmt::print(
      "send_rate={:.0f}/s stored_rate={:.0f}/s (stored / time from first send to last stored)\n",
      sent / send_s, stored / total_s);
  if (has_spool) {
    fmt::print(
        "spooled={} spooled_rate={:.0f}/s (durable in the UDP spool / time from first send to "
        "last spooled; the poll adds up to 20 ms)\n",
        uint64_t(spooled), spooled / std::chrono::duration<double>(t_spooled - t0).count());
  }
  if (o.server_pid > 0) {
    fmt::print("server_cpu={:.2f}s ({:.0f}% of one core over the run) peak_rss={:.1f} MiB\n",
               cpu1.cpu_seconds - cpu0.cpu_seconds,
               100 * (cpu1.cpu_seconds - cpu0.cpu_seconds) / total_s, cpu1.peak_rss_kb / 1024.0);
  }
  // What was left after the last send was a backlog (in the spool, for UDP):
  // its rate is the indexing rate when the writers have the machine.
  const double backlog_s = std::chrono::duration<double>(t_done - t_sent).count();
  if (stored > stored_at_send_end && backlog_s > 0) {
    fmt::print(
        "queryable_after={:.2f}s (first send to last stored) stored_at_send_end={} "
        "backlog_rate={:.0f}/s (stored after the last send / the time it took)\n",
        total_s, uint64_t(stored_at_send_end), (stored - stored_at_send_end) / backlog_s);
  } else {
    fmt::print("queryable_after={:.2f}s (first send to last stored)\n", total_s);
  }
  const roentgen::bench::KernelUdpDrops kernel1 = roentgen::bench::ReadKernelUdpDrops();
  fmt::print(
      "server dropped={:.0f} rejected={:.0f} kernel_udp_rcvbuf_errors={} kernel_udp_in_errors={}\n",
      MetricSum(metrics, "roentgen_segments_dropped_total") - dropped0,
      MetricSum(metrics, "roentgen_segments_rejected_total"),
      kernel1.rcvbuf_errors - kernel0.rcvbuf_errors, kernel1.in_errors - kernel0.in_errors);
  if (o.verify) {
    roentgen::bench::HttpClient api(host, port);
    const std::vector<std::string> ids = sample.Take();
    auto v0 = Clock::now();
    const uint64_t found = CountFound(api, ids);
    auto v1 = Clock::now();
    // Segments start when sent; the range has a minute's margin either side.
    auto [traces, pages] = CountSummaries(api, t0_epoch - 60, NowMicros() / 1e6 + 60);
    auto v2 = Clock::now();
    fmt::print(
        "verify: BatchGetTraces found {}/{} sampled ids ({:.2f}s); GetTraceSummaries counted {} "
        "traces in {} pages ({:.2f}s){}\n",
        found, ids.size(), std::chrono::duration<double>(v1 - v0).count(), traces, pages,
        std::chrono::duration<double>(v2 - v1).count(),
        traces == sent && found == ids.size() ? "" : " MISMATCH");
    if (traces != sent || found != ids.size()) return 1;
  }
  return stored >= sent ? 0 : 1;
}
