// CPU of checking one signed API request with --keys (src/auth/authorizer.h):
// SigV4 verification (SHA-256 of the body, the canonical request, six
// HMAC-SHA-256s), the key lookup and the action check, for PutTraceSegments
// bodies of 1 KiB, 50 KiB (the X-Ray daemon's batch of 50 documents) and 1 MiB.
// Figures in docs/benchmarks.md ("Signed requests").
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "auth/authorizer.h"
#include "auth/keys_file.h"
#include "auth/sigv4.h"
#include "common/clock.h"
#include "common/metrics.h"

namespace roentgen::auth {
namespace {

const SigningCredentials kKey{"AKRGBENCHAAAAAAAAAAA", "bench-secret-0123456789abcdef", ""};

void BM_AuthorizerCheck(benchmark::State& state) {
  char pattern[] = "/tmp/roentgen-auth-bench-XXXXXX";
  const std::string dir = mkdtemp(pattern);
  KeysFile file;
  file.session_token_key = NewSessionTokenKey();
  for (int i = 0; i < 100; ++i) {  // a hundred keys; the one used is the last
    file.keys.push_back({NewAccessKeyId(false), NewSecretAccessKey(), "", {"xray:*"}, 0});
  }
  file.keys.push_back({kKey.access_key_id, kKey.secret_access_key, "", {"xray:Put*"}, 0});
  if (!WriteKeysFile(dir + "/keys.json", file).ok()) state.SkipWithError("cannot write keys");
  const Clock& clock = Clock::System();
  KeyStore store({dir + "/keys.json"}, clock);
  if (!store.Load().ok()) state.SkipWithError("cannot load keys");
  MetricsRegistry metrics;
  Authorizer authorizer(&store, {}, clock, metrics);

  api::HttpRequest request;
  request.method = "POST";
  request.path = "/TraceSegments";
  request.target = request.path;
  request.body = R"({"TraceSegmentDocuments":[")" +
                 std::string(static_cast<size_t>(state.range(0)), 'x') + R"("]})";
  request.headers = {{"host", "127.0.0.1:2000"},
                     {"content-type", "application/x-amz-json-1.1"},
                     {"user-agent", "aws-sdk-js/3"},
                     {"amz-sdk-request", "attempt=1; max=3"}};
  SignRequest(request.method, request.path, "", request.headers, request.body, kKey, "us-east-1",
              "xray", clock.NowMicros() / 1'000'000);
  for (auto _ : state) {
    benchmark::DoNotOptimize(authorizer.Check(request));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(request.body.size()));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_AuthorizerCheck)->Arg(1 << 10)->Arg(50 << 10)->Arg(1 << 20);

}  // namespace
}  // namespace roentgen::auth

BENCHMARK_MAIN();
