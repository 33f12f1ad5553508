#include "insights/insights_api.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "api/json_io.h"
#include "graph/rollup_store.h"

namespace roentgen::insights {
namespace {

using api::Field;
using api::HttpRequest;
using api::HttpResponse;
using api::RequestBody;
using api::Responder;
using nlohmann::json;

constexpr int64_t kMaxLookbackUs = 30LL * 24 * 3600 * 1'000'000;  // X-Ray: 30 days
constexpr int64_t kMaxImpactGraphRangeUs = 6LL * 3600 * 1'000'000;
constexpr int64_t kMaxSummaries = 100;
constexpr int64_t kMaxEvents = 50;
constexpr size_t kMaxTokenLength = 2000;
constexpr size_t kMaxGroupNameLength = 32;
constexpr size_t kMaxGroupArnLength = 400;

struct Context {
  const InsightStore& insights;
  const api::GroupRegistry& groups;
  const GroupGraphs& graphs;
  const Clock& clock;
};

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

// The request's InsightId, which must name a stored insight.
Result<Insight> ReadInsight(const Context& ctx, const RequestBody& body) {
  Field<std::string_view> id = body.String("InsightId");
  if (!id.ok()) return id.status();
  if (!id->has_value() || (*id)->empty()) return Status::InvalidArgument("InsightId: required");
  if (!IsUuid(**id)) {
    return Status::InvalidArgument(
        fmt::format("InsightId: '{}' is not an insight id (a UUID)", **id));
  }
  std::string lower(**id);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  Result<std::optional<Insight>> insight = ctx.insights.Lookup(lower);
  if (!insight.ok()) return insight.status();
  if (!insight->has_value()) {
    return Status::InvalidArgument(fmt::format("InsightId: no insight '{}'", **id));
  }
  return std::move(**insight);
}

// MaxResults in [1, max], default max.
Result<int64_t> ReadMaxResults(const RequestBody& body, int64_t max) {
  Field<double> n = body.Number("MaxResults");
  if (!n.ok()) return n.status();
  if (!n->has_value()) return max;
  const double v = **n;
  if (v != static_cast<double>(static_cast<int64_t>(v)) || v < 1 || v > static_cast<double>(max)) {
    return Status::InvalidArgument(fmt::format("MaxResults: an integer from 1 to {}", max));
  }
  return static_cast<int64_t>(v);
}

// NextToken: the offset of the next page, as this server issued it.
Result<size_t> ReadOffsetToken(const RequestBody& body, size_t size) {
  Field<std::string_view> token = body.String("NextToken");
  if (!token.ok()) return token.status();
  if (!token->has_value() || (*token)->empty()) return size_t{0};
  const std::string_view t = **token;
  if (t.size() > kMaxTokenLength) {
    return Status::InvalidArgument(
        fmt::format("NextToken: at most {} characters", kMaxTokenLength));
  }
  size_t offset = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), offset);
  if (ec != std::errc() || ptr != t.data() + t.size() || offset > size) {
    return Status::InvalidArgument("NextToken: not a token this server issued for this query");
  }
  return offset;
}

HttpResponse Error(const Status& s) { return api::StatusResponse(s); }

