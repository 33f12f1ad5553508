// Ingest load generator: sends realistic ~1 KB segments (bench/segment_gen) to a
// running `roentgen serve` over UDP (daemon protocol, sendmmsg) or HTTP
// (PutTraceSegments, keep-alive, 50 documents per call), then waits until the
// server reports them stored and prints segments/s, server CPU, peak RSS and loss
// (counted by the server, and dropped by the kernel's UDP socket buffers), and
// its own CPU during the send (it shares the machine with the server).
// With --verify it then asks the API that every segment is queryable: it pages
// GetTraceSummaries over the run's time range and counts the traces, and asks
// BatchGetTraces for a sample of the trace ids sent.
// With --page-only it sends nothing and only pages GetTraceSummaries over
// [--start-time, --end-time) (epoch seconds), with --filter-expression if
// given, and prints the pages, the summaries and the time (e.g. against a
// server serving a store that block_store_bench filled).
// With --probe-every-ms N (UDP) one segment of the paced stream every N ms is
// a probe: a segment_gen segment (a new trace) with the extra annotation
// `probe` = this run's tag. A checker thread asks GetTraceSummaries, every
// --probe-poll-ms, for `annotation.probe = "<tag>"` over the start times of
// the probes not yet found (one query and its pages a poll, however many are
// outstanding) and takes a probe's latency as the time the first answer that
// holds its trace id came back minus the time it was sent: segment to
// searchable through the public API. A costly query delays the next poll:
// the server's HTTP threads get at most --probe-max-share of a core (default
// a tenth; read from /proc with --server-pid). Probes not found
// --probe-timeout seconds after the last send fail the run.
//
//   ingest_load --target 127.0.0.1:2000 --mode udp --count 2000000 --server-pid PID
//   ingest_load --target 127.0.0.1:2000 --mode udp --rate 30000 --count 1800000
//       --probe-every-ms 100 --server-pid PID
//   ingest_load --target 127.0.0.1:2000 --page-only --start-time 1699999999
//       --end-time 1700010010 --filter-expression "responsetime > 1.5"
#include <arpa/inet.h>
#include <dirent.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
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
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
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
  uint64_t max_pages = 0;       // 0: every page
  uint64_t probe_every_ms = 0;  // 0: no probes
  uint64_t probe_poll_ms = 15;
  double probe_max_share = 0.1;  // of a core, at most, for the server's HTTP threads
  double probe_timeout_s = 60;
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

// This process's CPU (user + system, every thread) so far.
double OwnCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The places to patch in segment_gen document `text` (see Template).
Template MakeTemplate(std::string text) {
  Template t;
  t.text = std::move(text);
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
  return t;
}

std::vector<Template> MakeTemplates(size_t n) {
  roentgen::bench::SegmentGenerator gen(7);
  std::vector<Template> out;
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (size_t i = 0; i < n; ++i) out.push_back(MakeTemplate(gen.Next(now - 10 + i * 1e-4)));
  return out;
}

