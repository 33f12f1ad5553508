// CPU and heap allocations of Roentgen's C++ X-Ray SDK on the caller's
// thread (sdk/cpp, docs/sdk-cpp.md): one segment with three subsegments,
// annotations and http, serialized and queued for the emitter's thread,
// which sends it to a UDP socket on loopback. Allocations are counted by a
// replaced operator new, on the benchmark's thread only (the emitter's
// sends are not the caller's cost).
//
//   build/bench/xray_sdk_bench --benchmark_min_time=2
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <new>

#include "roentgen/xray.h"

namespace {
thread_local uint64_t t_allocations = 0;
thread_local uint64_t t_bytes = 0;
}  // namespace

void* operator new(size_t n) {
  ++t_allocations;
  t_bytes += n;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// GCC warns that free() gets what operator new returned: here it is malloc's.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace {

namespace xr = roentgen::sdk;

// A UDP socket that plays the daemon; what it does not read the kernel drops.
struct Sink {
  Sink() {
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~Sink() { close(fd); }
  int fd;
  uint16_t port;
};

void Report(benchmark::State& state, uint64_t allocations, uint64_t bytes, xr::Recorder& recorder) {
  recorder.Flush();
  auto n = static_cast<double>(state.iterations());
  state.counters["allocs/seg"] = static_cast<double>(allocations) / n;
  state.counters["bytes/seg"] = static_cast<double>(bytes) / n;
  auto st = recorder.stats();
  state.counters["dropped"] = static_cast<double>(st.documents_dropped);
}

void BM_SegmentWithThreeSubsegments(benchmark::State& state) {
  Sink sink;
  xr::RecorderOptions options;
  options.service_name = "bench";
  options.daemon_address = "127.0.0.1:" + std::to_string(sink.port);
  options.sampling = false;  // every segment recorded and sent
  options.queue_capacity = 1 << 16;
  xr::Recorder recorder(options);
  xr::HttpRequest request;
  request.method = "POST";
  request.url = "https://api.example.com/notes";
  request.client_ip = "10.0.0.1";
  xr::HttpRequest outgoing;
  outgoing.method = "GET";
  outgoing.url = "http://users.internal/u/42";
  outgoing.traced = true;
  xr::Sql sql;
  sql.url = "sqlite:///var/lib/notes.db";
  sql.sanitized_query = "INSERT INTO notes(text) VALUES (?)";
  sql.database_type = "SQLite";
  uint64_t allocations = 0, bytes = 0, done = 0;
  for (auto _ : state) {
    uint64_t a0 = t_allocations, b0 = t_bytes;
    {
      auto seg = recorder.BeginSegment("notes-api");
      seg.AddAnnotation("email", "alice@example.com");
      seg.AddAnnotation("notes", int64_t{3});
      seg.AddAnnotation("premium", true);
      seg.SetHttpRequest(request);
      { auto auth = seg.BeginSubsegment("auth"); }
      {
        auto db = seg.BeginSubsegment("notes.db");
        db.SetNamespace(xr::Namespace::kRemote);
        db.SetSql(sql);
      }
      {
        auto users = seg.BeginSubsegment("users");
        users.SetNamespace(xr::Namespace::kRemote);
        users.SetHttpRequest(outgoing);
        users.SetHttpResponse({200, 512});
      }
      seg.SetHttpResponse({201, 64});
    }
    allocations += t_allocations - a0;
    bytes += t_bytes - b0;
    if (++done % 4096 == 0) recorder.Flush();  // keep the queue from filling
  }
  Report(state, allocations, bytes, recorder);
}
BENCHMARK(BM_SegmentWithThreeSubsegments);

// The same work for a trace the sampler declined: what an unsampled request costs.
void BM_UnsampledSegment(benchmark::State& state) {
  Sink sink;
  xr::RecorderOptions options;
  options.daemon_address = "127.0.0.1:" + std::to_string(sink.port);
  options.sampling_rules_json = R"({"version":2,"default":{"fixed_target":0,"rate":0}})";
  xr::Recorder recorder(options);
  xr::HttpRequest request;
  request.method = "POST";
  request.url = "https://api.example.com/notes";
  uint64_t allocations = 0, bytes = 0;
  for (auto _ : state) {
    uint64_t a0 = t_allocations, b0 = t_bytes;
    {
      auto seg = recorder.BeginSegment("notes-api");
      seg.AddAnnotation("email", "alice@example.com");
      seg.SetHttpRequest(request);
      for (int i = 0; i < 3; ++i) auto sub = seg.BeginSubsegment("sub");
    }
    allocations += t_allocations - a0;
    bytes += t_bytes - b0;
  }
  Report(state, allocations, bytes, recorder);
}
BENCHMARK(BM_UnsampledSegment);

void BM_TraceHeaderParseFormat(benchmark::State& state) {
  const std::string in =
      "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
  for (auto _ : state) {
    auto h = xr::TraceHeader::Parse(in);
    benchmark::DoNotOptimize(h->ToString());
  }
}
BENCHMARK(BM_TraceHeaderParseFormat);

}  // namespace

BENCHMARK_MAIN();
