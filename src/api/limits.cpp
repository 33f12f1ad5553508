#include "api/limits.h"

#include <fmt/format.h>

namespace roentgen::api {
namespace {

// "31d", "1d12h", "90m", "45s": whole seconds in the units serve's flags take.
std::string Duration(int64_t us) {
  int64_t s = us / 1'000'000;
  if (s <= 0) return fmt::format("{:.3f}s", static_cast<double>(us) / 1e6);
  std::string out;
  for (auto [unit, seconds] : {std::pair{'d', int64_t{86400}}, std::pair{'h', int64_t{3600}},
                               std::pair{'m', int64_t{60}}, std::pair{'s', int64_t{1}}}) {
    if (s >= seconds) {
      out += fmt::format("{}{}", s / seconds, unit);
      s %= seconds;
    }
  }
  return out;
}

}  // namespace

std::string_view LimitLabel(Limit limit) {
  switch (limit) {
    case Limit::kConnections:
      return "connections";
    case Limit::kHeaderSize:
      return "header_size";
    case Limit::kBodySize:
      return "body_size";
    case Limit::kRequestTimeout:
      return "request_timeout";
    case Limit::kIdleTimeout:
      return "idle_timeout";
    case Limit::kResponseTimeout:
      return "response_timeout";
    case Limit::kDocumentsPerRequest:
      return "documents_per_request";
    case Limit::kDocumentSize:
      return "document_size";
    case Limit::kTelemetryRecords:
      return "telemetry_records";
    case Limit::kTraceIds:
      return "trace_ids";
    case Limit::kQueryRange:
      return "query_range";
    case Limit::kAnalyticsMaxTraces:
      return "analytics_max_traces";
    case Limit::kAnalyticsLimit:
      return "analytics_limit";
    case Limit::kTimeSeriesPoints:
      return "time_series_points";
    case Limit::kExpressionLength:
      return "expression_length";
  }
  return "unknown";
}

Counter& LimitCounter(MetricsRegistry& metrics, Limit limit) {
  return metrics.GetCounter("roentgen_limits_exceeded_total",
                            "Connections, requests and documents refused or closed over a limit, "
                            "by limit (docs/api.md, Limits).",
                            {{"limit", std::string(LimitLabel(limit))}});
}

Status QueryLimits::Validate() const {
  if (max_range_us < 60'000'000) {
    return Status::InvalidArgument("the maximum query range must be at least 1m");
  }
  return Status::Ok();
}

ApiLimits::ApiLimits(QueryLimits config, MetricsRegistry& metrics) : config_(config) {
  for (size_t i = 0; i < kLimitCount; ++i) {
    counters_[i] = &LimitCounter(metrics, static_cast<Limit>(i));
  }
}

Status ApiLimits::Refuse(Limit limit, std::string message) const {
  Count(limit);
  return Status::InvalidArgument(std::move(message));
}

Status ApiLimits::CheckRange(int64_t start_us, int64_t end_us) const {
  // Both were validated (0 to year 9999), so the difference cannot overflow.
  const int64_t range_us = end_us - start_us;
  if (range_us <= config_.max_range_us) return Status::Ok();
  return Refuse(Limit::kQueryRange,
                fmt::format("EndTime: the time range is {}, longer than the {} a query may span "
                            "(roentgen serve --max-query-range); query shorter ranges",
                            Duration(range_us), Duration(config_.max_range_us)));
}

}  // namespace roentgen::api