// `base` (a segment_gen document) with the annotation probe = `tag` added.
Template MakeProbeTemplate(const Template& base, const std::string& tag) {
  const std::string key = "\"annotations\":{";
  const size_t at = base.text.find(key);
  if (at == std::string::npos) {
    std::fprintf(stderr, "segment_gen segments have no annotations\n");
    std::exit(1);
  }
  std::string text = base.text;
  text.insert(at + key.size(), fmt::format("\"probe\":\"{}\",", tag));
  return MakeTemplate(std::move(text));
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
// Returns the segment's start time (epoch microseconds), which is the trace's
// start: the subsegments start after it.
int64_t Stamp(std::string& text, size_t at, const Template& t, uint64_t lane, uint64_t seq,
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
  return now_us;
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

// The probes of a run (--probe-every-ms): the sender adds each one as it
// goes out, the checker marks them found.
class ProbeBoard {
 public:
  struct Probe {
    std::string trace_id;
    int64_t start_us = 0;    // the trace's start time (epoch), what the query ranges over
    Clock::time_point sent;  // just before the datagram was handed to the kernel
    std::optional<Clock::time_point> found;  // the answer that held it came back
    Clock::time_point asked;                 // that query was sent
  };
  struct Outstanding {
    size_t count = 0;
    int64_t min_start_us = 0, max_start_us = 0;
  };

  void Add(std::string trace_id, int64_t start_us, Clock::time_point sent) {
    roentgen::MutexLock lock(mu_);
    index_.emplace(trace_id, probes_.size());
    probes_.push_back({std::move(trace_id), start_us, sent, std::nullopt, {}});
  }
  Outstanding Pending() const {
    roentgen::MutexLock lock(mu_);
    Outstanding out;
    for (const Probe& p : probes_) {
      if (p.found) continue;
      out.min_start_us = out.count == 0 ? p.start_us : std::min(out.min_start_us, p.start_us);
      out.max_start_us = out.count == 0 ? p.start_us : std::max(out.max_start_us, p.start_us);
      ++out.count;
    }
    return out;
  }
  // Marks the probe with this trace id found by the call sent at `asked`
  // that came back at `when`, unless it already was; ids that are not
  // probes are ignored.
  void Found(const std::string& trace_id, Clock::time_point asked, Clock::time_point when) {
    roentgen::MutexLock lock(mu_);
    auto it = index_.find(trace_id);
    if (it != index_.end() && !probes_[it->second].found) {
      probes_[it->second].found = when;
      probes_[it->second].asked = asked;
    }
  }
  std::vector<Probe> Snapshot() const {
    roentgen::MutexLock lock(mu_);
    return probes_;
  }

 private:
  mutable roentgen::Mutex mu_;
  std::vector<Probe> probes_ GUARDED_BY(mu_);
  std::unordered_map<std::string, size_t> index_ GUARDED_BY(mu_);
};

// What the checker did: its GetTraceSummaries calls (every page is a call)
// and how long each took.
struct ProbeQueries {
  uint64_t polls = 0;
  uint64_t calls = 0;
  uint64_t errors = 0;
  uint64_t calls_during_send = 0;  // as the checker saw the send end (within a poll)
  bool saw_send_end = false;
  std::vector<double> call_ms;
};

// The CPU seconds of the threads of `pid` named `name` (/proc/PID/task/*).
double ThreadsCpuSeconds(int pid, const std::string& name) {
  if (pid <= 0) return 0;
  const std::string dir = fmt::format("/proc/{}/task", pid);
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return 0;
  unsigned long ticks = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream stat(fmt::format("{}/{}/stat", dir, e->d_name));
    std::string content((std::istreambuf_iterator<char>(stat)), {});
    const size_t open = content.find('('), close = content.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 2 > content.size()) {
      continue;
    }
    if (content.substr(open + 1, close - open - 1) != name) continue;
    std::istringstream fields(content.substr(close + 2));
    std::string f;
    // Fields 14 and 15 of the stat line (1-based; the first two precede ')').
    for (int i = 3; i <= 15 && fields >> f; ++i) {
      if (i == 14 || i == 15) ticks += std::stoul(f);
    }
  }
  closedir(d);
  return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

void Pace(const Options& o, Clock::time_point start, uint64_t sent) {
  if (o.rate == 0) return;
  auto due = start + std::chrono::duration<double>(double(sent) / o.rate);
  std::this_thread::sleep_until(due);
}

// With `probe` (and o.probe_every_ms), the first segment of the first batch
// due at or after each probe time is the probe, recorded in `probes`.
uint64_t SendUdp(const Options& o, const std::vector<Template>& templates, SampledIds& sample,
                 const Template* probe, ProbeBoard* probes) {
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
  const bool probing = probe != nullptr && probes != nullptr && o.probe_every_ms > 0;
  const auto probe_every = std::chrono::milliseconds(o.probe_every_ms);
  auto next_probe = start;
  while (sent < o.count) {
    int n = static_cast<int>(std::min<uint64_t>(kBatch, o.count - sent));
    // Probes keep their schedule (a probe time missed while the sender was
    // late is skipped, not sent in a burst).
    bool probe_now = false;
    if (probing && Clock::now() >= next_probe) {
      probe_now = true;
      while (next_probe <= Clock::now()) next_probe += probe_every;
    }
    std::string probe_id;
    int64_t probe_start_us = 0;
    for (int i = 0; i < n; ++i) {
      const Template& t = probe_now && i == 0 ? *probe : templates[(sent + i) % templates.size()];
      bufs[i] = header;
      bufs[i] += t.text;
      const int64_t start_us = Stamp(bufs[i], header.size(), t, 1, sent + i, o.random_trace_ids);
      if (probe_now && i == 0) {
        probe_id = StampedTraceId(bufs[i], header.size(), t);
        probe_start_us = start_us;
      }
      if (sample.Wants(sent + i)) sample.Add(StampedTraceId(bufs[i], header.size(), t));
      iov[i] = {bufs[i].data(), bufs[i].size()};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    if (probe_now) probes->Add(std::move(probe_id), probe_start_us, Clock::now());
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

// Appends `text` to `out` as a JSON string (quotes, backslashes and control
// characters escaped; the rest, UTF-8 included, as is).
void AppendJsonString(std::string& out, std::string_view text) {
  out += '"';
  size_t run = 0;  // start of the characters not yet copied
  for (size_t i = 0; i < text.size(); ++i) {
    const auto ch = static_cast<unsigned char>(text[i]);
    if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += static_cast<char>(ch);
    } else {
      out += fmt::format("\\u{:04x}", ch);
    }
  }
  out.append(text.data() + run, text.size() - run);
  out += '"';
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
      http::request<http::string_body> req{http::verb::post, "/TraceSegments", 11};
      req.set(http::field::host, host);
      req.set(http::field::content_type, "application/json");
      std::string text;
      http::response<http::string_body> res;
      while (true) {
        uint64_t first = next.fetch_add(o.http_batch);
        if (first >= o.count) break;
        uint64_t n = std::min<uint64_t>(o.http_batch, o.count - first);
        // The body written directly, each document as a JSON string: the
        // generator shares the two cores with the server, so its own cost
        // per segment is kept well under the server's.
        std::string& body = req.body();
        body.assign(R"({"TraceSegmentDocuments":[)");
        for (uint64_t i = 0; i < n; ++i) {
          const Template& t = templates[(first + i) % templates.size()];
          text.assign(t.text);
          Stamp(text, 0, t, 2 + c, first + i, o.random_trace_ids);
          if (sample.Wants(first + i)) sample.Add(StampedTraceId(text, 0, t));
          if (i > 0) body += ',';
          AppendJsonString(body, text);
        }
        body += "]}";
        req.prepare_payload();
        http::write(stream, req);
        res = {};
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

// The checker (--probe-every-ms): every o.probe_poll_ms, one
// GetTraceSummaries query (all its pages) for the run's probes over the
// start times of those not yet found, until all are found once the send has
// ended, or o.probe_timeout_s after it ended.
void CheckProbesOrThrow(const Options& o, const std::string& filter, ProbeBoard& probes,
                        const std::atomic<bool>& send_done, const std::atomic<int64_t>& send_end_ns,
                        ProbeQueries& q) {
  auto [host, port] = HostAndPort(o.target);
  roentgen::bench::HttpClient api(host, port);
  const auto poll = std::chrono::milliseconds(o.probe_poll_ms);
  const auto began = Clock::now();
  const double http_cpu0 = ThreadsCpuSeconds(o.server_pid, "rg-http");
  auto next = began;
  for (;;) {
    std::this_thread::sleep_until(next);
    const bool done = send_done.load();
    const ProbeBoard::Outstanding out = probes.Pending();
    if (done && !q.saw_send_end) {
      q.saw_send_end = true;
      q.calls_during_send = q.calls;
    }
    if (done) {
      if (out.count == 0) return;
      const Clock::time_point end{Clock::duration(send_end_ns.load())};
      if (std::chrono::duration<double>(Clock::now() - end).count() > o.probe_timeout_s) return;
    }
    if (out.count == 0) {
      next = Clock::now() + poll;
      continue;
    }
    ++q.polls;
    // The earliest start to the latest, with a millisecond either side for
    // the seconds' rounding (EndTime is exclusive).
    nlohmann::json req = {{"StartTime", static_cast<double>(out.min_start_us - 1000) / 1e6},
                          {"EndTime", static_cast<double>(out.max_start_us + 1000) / 1e6},
                          {"FilterExpression", filter}};
    std::string token;
    const auto poll_start = Clock::now();
    do {
      if (token.empty()) {
        req.erase("NextToken");
      } else {
        req["NextToken"] = token;
      }
      const auto c0 = Clock::now();
      auto [status, body] = api.Post("/TraceSummaries", req.dump());
      const auto c1 = Clock::now();
      ++q.calls;
      q.call_ms.push_back(std::chrono::duration<double, std::milli>(c1 - c0).count());
      if (status != 200) {
        ++q.errors;
        fmt::print(stderr, "probe query: HTTP {}: {}\n", status, body);
        break;
      }
      const nlohmann::json page = nlohmann::json::parse(body);
      for (const nlohmann::json& summary : page.value("TraceSummaries", nlohmann::json::array())) {
        probes.Found(summary.value("Id", std::string()), c0, c1);
      }
      token = page.value("NextToken", std::string());
    } while (!token.empty());
    // The next poll after o.probe_poll_ms, or later when the queries are
    // costly: they run on the server's HTTP threads, above its nice-19
    // writers, and polling back to back would starve the indexing being
    // measured. So the server's HTTP threads (the probe queries, and the
    // /metrics polls after the send) get at most o.probe_max_share of a core.
    next = poll_start + poll;
    if (o.server_pid > 0) {
      // Their CPU since the checker began, as a share of the time since: CPU
      // is counted in ticks of 10 ms, so the share is kept over the run, not
      // call by call.
      const double http_cpu = ThreadsCpuSeconds(o.server_pid, "rg-http") - http_cpu0;
      next =
          std::max(next, began + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(http_cpu / o.probe_max_share)));
    } else {
      // Without the server's PID, the time the calls took stands for their
      // CPU, with at most a second's wait.
      const auto took = Clock::now() - poll_start;
      next = std::max(next, Clock::now() + std::min<Clock::duration>(
                                               std::chrono::seconds(1),
                                               std::chrono::duration_cast<Clock::duration>(
                                                   took * (1 / o.probe_max_share - 1))));
    }
  }
}

// CheckProbesOrThrow, which stops at the first connection error.
void CheckProbes(const Options& o, const std::string& filter, ProbeBoard& probes,
                 const std::atomic<bool>& send_done, const std::atomic<int64_t>& send_end_ns,
                 ProbeQueries& q) {
  try {
    CheckProbesOrThrow(o, filter, probes, send_done, send_end_ns, q);
  } catch (const std::exception& e) {
    // The probes left are reported not found, which fails the run.
    ++q.errors;
    fmt::print(stderr, "probe checker stopped: {}\n", e.what());
  }
}

// The value at quantile `q` of sorted `v` (nearest rank); 0 when empty.
double Quantile(const std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Roentgen ingest load generator"};
  // The last of a repeated option wins, so arguments after a script's
  // defaults (bench/block_ingest.sh stream) override them.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
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
  app.add_option("--probe-every-ms", o.probe_every_ms,
                 "UDP: every N ms one segment of the stream is a probe, timed from its send until "
                 "GetTraceSummaries returns it (0: no probes)");
  app.add_option("--probe-poll-ms", o.probe_poll_ms, "milliseconds between the probe queries");
  app.add_option("--probe-max-share", o.probe_max_share,
                 "the largest share of a core the server's HTTP threads may spend (with "
                 "--server-pid; else of the time with a query in flight): a costly query delays "
                 "the next poll")
      ->check(CLI::Range(0.01, 1.0));
  app.add_option("--probe-timeout", o.probe_timeout_s,
                 "seconds after the last send to keep looking for probes not yet found");
  CLI11_PARSE(app, argc, argv);
  if (o.probe_every_ms > 0 && o.mode != "udp") {
    fmt::print(stderr, "--probe-every-ms is for --mode udp\n");
    return 2;
  }

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
  // The probes' tag: distinct per run, so a server kept across runs finds
  // only this run's.
  const std::string probe_tag =
      fmt::format("probe-{:08x}-{}", Scramble(NowMicros()) >> 32, getpid());
  const std::string probe_filter = fmt::format("annotation.probe = \"{}\"", probe_tag);
  const Template probe_template = MakeProbeTemplate(templates[0], probe_tag);
  ProbeBoard probes;
  ProbeQueries probe_queries;
  std::atomic<bool> send_done{false};
  std::atomic<int64_t> send_end_ns{0};
  std::thread checker;
  const bool probing = o.probe_every_ms > 0;
  const double http_cpu0 = ThreadsCpuSeconds(o.server_pid, "rg-http");
  if (probing) {
    checker = std::thread(
        [&] { CheckProbes(o, probe_filter, probes, send_done, send_end_ns, probe_queries); });
  }
  const double t0_epoch = NowMicros() / 1e6;
  const double client_cpu0 = OwnCpuSeconds();
  auto t0 = Clock::now();
  uint64_t sent = o.mode == "udp" ? SendUdp(o, templates, sample, &probe_template, &probes)
                                  : SendHttp(o, templates, sample);
  auto t_sent = Clock::now();
  const double client_cpu_send = OwnCpuSeconds() - client_cpu0;
  // Until here the probe queries were the only HTTP calls to the server.
  const double http_cpu_send = ThreadsCpuSeconds(o.server_pid, "rg-http");
  send_end_ns.store(t_sent.time_since_epoch().count());
  send_done.store(true);
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
    fmt::print(
        "server_cpu={:.2f}s ({:.0f}% of one core over the run, {:.1f} us a segment sent) "
        "peak_rss={:.1f} MiB\n",
        cpu1.cpu_seconds - cpu0.cpu_seconds, 100 * (cpu1.cpu_seconds - cpu0.cpu_seconds) / total_s,
        1e6 * (cpu1.cpu_seconds - cpu0.cpu_seconds) / std::max<double>(1, sent),
        cpu1.peak_rss_kb / 1024.0);
  }
  // The generator shares the machine with the server: what sending cost it.
  fmt::print("client_cpu={:.2f}s during the send ({:.1f} us a segment sent)\n", client_cpu_send,
             1e6 * client_cpu_send / std::max<double>(1, sent));
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
  bool probes_ok = true;
  if (probing) {
    checker.join();
    const double http_cpu_end = ThreadsCpuSeconds(o.server_pid, "rg-http");
    const std::vector<ProbeBoard::Probe> all = probes.Snapshot();
    std::vector<double> latency_ms, asked_ms;
    for (const ProbeBoard::Probe& p : all) {
      if (p.found) {
        latency_ms.push_back(std::chrono::duration<double, std::milli>(*p.found - p.sent).count());
        asked_ms.push_back(std::chrono::duration<double, std::milli>(p.asked - p.sent).count());
      }
    }
    std::sort(latency_ms.begin(), latency_ms.end());
    std::sort(asked_ms.begin(), asked_ms.end());
    std::vector<double> call_ms = probe_queries.call_ms;
    std::sort(call_ms.begin(), call_ms.end());
    const size_t not_found = all.size() - latency_ms.size();
    probes_ok = not_found == 0 && !all.empty();
    fmt::print(
        "probes: sent={} found={} not_found={} (looked for until all were found or {:.0f} s "
        "after the last send) every={}ms poll={}ms filter='{}'\n",
        all.size(), latency_ms.size(), not_found, o.probe_timeout_s, o.probe_every_ms,
        o.probe_poll_ms, probe_filter);
    fmt::print(
        "probe_latency: p50={:.0f}ms p90={:.0f}ms p99={:.0f}ms max={:.0f}ms (send to the first "
        "GetTraceSummaries answer that held it, over the {} found)\n",
        Quantile(latency_ms, 0.5), Quantile(latency_ms, 0.9), Quantile(latency_ms, 0.99),
        latency_ms.empty() ? 0.0 : latency_ms.back(), latency_ms.size());
    // Less the answering call's own time: what is left is the wait until
    // searchable and until the next poll.
    fmt::print(
        "probe_latency_to_query_sent: p50={:.0f}ms p90={:.0f}ms p99={:.0f}ms max={:.0f}ms (send "
        "to the sending of the call whose answer held it)\n",
        Quantile(asked_ms, 0.5), Quantile(asked_ms, 0.9), Quantile(asked_ms, 0.99),
        asked_ms.empty() ? 0.0 : asked_ms.back());
    fmt::print(
        "probe_queries: polls={} calls={} (pages; {} during the send; the server's HTTP "
        "threads held to {:.0f}% of a core) errors={} call time p50={:.1f}ms p99={:.1f}ms "
        "max={:.1f}ms\n",
        probe_queries.polls, probe_queries.calls, probe_queries.calls_during_send,
        100 * o.probe_max_share, probe_queries.errors, Quantile(call_ms, 0.5),
        Quantile(call_ms, 0.99), call_ms.empty() ? 0.0 : call_ms.back());
    if (o.server_pid > 0) {
      fmt::print(
          "probe_server_cpu: rg-http {:.2f}s during the send (the probe queries were its only "
          "calls), {:.2f}s from the first send to the last probe query (with the /metrics polls "
          "after the send)\n",
          http_cpu_send - http_cpu0, http_cpu_end - http_cpu0);
    }
    if (!probes_ok) {
      fmt::print(stderr,
                 "PROBES NOT FOUND: {} of {} probes never came back from "
                 "GetTraceSummaries\n",
                 not_found, all.size());
    }
  }
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
  return stored >= sent && probes_ok ? 0 : 1;
}
