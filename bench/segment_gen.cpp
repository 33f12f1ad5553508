#include "segment_gen.h"

#include <fmt/format.h>

#include "xray/ids.h"

namespace roentgen::bench {
namespace {
constexpr const char* kServices[] = {"web-app", "notes-api", "billing", "search", "auth"};
constexpr const char* kRoutes[] = {"/notes", "/notes/42", "/login", "/search?q=x", "/checkout"};
constexpr const char* kMethods[] = {"GET", "POST", "PUT", "DELETE"};
constexpr int kStatuses[] = {200, 200, 200, 200, 201, 404, 429, 500};
}  // namespace

SegmentGenerator::SegmentGenerator(uint64_t seed, bool seeded_ids)
    : rng_(seed), id_rng_(seed ^ 0x5eed1d5ull), seeded_ids_(seeded_ids) {}

std::string SegmentGenerator::TraceId(double epoch_seconds) {
  const auto epoch = static_cast<uint32_t>(epoch_seconds);
  if (!seeded_ids_) return xray::TraceId::Generate(epoch).ToString();
  const uint64_t hi = id_rng_();
  return fmt::format("1-{:08x}-{:08x}{:016x}", epoch, static_cast<uint32_t>(hi), id_rng_());
}

std::string SegmentGenerator::SegmentId() {
  if (!seeded_ids_) return xray::SegmentId::Generate().ToString();
  return fmt::format("{:016x}", id_rng_());
}

std::string SegmentGenerator::Next(double start) {
  ++counter_;
  auto trace = TraceId(start);
  auto seg = SegmentId();
  const char* service = kServices[rng_() % 5];
  const char* route = kRoutes[rng_() % 5];
  const char* method = kMethods[rng_() % 4];
  int status = kStatuses[rng_() % 8];
  double dur = 0.005 + (rng_() % 2000) / 1000.0;
  uint64_t user = rng_() % 50000;
  const char* flags = status >= 500   ? R"("fault":true,)"
                      : status == 429 ? R"("error":true,"throttle":true,)"
                      : status >= 400 ? R"("error":true,)"
                                      : "";
  return fmt::format(
      R"({{"name":"{svc}","id":"{id}","trace_id":"{trace}","start_time":{start:.6f},"end_time":{end:.6f},)"
      R"("origin":"AWS::EC2::Instance","user":"user-{user}",{flags})"
      R"("http":{{"request":{{"method":"{method}","url":"https://{svc}.example.com{route}","user_agent":"Mozilla/5.0 (X11; Linux x86_64) bench","client_ip":"10.0.{a}.{b}"}},"response":{{"status":{status},"content_length":{len}}}}},)"
      R"("aws":{{"account_id":"123456789012","ec2":{{"instance_id":"i-0abc{a:03}{b:03}","availability_zone":"us-east-1a"}},"xray":{{"sdk":"X-Ray for Node.js","sdk_version":"3.12.0"}}}},)"
      R"("annotations":{{"email":"user-{user}@example.com","tenant":"tenant-{tenant}","items":{items},"premium":{premium}}},)"
      R"("metadata":{{"default":{{"request_seq":{seq},"feature_flags":["a","b"]}}}},)"
      R"("subsegments":[)"
      R"({{"name":"dynamodb","id":"{s1}","start_time":{s1s:.6f},"end_time":{s1e:.6f},"namespace":"aws","aws":{{"operation":"Query","region":"us-east-1","request_id":"R{seq}","table_name":"notes"}},"http":{{"response":{{"status":200}}}}}},)"
      R"({{"name":"payments.example.com","id":"{s2}","start_time":{s2s:.6f},"end_time":{s2e:.6f},"namespace":"remote","http":{{"request":{{"method":"POST","url":"https://payments.example.com/charge"}},"response":{{"status":200}}}}}},)"
      R"({{"name":"render","id":"{s3}","start_time":{s3s:.6f},"end_time":{s3e:.6f}}}]}})",
      fmt::arg("svc", service), fmt::arg("id", seg), fmt::arg("trace", trace),
      fmt::arg("start", start), fmt::arg("end", start + dur), fmt::arg("user", user),
      fmt::arg("flags", flags), fmt::arg("method", method), fmt::arg("route", route),
      fmt::arg("a", rng_() % 256), fmt::arg("b", rng_() % 256), fmt::arg("status", status),
      fmt::arg("len", rng_() % 100000), fmt::arg("tenant", rng_() % 20),
      fmt::arg("items", rng_() % 100), fmt::arg("premium", (rng_() & 1) ? "true" : "false"),
      fmt::arg("seq", counter_), fmt::arg("s1", SegmentId()), fmt::arg("s1s", start + 0.001),
      fmt::arg("s1e", start + dur * 0.3), fmt::arg("s2", SegmentId()),
      fmt::arg("s2s", start + dur * 0.35), fmt::arg("s2e", start + dur * 0.8),
      fmt::arg("s3", SegmentId()), fmt::arg("s3s", start + dur * 0.82),
      fmt::arg("s3e", start + dur * 0.95));
}

}  // namespace roentgen::bench
