// The limits the HTTP API puts on clients, and one counter family for all of
// them: roentgen_limits_exceeded_total{limit}. Each connection, request or
// document refused (or closed) over a limit counts once under its limit's
// label, so one query shows which limits clients meet; the same event may
// also be counted elsewhere (roentgen_http_requests_total{status},
// roentgen_segments_rejected_total{reason="TooLarge"}, …).
// docs/api.md "Limits" lists every limit with its error.
//
// The HTTP server counts its own (connections, headers, body, timeouts); the
// handlers count theirs through ApiLimits, which also carries the limits an
// operator sets (QueryLimits, `roentgen serve --max-query-range`).
//
// Thread safety: counters are atomic; ApiLimits is immutable after
// construction. The MetricsRegistry must outlive both.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/metrics.h"
#include "common/status.h"

namespace roentgen::api {

enum class Limit {
  kConnections,          // max_connections open: 503
  kHeaderSize,           // request headers over 16 KiB: 431
  kBodySize,             // body over max_body_bytes, also after gunzip: 413
  kRequestTimeout,       // headers and body not in within request_timeout: 408
  kIdleTimeout,          // no request begun within idle_timeout: closed
  kResponseTimeout,      // a response not taken by the client within idle_timeout: closed
  kDocumentsPerRequest,  // PutTraceSegments over 1,000 documents: 400
  kDocumentSize,         // a PutTraceSegments document over 64 KB: in UnprocessedTraceSegments
  kTelemetryRecords,     // PutTelemetryRecords over 1,000 records: 400
  kTraceIds,             // BatchGetTraces over 5, GetTraceGraph over 100 ids: 400
  kQueryRange,           // [StartTime, EndTime) longer than max_range: 400
  kAnalyticsMaxTraces,   // TraceAnalytics MaxTraces over 150,000: 400
  kAnalyticsLimit,       // TraceAnalytics Limit over 100: 400
  kTimeSeriesPoints,     // TraceAnalytics Period giving over 10,000 periods: 400
  kExpressionLength,     // EntitySelectorExpression over 500 characters (X-Ray's): 400
};
inline constexpr size_t kLimitCount = static_cast<size_t>(Limit::kExpressionLength) + 1;

// The label value: "connections", "header_size", "body_size", …
std::string_view LimitLabel(Limit limit);

// roentgen_limits_exceeded_total{limit=LimitLabel(limit)}.
Counter& LimitCounter(MetricsRegistry& metrics, Limit limit);

// Limits an operator sets for queries (roentgen serve).
struct QueryLimits {
  // The longest [StartTime, EndTime) of GetTraceSummaries, TraceAnalytics,
  // GetServiceGraph and GetTimeSeriesServiceStatistics (serve's default: the
  // retention plus a day, as no longer range can hold more traces).
  int64_t max_range_us = 31LL * 86400 * 1'000'000;
  Status Validate() const;
};

// What the handlers consult and count with.
class ApiLimits {
 public:
  ApiLimits(QueryLimits config, MetricsRegistry& metrics);

  const QueryLimits& config() const { return config_; }
  // The counter of refusals over `limit`.
  Counter* counter(Limit limit) const { return counters_[static_cast<size_t>(limit)]; }
  // Counts one refusal over `limit`.
  void Count(Limit limit) const { counter(limit)->Inc(); }
  // Counts one refusal over `limit` and returns InvalidArgument (400
  // InvalidRequestException) with `message`.
  Status Refuse(Limit limit, std::string message) const;
  // OK, or the counted refusal of a range longer than max_range_us, naming
  // both lengths and the option that sets the limit.
  Status CheckRange(int64_t start_us, int64_t end_us) const;

 private:
  QueryLimits config_;
  std::array<Counter*, kLimitCount> counters_{};
};

}  // namespace roentgen::api
