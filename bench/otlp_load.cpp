// OTLP ingest load generator: sends OTLP/HTTP protobuf export requests (batches
// of 512 spans from several services, as an SDK's batch processor or a
// collector would) to a running `roentgen serve`, over keep-alive connections,
// or the same bodies over OTLP/gRPC with --grpc, and reports spans/s. A 200
// (an OK status) means the spans are durable (the server answers after the
// store's commit), so the rate is the durable ingest rate.
//
//   otlp_load --target 127.0.0.1:2000 --spans 1000000 --connections 4 --server-pid PID
//
// Each trace has 8 spans over 3 services: a front service's SERVER span with an
// INTERNAL and a CLIENT child; the CLIENT span's callee (SERVER) with an AWS SDK
// call (DynamoDB) and a CLIENT child; that callee's SERVER span with an
// INTERNAL child — 3 X-Ray segment documents per trace. Request bodies are
// built once; each send patches the 8 trace-id bytes that make it unique.
#include <fmt/format.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "load_util.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/otlp_decode.h"
#include "otlp/translator.h"

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;
namespace otlp_trace = opentelemetry::proto::trace::v1;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse;

namespace {

constexpr uint8_t kMarker[8] = {0xde, 0xad, 0xbe, 0xef, 0xca, 0xfe, 0xf0, 0x0d};

struct Options {
  std::string target = "127.0.0.1:2000";
  uint64_t spans = 1'000'000;
  int batch = 512;
  int services = 6;
  int connections = 4;
  int server_pid = 0;
  bool translate_only = false;
  bool random_trace_ids = false;
  bool grpc = false;
};

struct Body {
  std::string bytes;
  std::vector<size_t> trace_offsets;  // where the 8 marker bytes of each trace id sit
};

void SetAttr(otlp_trace::Span* s, const std::string& key, const std::string& value) {
  auto* kv = s->add_attributes();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}
void SetAttr(otlp_trace::Span* s, const std::string& key, int64_t value) {
  auto* kv = s->add_attributes();
  kv->set_key(key);
  kv->mutable_value()->set_int_value(value);
}

std::string Id8(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}

// One request of `batch` spans (a multiple of 8): traces of 8 spans over 3 of
// the `services` services, spans grouped by service into resource_spans.
Body MakeBody(const Options& o, uint32_t body_index) {
  ExportTraceServiceRequest req;
  std::map<int, otlp_trace::ScopeSpans*> scopes;
  auto scope_for = [&](int service) {
    auto it = scopes.find(service);
    if (it != scopes.end()) return it->second;
    auto* rs = req.add_resource_spans();
    for (auto [k, v] :
         {std::pair<std::string, std::string>{"service.name", fmt::format("svc-{}", service)},
          {"service.version", "1.8.2"},
          {"telemetry.sdk.name", "opentelemetry"},
          {"telemetry.sdk.language", "cpp"},
          {"cloud.provider", "aws"},
          {"cloud.platform", "aws_ec2"},
          {"host.id", fmt::format("i-0{:015x}", service)}}) {
      auto* kv = rs->mutable_resource()->add_attributes();
      kv->set_key(k);
      kv->mutable_value()->set_string_value(v);
    }
    auto* scope = rs->add_scope_spans();
    scope->mutable_scope()->set_name("otlp_load");
    return scopes[service] = scope;
  };
  const uint64_t now_ns =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  const uint32_t epoch = static_cast<uint32_t>(now_ns / 1'000'000'000);
  int traces = o.batch / 8;
  for (int t = 0; t < traces; ++t) {
    std::string trace_id(16, '\0');
    for (int i = 0; i < 4; ++i) trace_id[i] = static_cast<char>(epoch >> (24 - 8 * i));
    uint32_t tag = body_index * 65536 + static_cast<uint32_t>(t);
    for (int i = 0; i < 4; ++i) trace_id[4 + i] = static_cast<char>(tag >> (24 - 8 * i));
    std::memcpy(trace_id.data() + 8, kMarker, 8);
    uint64_t base = (uint64_t{tag} << 8) | 1;
    uint64_t start = now_ns - 2'000'000'000 + static_cast<uint64_t>(t) * 1000;
    int front = t % o.services, mid = (t + 1) % o.services, back = (t + 2) % o.services;
    struct Spec {
      int service;
      int id;
      int parent;
      otlp_trace::Span::SpanKind kind;
      const char* name;
      uint64_t offset_us, duration_us;
    };
    const Spec specs[8] = {
        {front, 1, 0, otlp_trace::Span::SPAN_KIND_SERVER, "GET /api/orders/{id}", 0, 48000},
        {front, 2, 1, otlp_trace::Span::SPAN_KIND_INTERNAL, "authorize", 500, 1500},
        {front, 3, 1, otlp_trace::Span::SPAN_KIND_CLIENT, "GET", 2500, 44000},
        {mid, 4, 3, otlp_trace::Span::SPAN_KIND_SERVER, "GET /orders/{id}", 3000, 42000},
        {mid, 5, 4, otlp_trace::Span::SPAN_KIND_CLIENT, "DynamoDB.GetItem", 3500, 9000},
        {mid, 6, 4, otlp_trace::Span::SPAN_KIND_CLIENT, "POST", 13000, 30000},
        {back, 7, 6, otlp_trace::Span::SPAN_KIND_SERVER, "POST /price", 13500, 29000},
        {back, 8, 7, otlp_trace::Span::SPAN_KIND_INTERNAL, "compute price", 14000, 27000},
    };
    for (const Spec& sp : specs) {
      auto* s = scope_for(sp.service)->add_spans();
      s->set_trace_id(trace_id);
      s->set_span_id(Id8(base + static_cast<uint64_t>(sp.id) * 0x0101010101ULL));
      if (sp.parent != 0)
        s->set_parent_span_id(Id8(base + static_cast<uint64_t>(sp.parent) * 0x0101010101ULL));
      s->set_kind(sp.kind);
      s->set_name(sp.name);
      s->set_start_time_unix_nano(start + sp.offset_us * 1000);
      s->set_end_time_unix_nano(start + (sp.offset_us + sp.duration_us) * 1000);
      if (sp.kind == otlp_trace::Span::SPAN_KIND_SERVER) {
        SetAttr(s, "http.request.method", sp.id == 7 ? "POST" : "GET");
        SetAttr(s, "url.full", fmt::format("https://svc-{}.internal/orders/{}", sp.service, t));
        SetAttr(s, "http.response.status_code", int64_t{200});
        SetAttr(s, "user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) otlp_load/1.0");
        SetAttr(s, "client.address", "10.0.3.17");
        SetAttr(s, "enduser.id", fmt::format("user-{}", t % 97));
      } else if (sp.id == 5) {
        SetAttr(s, "rpc.system", "aws-api");
        SetAttr(s, "rpc.service", "DynamoDB");
        SetAttr(s, "rpc.method", "GetItem");
        SetAttr(s, "aws.region", "eu-west-1");
        SetAttr(s, "aws.table_name", "orders");
      } else if (sp.kind == otlp_trace::Span::SPAN_KIND_CLIENT) {
        SetAttr(s, "http.request.method", sp.id == 6 ? "POST" : "GET");
        SetAttr(s, "url.full", fmt::format("https://svc-{}.internal/x", sp.id == 3 ? mid : back));
        SetAttr(s, "http.response.status_code", int64_t{200});
      } else {
        SetAttr(s, "code.function", sp.name);
        SetAttr(s, "items", int64_t{t % 13});
      }
    }
  }
  Body body;
  body.bytes = req.SerializeAsString();
  std::string_view view(body.bytes);
  std::string_view marker(reinterpret_cast<const char*>(kMarker), 8);
  for (size_t pos = view.find(marker); pos != std::string_view::npos;
       pos = view.find(marker, pos + 8)) {
    body.trace_offsets.push_back(pos);
  }
  return body;
}

}  // namespace

using roentgen::bench::HttpGet;
using roentgen::bench::MetricSum;
using roentgen::bench::ProcSample;
using roentgen::bench::SampleProcess;
using roentgen::bench::SplitHostPort;

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Roentgen OTLP ingest load generator (OTLP/HTTP protobuf or OTLP/gRPC)"};
  app.add_option("--target", o.target, "server HOST:PORT");
  app.add_option("--spans", o.spans, "spans to send (rounded up to whole batches)");
  app.add_option("--batch", o.batch, "spans per export request (a multiple of 8)")
      ->check(CLI::Range(8, 65536));
  app.add_option("--services", o.services, "distinct service.name values")
      ->check(CLI::Range(3, 1000));
  app.add_option("--connections", o.connections, "concurrent keep-alive connections")
      ->check(CLI::Range(1, 256));
  app.add_option("--server-pid", o.server_pid, "server PID, for CPU and peak RSS");
  app.add_flag("--random-trace-ids", o.random_trace_ids,
               "random 16-byte trace ids, as OpenTelemetry's default id generator makes "
               "(default: the X-Ray id generator's, current epoch second first)");
  app.add_flag("--grpc", o.grpc,
               "OTLP/gRPC (TraceService/Export, one HTTP/2 connection per --connections) "
               "instead of OTLP/HTTP; --target is then the server's --otlp-grpc-listen");
  app.add_flag("--translate-only", o.translate_only,
               "no server: decode + translate the bodies in this process, one thread");
  CLI11_PARSE(app, argc, argv);
  o.batch -= o.batch % 8;

