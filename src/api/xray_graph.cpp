// The service-map APIs:
//   GetServiceGraph                 POST /ServiceGraph
//     {StartTime, EndTime, GroupName | GroupARN?, NextToken?}
//   GetTraceGraph                   POST /TraceGraph  {TraceIds[≤ kMaxTraceGraphIds], NextToken?}
//   GetTimeSeriesServiceStatistics  POST /TimeSeriesServiceStatistics
//     {StartTime, EndTime, GroupName | GroupARN?, EntitySelectorExpression?, Period?,
//      ForecastStatistics?, NextToken?}
//
// No group, the Default group, or a group without a filter: answered from the
// per-minute rollups the writer keeps (graph/rollup_store.h); one page, never
// a NextToken. A group with a filter: the rollups cannot tell which trace an
// observation came from, so the store scans [StartTime, EndTime) with the
// filter (most recent first), the matching traces are rolled up per minute
// into a query-local RollupStore, and that is queried the same way. One page
// has the store examine no more than kMaxScannedPerPage traces
// (store::ScanOptions::max_examined); when it stops early it returns a NextToken (page_token.h) for
// the older rest of the window, and its StartTime is where it stopped: each
// page is the graph of its own slice of the window (docs/service-map.md).
// While the rollups are still being rebuilt after a restart, queries without
// a filter are answered the same way (every trace matches), so that they are
// exact from the first second; a NextToken issued then stays valid after.
//
// [StartTime, EndTime) is at most QueryLimits::max_range_us long (which also
// bounds the time series: at most that range over 60 s periods).
//
// EntitySelectorExpression absent = every edge's statistics (X-Ray: "If no
// selector expression is specified, edge statistics are returned"). Period:
// seconds, a positive multiple of 60, default 60. ForecastStatistics is
// accepted and no forecast is sent (X-Ray's forecast model is undocumented).
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/group_registry.h"
#include "api/json_io.h"
#include "api/page_token.h"
#include "api/xray_handlers.h"
#include "filter/filter.h"
#include "graph/entity_selector.h"
#include "graph/service_graph_json.h"

