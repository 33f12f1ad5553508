// Fuzzes X-Ray's HTTP API end to end without a server: a POST dispatched
// through api::Router to the handlers (RegisterXRayApi and
// RegisterServiceMapApis: PutTraceSegments, BatchGetTraces,
// GetTraceSummaries, the groups, the service map, TraceAnalytics, …) over a
// running ingest::Pipeline and an in-memory store. Documents put by one input
// are read by later ones, as on a server.
//
// Input: the path on the first line ("/TraceSummaries"), the body after it.
// Invariants: every request is answered exactly once, with X-Ray's shape: a
// JSON body (or none), an error type header on every error.
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <string_view>

#include "api/http.h"
#include "api/xray_api.h"
#include "fuzz_check.h"
#include "graph/rollup_store.h"
#include "ingest/pipeline.h"
#include "ingest/testing/fake_store.h"

using namespace roentgen;

namespace {

// The server: store, rollups, pipeline and router. Rebuilt now and then so
// that what the inputs stored (documents, groups) stays small.
struct Server {
  Server() {
    ingest::PipelineConfig config;
    config.queue_capacity = 1024;
    config.max_batch_documents = 256;
    config.trace_cache_entries = 1000;
    config.trace_cache_bytes = 8 << 20;
    config.writer_threads = 1;
    config.rollups = &rollups;
    pipeline = std::make_unique<ingest::Pipeline>(config, store, metrics);
    if (!pipeline->Start().ok()) std::abort();
    api::RegisterXRayApi(router, *pipeline, store, metrics, api::QueryLimits{});
    api::RegisterServiceMapApis(router, store, rollups, metrics, api::QueryLimits{});
  }
  ~Server() { pipeline->Stop(); }

  ingest::testing::FakeStore store;
  graph::RollupStore rollups{graph::RollupConfig{.max_bytes = size_t{16} << 20}};
  MetricsRegistry metrics;
  std::unique_ptr<ingest::Pipeline> pipeline;
  api::Router router;
};

constexpr int kInputsPerServer = 5000;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<Server> server;
  static int inputs = 0;
  if (!server || ++inputs % kInputsPerServer == 0) {
    server.reset();
    server = std::make_unique<Server>();
  }

  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const size_t newline = text.find('\n');
  api::HttpRequest request;
  request.method = "POST";
  request.path = std::string(text.substr(0, newline));
  request.target = request.path;
  if (newline != std::string_view::npos) request.body = std::string(text.substr(newline + 1));
  request.headers = {{"content-type", "application/json"}};
  request.remote_address = "127.0.0.1";

  auto answered = std::make_shared<std::promise<api::HttpResponse>>();
  auto calls = std::make_shared<std::atomic<int>>(0);
  std::future<api::HttpResponse> response = answered->get_future();
  server->router.Dispatch(request, [answered, calls](api::HttpResponse r) {
    FUZZ_CHECK(calls->fetch_add(1) == 0);
    answered->set_value(std::move(r));
  });
  const api::HttpResponse r = response.get();
  FUZZ_CHECK(r.status >= 200 && r.status <= 599);
  if (r.content_type == "application/json" && !r.body.empty()) {
    FUZZ_CHECK(nlohmann::json::accept(r.body));
  }
  if (r.status >= 400) {
    bool typed = false;
    for (const auto& [name, value] : r.headers) typed |= name == "x-amzn-ErrorType";
    FUZZ_CHECK(typed);
  }
  return 0;
}