void GetInsightSummaries(const Context& ctx, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(Error(s));
  Result<api::TimeRange> range = api::ReadTimeRange(body);
  if (!range.ok()) return respond(Error(range.status()));
  const int64_t now = ctx.clock.NowMicros();
  if (range->start_us < now - kMaxLookbackUs) {
    return respond(api::InvalidRequest(
        "StartTime: must be within the last 30 days (X-Ray keeps insights 30 days)"));
  }
  std::set<std::string> states;
  Field<simdjson::dom::array> states_field = body.Array("States");
  if (!states_field.ok()) return respond(Error(states_field.status()));
  if (states_field->has_value()) {
    if ((*states_field)->size() > 1) {
      return respond(api::InvalidRequest("States: at most 1 item"));
    }
    for (simdjson::dom::element e : **states_field) {
      std::string_view s;
      if (e.get(s) != simdjson::SUCCESS || (s != "ACTIVE" && s != "CLOSED")) {
        return respond(api::InvalidRequest("States[0]: ACTIVE or CLOSED"));
      }
      states.insert(std::string(s));
    }
  }
  Field<std::string_view> name = body.String("GroupName");
  if (!name.ok()) return respond(Error(name.status()));
  Field<std::string_view> arn = body.String("GroupARN");
  if (!arn.ok()) return respond(Error(arn.status()));
  std::optional<std::string> group_name;
  if (name->has_value() && !(*name)->empty()) {
    if ((*name)->size() > kMaxGroupNameLength) {
      return respond(api::InvalidRequest("GroupName: at most 32 characters"));
    }
    group_name = std::string(**name);
  } else if (arn->has_value() && !(*arn)->empty()) {
    if ((*arn)->size() > kMaxGroupArnLength) {
      return respond(api::InvalidRequest("GroupARN: at most 400 characters"));
    }
    Result<api::Group> g = ctx.groups.Get(**arn, /*by_arn=*/true);
    if (!g.ok()) {
      return respond(api::InvalidRequest(fmt::format("GroupARN: {}", g.status().message())));
    }
    group_name = g->name;
  }
  if (group_name) {
    if (Result<api::Group> g = ctx.groups.Get(*group_name, false); !g.ok()) {
      return respond(api::InvalidRequest(fmt::format("GroupName: {}", g.status().message())));
    }
  }
  Result<int64_t> max = ReadMaxResults(body, kMaxSummaries);
  if (!max.ok()) return respond(Error(max.status()));

  // Insights whose time span [StartTime, EndTime or now] overlaps the range.
  Result<std::vector<Insight>> selected = ctx.insights.Find([&](const Insight& i) {
    if (group_name && i.group_name != *group_name) return false;
    if (!states.empty() && states.count(std::string(StateName(i.state))) == 0) return false;
    const int64_t last = i.end_time_us.value_or(now);
    return i.start_time_us < range->end_us && last >= range->start_us;
  });
  if (!selected.ok()) return respond(Error(selected.status()));
  std::vector<Insight> found = std::move(*selected);
  std::sort(found.begin(), found.end(), [](const Insight& a, const Insight& b) {
    return a.start_time_us != b.start_time_us ? a.start_time_us > b.start_time_us : a.id < b.id;
  });
  Result<size_t> offset = ReadOffsetToken(body, found.size());
  if (!offset.ok()) return respond(Error(offset.status()));
  json out = {{"InsightSummaries", json::array()}};
  const size_t end = std::min(found.size(), *offset + static_cast<size_t>(*max));
  for (size_t i = *offset; i < end; ++i) {
    out["InsightSummaries"].push_back(InsightSummaryJson(found[i]));
  }
  if (end < found.size()) out["NextToken"] = std::to_string(end);
  respond(api::JsonResponse(out));
}

void GetInsight(const Context& ctx, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(Error(s));
  Result<Insight> insight = ReadInsight(ctx, body);
  if (!insight.ok()) return respond(Error(insight.status()));
  respond(api::JsonResponse({{"Insight", InsightJson(*insight)}}));
}

void GetInsightEvents(const Context& ctx, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(Error(s));
  Result<Insight> insight = ReadInsight(ctx, body);
  if (!insight.ok()) return respond(Error(insight.status()));
  Result<int64_t> max = ReadMaxResults(body, kMaxEvents);
  if (!max.ok()) return respond(Error(max.status()));
  Result<size_t> offset = ReadOffsetToken(body, insight->events.size());
  if (!offset.ok()) return respond(Error(offset.status()));
  // Newest first.
  const std::vector<InsightEvent>& events = insight->events;
  json out = {{"InsightEvents", json::array()}};
  const size_t end = std::min(events.size(), *offset + static_cast<size_t>(*max));
  for (size_t i = *offset; i < end; ++i) {
    out["InsightEvents"].push_back(InsightEventJson(events[events.size() - 1 - i]));
  }
  if (end < events.size()) out["NextToken"] = std::to_string(end);
  respond(api::JsonResponse(out));
}