namespace roentgen::api {
namespace {

using nlohmann::json;

constexpr size_t kMaxTraceGraphIds = 100;
constexpr size_t kMaxScannedPerPage = 100000;
constexpr int64_t kDefaultPeriodSeconds = 60;
constexpr size_t kMaxEntitySelectorChars = 500;  // X-Ray's API model

struct GraphContext {
  GraphContext(store::Store& s, graph::RollupStore& r, std::shared_ptr<const ApiLimits> l)
      : store(s), rollups(r), groups(s), limits(std::move(l)) {}
  store::Store& store;
  graph::RollupStore& rollups;
  GroupRegistry groups;
  std::shared_ptr<const ApiLimits> limits;
};

// The time window, the group's filter, whether the traces are scanned (a
// filter, the rollups still rebuilding, or a NextToken from such a scan) or
// the rollups answer, and where a scan resumes.
struct GraphQuery {
  int64_t start_us = 0;
  int64_t end_us = 0;
  std::shared_ptr<const filter::CompiledFilter> filter;
  bool scan = false;
  std::optional<store::ScanCursor> resume_after;
  uint64_t fingerprint = 0;
};

Result<GraphQuery> ParseGraphQuery(const RequestBody& body, const GraphContext& ctx,
                                   std::string_view operation) {
  const GroupRegistry& groups = ctx.groups;
  const graph::RollupStore& rollups = ctx.rollups;
  GraphQuery q;
  Result<TimeRange> range = ReadTimeRange(body);
  if (!range.ok()) return range.status();
  RG_RETURN_IF_ERROR(ctx.limits->CheckRange(range->start_us, range->end_us));
  q.start_us = range->start_us;
  q.end_us = range->end_us;

  Field<std::string_view> name = body.String("GroupName");
  if (!name.ok()) return name.status();
  Field<std::string_view> arn = body.String("GroupARN");
  if (!arn.ok()) return arn.status();
  std::optional<Group> group;
  if ((name->has_value() && !(*name)->empty()) || (arn->has_value() && !(*arn)->empty())) {
    const bool by_name = name->has_value() && !(*name)->empty();
    Result<Group> found = groups.Get(by_name ? **name : **arn, !by_name);
    if (!found.ok()) {
      if (found.status().code() == StatusCode::kNotFound) {
        return Status::InvalidArgument(found.status().message());
      }
      return found.status();
    }
    group = std::move(*found);
  }
  const std::string expression = group ? group->filter_expression.value_or("") : "";
  if (!expression.empty()) {
    Result<filter::CompiledFilter> compiled = filter::CompileFilter(expression, &groups);
    if (!compiled.ok()) {
      return Status::InvalidArgument(fmt::format("group '{}': its FilterExpression: {}",
                                                 group->name, compiled.status().message()));
    }
    if (!compiled->MatchesAll()) {
      q.filter = std::make_shared<const filter::CompiledFilter>(std::move(*compiled));
    }
  }
  q.scan = q.filter != nullptr || rollups.rebuilding();
  q.fingerprint = std::hash<std::string>{}(
      fmt::format("{}|{}|{}|{}|{}", operation, q.start_us, q.end_us,
                  q.filter ? q.filter->ToString() : "", kMaxScannedPerPage));

  Field<std::string_view> token = body.String("NextToken");
  if (!token.ok()) return token.status();
  if (token->has_value() && !(*token)->empty()) {
    Result<PageToken> decoded = DecodePageToken(**token);
    if (!decoded.ok()) return decoded.status();
    if (decoded->fingerprint != q.fingerprint) {
      return Status::InvalidArgument(
          "NextToken: it was issued for a different query (time range or group changed); "
          "start again without it");
    }
    q.resume_after = decoded->cursor;
    q.scan = true;
  }
  return q;
}

// The slice of the window one page of a filtered-group query covered.
struct ScanPage {
  int64_t start_us = 0;
  int64_t end_us = 0;
  std::optional<std::string> next_token;
};

// Rolls the graphs of the group's traces in the window up into `out`.
Result<ScanPage> ScanGroupTraces(store::Store& store, const GraphQuery& q,
                                 graph::RollupStore& out) {
  store::ScanOptions scan;
  scan.start_us = q.start_us;
  scan.end_us = q.end_us;
  scan.time_range_type = store::TimeRangeType::kTraceId;
  scan.descending = true;
  scan.filter = q.filter;
  scan.return_graph = true;  // rolled up
  scan.max_examined = kMaxScannedPerPage;
  scan.resume_after = q.resume_after;
  Result<store::ScanProgress> progress =
      store.Scan(scan, [&](const store::TraceRecord& record, int64_t) {
        out.Add(record.graph, +1);
        return true;
      });
  if (!progress.ok()) return progress.status();
  const bool more = progress->stopped_at.has_value();
  const std::optional<store::ScanCursor>& last = progress->last;
  ScanPage page;
  page.end_us = q.resume_after ? q.resume_after->time_us : q.end_us;
  page.start_us = more && last ? last->time_us : q.start_us;
  if (more && last) page.next_token = EncodePageToken(PageToken{*last, q.fingerprint});
  return page;
}

graph::RollupConfig QueryLocalRollups() {
  graph::RollupConfig config;
  config.retention_us = std::numeric_limits<int64_t>::max() / 4;  // never expired
  return config;
}

void GetServiceGraph(GraphContext& ctx, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Result<GraphQuery> q = ParseGraphQuery(body, ctx, "ServiceGraph");
  if (!q.ok()) return respond(StatusResponse(q.status()));
  if (!q->scan) {
    return respond(
        JsonResponse(graph::ToJson(ctx.rollups.QueryServiceGraph(q->start_us, q->end_us))));
  }
  graph::RollupStore local(QueryLocalRollups());
  Result<ScanPage> page = ScanGroupTraces(ctx.store, *q, local);
  if (!page.ok()) return respond(StatusResponse(page.status()));
  graph::ServiceGraphResult result = local.QueryServiceGraph(q->start_us, q->end_us);
  result.start_us = page->start_us;
  result.end_us = page->end_us;
  json response = graph::ToJson(result);
  if (page->next_token) response["NextToken"] = *page->next_token;
  respond(JsonResponse(response));
}

void GetTimeSeriesServiceStatistics(GraphContext& ctx, const HttpRequest& request,
                                    Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Result<GraphQuery> q = ParseGraphQuery(body, ctx, "TimeSeriesServiceStatistics");
  if (!q.ok()) return respond(StatusResponse(q.status()));
  Field<std::string_view> expression = body.String("EntitySelectorExpression");
  if (!expression.ok()) return respond(StatusResponse(expression.status()));
  graph::EntitySelector selector;
  selector.kind = graph::EntitySelector::Kind::kEdge;  // every edge
  if (expression->has_value() && (*expression)->size() > kMaxEntitySelectorChars) {
    return respond(StatusResponse(ctx.limits->Refuse(
        Limit::kExpressionLength,
        fmt::format("EntitySelectorExpression: {} characters, more than X-Ray's {}",
                    (*expression)->size(), kMaxEntitySelectorChars))));
  }
  if (expression->has_value() && !(*expression)->empty()) {
    Result<graph::EntitySelector> parsed = graph::ParseEntitySelector(**expression);
    if (!parsed.ok()) {
      return respond(
          InvalidRequest(fmt::format("EntitySelectorExpression: {}", parsed.status().message())));
    }
    selector = std::move(*parsed);
  }
  Field<int64_t> period = GetCount(body.root(), "Period", "Period");
  if (!period.ok()) return respond(StatusResponse(period.status()));
  const int64_t period_s = period->value_or(kDefaultPeriodSeconds);
  if (period_s <= 0 || period_s % 60 != 0) {
    return respond(InvalidRequest(
        fmt::format("Period: must be a positive multiple of 60 seconds, got {}", period_s)));
  }
  Field<bool> forecast = body.Bool("ForecastStatistics");
  if (!forecast.ok()) return respond(StatusResponse(forecast.status()));

  if (!q->scan) {
    Result<std::vector<graph::TimeSeriesPoint>> points =
        ctx.rollups.QueryTimeSeries(selector, q->start_us, q->end_us, period_s);
    if (!points.ok()) return respond(StatusResponse(points.status()));
    return respond(JsonResponse(graph::ToJson(*points)));
  }
  graph::RollupStore local(QueryLocalRollups());
  Result<ScanPage> page = ScanGroupTraces(ctx.store, *q, local);
  if (!page.ok()) return respond(StatusResponse(page.status()));
  Result<std::vector<graph::TimeSeriesPoint>> points =
      local.QueryTimeSeries(selector, q->start_us, q->end_us, period_s);
  if (!points.ok()) return respond(StatusResponse(points.status()));
  json response = graph::ToJson(*points);
  if (page->next_token) response["NextToken"] = *page->next_token;
  respond(JsonResponse(response));
}

void GetTraceGraph(GraphContext& ctx, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  if (Status s =
          RejectNextToken(body, "returns the whole trace graph at once and never issues one");
      !s.ok()) {
    return respond(StatusResponse(s));
  }
  Result<std::vector<xray::TraceId>> ids =
      ReadTraceIds(body, kMaxTraceGraphIds, ctx.limits->counter(Limit::kTraceIds));
  if (!ids.ok()) return respond(StatusResponse(ids.status()));
  const std::vector<xray::TraceId>& trace_ids = *ids;
  std::vector<graph::TraceGraph> graphs;
  for (const xray::TraceId& id : trace_ids) {
    Result<store::TraceRecord> record = ctx.store.GetTrace(id);
    if (!record.ok()) {
      if (record.status().code() == StatusCode::kNotFound) continue;  // unknown: no services
      return respond(StatusResponse(record.status()));
    }
    graphs.push_back(std::move(record->graph));
  }
  respond(JsonResponse(graph::TraceGraphToJson(graph::BuildTraceGraphResult(graphs))));
}

}  // namespace

void RegisterGraphApis(Router& router, store::Store& store, graph::RollupStore& rollups,
                       std::shared_ptr<const ApiLimits> limits) {
  auto ctx = std::make_shared<GraphContext>(store, rollups, std::move(limits));
  using Fn = void (*)(GraphContext&, const HttpRequest&, Responder);
  const std::pair<const char*, Fn> routes[] = {
      {"/ServiceGraph", &GetServiceGraph},
      {"/TraceGraph", &GetTraceGraph},
      {"/TimeSeriesServiceStatistics", &GetTimeSeriesServiceStatistics},
  };
  for (const auto& [path, fn] : routes) {
    // fn = fn: clang 14 cannot capture a structured binding by name.
    router.Add("POST", path, [ctx, fn = fn](const HttpRequest& request, Responder respond) {
      fn(*ctx, request, std::move(respond));
    });
  }
}

}  // namespace roentgen::api
