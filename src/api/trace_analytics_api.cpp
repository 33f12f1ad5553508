// TraceAnalytics, a Roentgen extension (not part of X-Ray's API):
// POST /roentgen/TraceAnalytics
//   {StartTime, EndTime, TimeRangeType?, FilterExpression?   (as GetTraceSummaries)
//    Limit?      values per list, 1..kMaxLimit, default kDefaultLimit
//    Period?     time-series period in whole seconds, > 0, at most kMaxPoints
//                periods over the range; default DefaultPeriodSeconds(range)
//    MaxTraces?  traces to examine, 1..kMaxMaxTraces, default kDefaultMaxTraces}
// (the range at most QueryLimits::max_range_us long; Limit, Period and
// MaxTraces past their maximum are counted in roentgen_limits_exceeded_total)
// answers the aggregates of trace_analytics.h over every matching trace, plus
//   TracesProcessedCount  traces the store examined (store::ScanProgress)
//   Complete              the whole range was scanned
//   ScannedFrom           [ScannedFrom, EndTime) was covered (StartTime when
//                         complete; the most recent traces are scanned first)
// in one response (a NextToken is rejected). Errors are X-Ray's shapes: 400
// InvalidRequestException naming the field, 500 when the store fails.
#include <fmt/format.h>

#include <cmath>

#include "api/json_io.h"
#include "api/trace_analytics.h"
#include "api/trace_query.h"
#include "api/xray_handlers.h"

namespace roentgen::api {
namespace {

using nlohmann::json;

constexpr int64_t kDefaultLimit = 20;
constexpr int64_t kMaxLimit = 100;
constexpr int64_t kMaxPoints = 10'000;
// Candidates per request, by default and at most: about 1.1 s of CPU (7-9 µs
// a candidate, decoding included) and 1.8 s of wall time on the 2-core
// reference machine under load (docs/benchmarks.md "Trace analytics
// (console)"). A larger range is covered from its most recent end, and the
// answer says how far (Complete, ScannedFrom).
constexpr int64_t kDefaultMaxTraces = 150'000;
constexpr int64_t kMaxMaxTraces = 150'000;
constexpr int64_t kTargetPoints = 120;

struct AnalyticsRequest {
  TraceQuery query;
  TraceAnalyticsConfig config;
  size_t max_traces = kDefaultMaxTraces;
};

// The smallest of 1, 2, 5, 10, 15, 30 minutes, 1, 2, 3, 6, 12 hours, or a
// whole number of days, that gives at most kTargetPoints periods.
int64_t DefaultPeriodSeconds(int64_t range_us) {
  constexpr int64_t kSteps[] = {60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200};
  const int64_t range_s = (range_us + 999'999) / 1'000'000;
  const int64_t wanted = (range_s + kTargetPoints - 1) / kTargetPoints;
  for (int64_t step : kSteps) {
    if (step >= wanted) return step;
  }
  constexpr int64_t kDay = 86'400;
  return (wanted + kDay - 1) / kDay * kDay;
}

Result<AnalyticsRequest> ParseAnalyticsRequest(const RequestBody& body,
                                               const filter::GroupResolver* groups,
                                               const ApiLimits& limits) {
  AnalyticsRequest r;
  Result<TraceQuery> query = ParseTraceQuery(body, groups, limits);
  if (!query.ok()) return query.status();
  r.query = std::move(query).value();
  const int64_t range_us = r.query.scan.end_us - r.query.scan.start_us;

  Field<int64_t> limit = GetCount(body.root(), "Limit", "Limit");
  if (!limit.ok()) return limit.status();
  const int64_t n = limit->value_or(kDefaultLimit);
  if (n < 1 || n > kMaxLimit) {
    if (n > kMaxLimit) limits.Count(Limit::kAnalyticsLimit);
    return Status::InvalidArgument(
        fmt::format("Limit: must be between 1 and {}, got {}", kMaxLimit, n));
  }
  r.config.limit = static_cast<size_t>(n);

  Field<double> period = body.Number("Period");
  if (!period.ok()) return period.status();
  int64_t period_s = DefaultPeriodSeconds(range_us);
  if (period->has_value()) {
    const double p = **period;
    if (!(p >= 1) || p != std::floor(p) || p > 1e12) {
      return Status::InvalidArgument(
          fmt::format("Period: must be a positive whole number of seconds, got {}", p));
    }
    period_s = static_cast<int64_t>(p);
    const int64_t periods = (range_us + period_s * 1'000'000 - 1) / (period_s * 1'000'000);
    if (periods > kMaxPoints) {
      const int64_t range_s = (range_us + 999'999) / 1'000'000;
      return limits.Refuse(
          Limit::kTimeSeriesPoints,
          fmt::format(
              "Period: {} s over a {} s range makes {} periods, more than {}; use at least {} s",
              period_s, range_s, periods, kMaxPoints, (range_s + kMaxPoints - 1) / kMaxPoints));
    }
  }
  r.config.period_us = period_s * 1'000'000;

  Field<int64_t> max_traces = GetCount(body.root(), "MaxTraces", "MaxTraces");
  if (!max_traces.ok()) return max_traces.status();
  const int64_t m = max_traces->value_or(kDefaultMaxTraces);
  if (m < 1 || m > kMaxMaxTraces) {
    if (m > kMaxMaxTraces) limits.Count(Limit::kAnalyticsMaxTraces);
    return Status::InvalidArgument(
        fmt::format("MaxTraces: must be between 1 and {}, got {}", kMaxMaxTraces, m));
  }
  r.max_traces = static_cast<size_t>(m);

  RG_RETURN_IF_ERROR(
      RejectNextToken(body, "answers TraceAnalytics in one response and never issues one"));
  return r;
}

void TraceAnalyticsHandler(store::Store& store, const filter::GroupResolver* groups,
                           const ApiLimits& limits, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Result<AnalyticsRequest> parsed = ParseAnalyticsRequest(body, groups, limits);
  if (!parsed.ok()) return respond(StatusResponse(parsed.status()));
  const AnalyticsRequest& r = *parsed;

  TraceAnalytics analytics(r.config);
  store::ScanOptions scan = r.query.scan;
  scan.max_examined = r.max_traces;
  Result<store::ScanProgress> progress =
      store.Scan(scan, [&](const store::TraceRecord& record, int64_t sort_time_us) {
        analytics.Add(record.summary, sort_time_us);
        return true;
      });
  if (!progress.ok()) return respond(StatusResponse(progress.status()));

  json response = analytics.ToJson();
  response["TracesProcessedCount"] = progress->examined;
  response["Complete"] = !progress->stopped_at.has_value();
  response["ScannedFrom"] = EpochSeconds(ScannedFromUs(*progress, scan.start_us));
  respond(JsonResponse(response));
}

}  // namespace

void RegisterAnalyticsApis(Router& router, store::Store& store,
                           std::shared_ptr<const filter::GroupResolver> groups,
                           std::shared_ptr<const ApiLimits> limits) {
  router.Add("POST", "/roentgen/TraceAnalytics",
             [&store, groups, limits](const HttpRequest& request, Responder respond) {
               TraceAnalyticsHandler(store, groups.get(), *limits, request, std::move(respond));
             });
}

}  // namespace roentgen::api