void GetInsightImpactGraph(const Context& ctx, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(Error(s));
  Result<Insight> insight = ReadInsight(ctx, body);
  if (!insight.ok()) return respond(Error(insight.status()));
  Result<api::TimeRange> range = api::ReadTimeRange(body);
  if (!range.ok()) return respond(Error(range.status()));
  if (range->end_us - range->start_us > kMaxImpactGraphRangeUs) {
    return respond(api::InvalidRequest("EndTime: at most 6 hours after StartTime"));
  }
  if (Status s = api::RejectNextToken(body, "returns the whole impact graph at once"); !s.ok()) {
    return respond(Error(s));
  }
  Result<api::Group> group = ctx.groups.Get(insight->group_name, false);
  if (!group.ok()) {
    return respond(api::InvalidRequest(
        fmt::format("the insight's group '{}' no longer exists", insight->group_name)));
  }
  // The graph's minutes cover the range (rounded out to whole minutes).
  const int64_t graph_start = range->start_us - (range->start_us % graph::kMinuteUs);
  const int64_t graph_end =
      range->end_us % graph::kMinuteUs == 0
          ? range->end_us
          : range->end_us - (range->end_us % graph::kMinuteUs) + graph::kMinuteUs;
  Result<std::unique_ptr<GroupGraphView>> view = ctx.graphs.Load(*group, graph_start, graph_end);
  if (!view.ok()) {
    // Too many of a filtered group's traces to scan: the caller can ask for
    // less (a throttling answer would invite the same request again).
    if (view.status().code() == StatusCode::kResourceExhausted) {
      return respond(api::InvalidRequest(
          fmt::format("{}: ask for a shorter StartTime-EndTime range", view.status().message())));
    }
    return respond(Error(view.status()));
  }
  const graph::ServiceGraphResult result = (*view)->Query(graph_start, graph_end);

  // The impacted part of the graph: the root cause and every service from
  // which it can be reached (the requests its faults impacted), the client
  // node included.
  std::map<int32_t, const graph::Service*> by_ref;
  int32_t root_ref = -1;
  const graph::ServiceKey root_key = insight->root_cause.key();
  for (const graph::Service& s : result.services) {
    by_ref[s.reference_id] = &s;
    if (graph::ServiceKey{s.name, s.type, s.account_id} == root_key) root_ref = s.reference_id;
  }
  std::set<int32_t> impacted;
  if (root_ref >= 0) {
    impacted.insert(root_ref);
    for (bool grew = true; grew;) {
      grew = false;
      for (const graph::Service& s : result.services) {
        if (impacted.count(s.reference_id) > 0) continue;
        for (const graph::ServiceEdge& e : s.edges) {
          if (impacted.count(e.reference_id) > 0) {
            impacted.insert(s.reference_id);
            grew = true;
            break;
          }
        }
      }
    }
  }
  json services = json::array();
  for (const graph::Service& s : result.services) {
    if (impacted.count(s.reference_id) == 0) continue;
    json edges = json::array();
    for (const graph::ServiceEdge& e : s.edges) {
      if (impacted.count(e.reference_id) > 0) edges.push_back({{"ReferenceId", e.reference_id}});
    }
    json service = {{"ReferenceId", s.reference_id},
                    {"Type", s.type},
                    {"Names", s.names},
                    {"Edges", std::move(edges)}};
    if (!s.name.empty()) service["Name"] = s.name;
    if (!s.account_id.empty()) service["AccountId"] = s.account_id;
    services.push_back(std::move(service));
  }
  respond(api::JsonResponse({{"InsightId", insight->id},
                             {"StartTime", api::EpochSeconds(range->start_us)},
                             {"EndTime", api::EpochSeconds(range->end_us)},
                             {"ServiceGraphStartTime", api::EpochSeconds(graph_start)},
                             {"ServiceGraphEndTime", api::EpochSeconds(graph_end)},
                             {"Services", std::move(services)}}));
}

}  // namespace

void RegisterInsightsApis(api::Router& router, const InsightStore& insights,
                          const api::GroupRegistry& groups, const GroupGraphs& graphs,
                          const Clock& clock) {
  auto ctx = std::make_shared<Context>(Context{insights, groups, graphs, clock});
  using Fn = void (*)(const Context&, const HttpRequest&, Responder);
  const std::pair<const char*, Fn> routes[] = {
      {"/InsightSummaries", &GetInsightSummaries},
      {"/Insight", &GetInsight},
      {"/InsightEvents", &GetInsightEvents},
      {"/InsightImpactGraph", &GetInsightImpactGraph},
  };
  for (const auto& [path, fn] : routes) {
    router.Add("POST", path, [ctx, fn = fn](const HttpRequest& request, Responder respond) {
      fn(*ctx, request, std::move(respond));
    });
  }
}

}  // namespace roentgen::insights