  const int kBodies = 64;
  std::vector<Body> bodies;
  for (int i = 0; i < kBodies; ++i) bodies.push_back(MakeBody(o, static_cast<uint32_t>(i)));
  const uint64_t batches = (o.spans + o.batch - 1) / o.batch;
  if (o.translate_only) {
    uint64_t docs = 0, bytes = 0;
    // CPU time as well as wall time: on a shared machine the wall time also
    // counts other processes' turns.
    auto cpu_seconds = [] {
      timespec ts{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
      return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
    };
    const double cpu_start = cpu_seconds();
    auto start = Clock::now();
    for (uint64_t b = 0; b < batches; ++b) {
      const std::string& body = bodies[b % kBodies].bytes;
      roentgen::otlp::ArenaRequest decoded(body.size());
      if (!roentgen::otlp::DecodeRequest(body, roentgen::otlp::Encoding::kProtobuf,
                                         decoded.request())
               .ok()) {
        fmt::print(stderr, "a generated body does not decode\n");
        return 1;
      }
      roentgen::otlp::Translation t = roentgen::otlp::Translate(decoded.request());
      docs += t.documents.size();
      for (const auto& d : t.documents) bytes += d.json.size();
    }
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    double cpu = cpu_seconds() - cpu_start;
    fmt::print(
        "translate_only: {:.0f} spans/s, {:.0f} docs/s, {:.0f} bytes/doc, {:.2f} us/span, "
        "{:.2f} us CPU/span\n",
        batches * o.batch / seconds, docs / seconds, double(bytes) / docs,
        seconds * 1e6 / (batches * o.batch), cpu * 1e6 / (batches * o.batch));
    return 0;
  }
  auto [host, port] = SplitHostPort(o.target);

  std::atomic<uint64_t> next{0}, ok_spans{0}, failed{0};
  // Gives `bytes` (a copy of `body`) trace ids no other send uses: trace ids
  // begin with the current epoch second, as the X-Ray id generator's do (X-Ray
  // rejects others), so the store's keys advance with time as in production.
  auto patch_trace_ids = [&](const Body& body, int connection, uint64_t seq, std::string& bytes) {
    bytes = body.bytes;
    uint64_t unique = (uint64_t{static_cast<uint32_t>(connection)} << 56) ^ (seq / kBodies) ^
                      0x9e3779b97f4a7c15ULL;
    const auto epoch = static_cast<uint32_t>(std::time(nullptr));
    for (size_t off : body.trace_offsets) {
      // A random first half: spread the scrambled sequence over it.
      const uint32_t first = o.random_trace_ids
                                 ? static_cast<uint32_t>((unique * 0x9e3779b97f4a7c15ULL) >> 32)
                                 : epoch;
      for (int i = 0; i < 4; ++i) bytes[off - 8 + i] = static_cast<char>(first >> (24 - 8 * i));
      for (int i = 0; i < 8; ++i) bytes[off + i] = static_cast<char>(unique >> (56 - 8 * i));
    }
  };
  // Counts one answered export: durable when accepted whole.
  auto settle = [&](bool transport_ok, std::string_view answer, std::string_view what) {
    ExportTraceServiceResponse parsed;
    if (!transport_ok || !parsed.ParseFromArray(answer.data(), static_cast<int>(answer.size())) ||
        parsed.partial_success().rejected_spans() != 0) {
      if (failed.fetch_add(1) < 3) {
        fmt::print(stderr, "{}: {}\n", what,
                   parsed.partial_success().error_message().empty()
                       ? answer.substr(0, 200)
                       : parsed.partial_success().error_message());
      }
      return;
    }
    ok_spans += static_cast<uint64_t>(o.batch);
  };
  ProcSample cpu0 = SampleProcess(o.server_pid);
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < o.connections; ++c) {
    threads.emplace_back([&, c] {
      if (o.grpc) {
        // One channel, so one HTTP/2 connection, per thread.
        grpc::ChannelArguments args;
        args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
        grpc::GenericStub stub(
            grpc::CreateCustomChannel(o.target, grpc::InsecureChannelCredentials(), args));
        grpc::CompletionQueue cq;
        std::string bytes;
        for (uint64_t seq; (seq = next.fetch_add(1)) < batches;) {
          patch_trace_ids(bodies[seq % kBodies], c, seq, bytes);
          grpc::Slice slice(bytes);
          const grpc::ByteBuffer request(&slice, 1);
          grpc::ClientContext context;
          auto call = stub.PrepareUnaryCall(
              &context, "/opentelemetry.proto.collector.trace.v1.TraceService/Export", request,
              &cq);
          call->StartCall();
          grpc::ByteBuffer response;
          grpc::Status status;
          call->Finish(&response, &status, nullptr);
          void* tag = nullptr;
          bool ok = false;
          if (!cq.Next(&tag, &ok)) break;
          std::vector<grpc::Slice> slices;
          std::string answer;
          if (status.ok() && response.Dump(&slices).ok()) {
            for (const grpc::Slice& s : slices) {
              answer.append(reinterpret_cast<const char*>(s.begin()), s.size());
            }
          } else {
            answer = status.error_message();
          }
          settle(ok && status.ok(), answer,
                 fmt::format("gRPC {}", static_cast<int>(status.error_code())));
        }
        cq.Shutdown();
        void* tag = nullptr;
        bool ok = false;
        while (cq.Next(&tag, &ok)) {
        }
        return;
      }
      boost::asio::io_context ioc;
      tcp::resolver resolver(ioc);
      beast::tcp_stream stream(ioc);
      stream.connect(resolver.resolve(host, port));
      beast::flat_buffer buf;
      http::request<http::string_body> req{http::verb::post, "/v1/traces", 11};
      req.set(http::field::host, host);
      req.set(http::field::content_type, "application/x-protobuf");
      for (uint64_t seq; (seq = next.fetch_add(1)) < batches;) {
        patch_trace_ids(bodies[seq % kBodies], c, seq, req.body());
        req.prepare_payload();
        http::write(stream, req);
        http::response<http::string_body> res;
        http::read(stream, buf, res);
        settle(res.result_int() == 200, res.body(), fmt::format("HTTP {}", res.result_int()));
      }
    });
  }
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  // With an OTLP spool, an answer means durable; the spans are indexed once
  // the spool's backlog is empty.
  double indexed_seconds = 0;
  if (!o.grpc && !o.translate_only) {
    const std::string kBacklog = "roentgen_spool_backlog_bytes{spool=\"otlp\"}";
    const std::string metrics = HttpGet(host, static_cast<uint16_t>(std::stoi(port)), "/metrics");
    if (metrics.find(kBacklog) != std::string::npos) {
      while (MetricSum(HttpGet(host, static_cast<uint16_t>(std::stoi(port)), "/metrics"),
                       kBacklog) > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      indexed_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    }
  }
  ProcSample cpu1 = SampleProcess(o.server_pid);

  double avg_body = 0;
  for (const Body& b : bodies) avg_body += static_cast<double>(b.bytes.size());
  avg_body /= kBodies;
  fmt::print("batches={} batch_spans={} services={} connections={} avg_body_bytes={:.0f}\n",
             batches, o.batch, o.services, o.connections, avg_body);
  fmt::print(
      "durable_spans={} failed_batches={} seconds={:.2f} rate={:.0f} spans/s ({:.0f} segment "
      "docs/s)\n",
      ok_spans.load(), failed.load(), seconds, ok_spans / seconds, ok_spans / seconds * 3 / 8);
  if (indexed_seconds > 0) {
    fmt::print("indexed (OTLP spool empty) after {:.2f}s: {:.0f} spans/s from first send\n",
               indexed_seconds, ok_spans / indexed_seconds);
  }
  if (o.server_pid > 0) {
    fmt::print("server_cpu={:.2f}s ({:.0f}% of one core) peak_rss={:.1f} MiB\n",
               cpu1.cpu_seconds - cpu0.cpu_seconds,
               100 * (cpu1.cpu_seconds - cpu0.cpu_seconds) / seconds, cpu1.peak_rss_kb / 1024.0);
  }
  return failed == 0 ? 0 : 1;
}
