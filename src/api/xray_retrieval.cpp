// X-Ray's trace retrieval APIs over TraceRetrievals (trace_retrieval.h):
//   StartTraceRetrieval     POST /StartTraceRetrieval   {TraceIds[≤ 100], StartTime, EndTime}
//                                                       → {RetrievalToken}
//   ListRetrievedTraces     POST /ListRetrievedTraces   {RetrievalToken, TraceFormat?, NextToken?}
//                                                       → {RetrievalStatus, TraceFormat, Traces,
//                                                          NextToken?}
//   GetRetrievedTracesGraph POST /GetRetrievedTracesGraph {RetrievalToken, NextToken?}
//                                                       → {RetrievalStatus, Services, NextToken?}
//   CancelTraceRetrieval    POST /CancelTraceRetrieval  {RetrievalToken} → {}
// Until a retrieval is COMPLETE, its listing and graph are empty (X-Ray's
// behaviour: retry later). TraceFormat XRAY (the default) lists each segment
// as BatchGetTraces returns it; OTEL lists every segment and subsegment as an
// OTLP/JSON span (otlp/xray_to_otlp_json.h). A page holds at most
// kTracesPerPage RetrievedTrace entries of at most kSpansPerTrace spans each;
// a trace with more spans continues in the next entry, with the same Id. An
// unknown or forgotten token is ResourceNotFoundException (404).
#include <fmt/format.h>

#include <charconv>
#include <memory>
#include <string>
#include <vector>

#include "api/json_io.h"
#include "api/trace_load.h"
#include "api/trace_retrieval.h"
#include "api/xray_handlers.h"
#include "graph/service_graph.h"
#include "graph/service_graph_json.h"
#include "otlp/xray_to_otlp_json.h"

namespace roentgen::api {
namespace {

using nlohmann::json;

constexpr size_t kMaxTraceIdsPerRetrieval = 100;
constexpr size_t kTracesPerPage = 5;
constexpr size_t kSpansPerTrace = 100;
constexpr size_t kServicesPerPage = 1000;
constexpr size_t kLinksPerService = 100;
constexpr size_t kMaxTokenLength = 1020;

struct RetrievalContext {
  TraceRetrievals& retrievals;
  store::Store& store;
  std::shared_ptr<const ApiLimits> limits;
};

HttpResponse NotFound(const Status& s) {
  return ErrorResponse(404, "ResourceNotFoundException", s.message());
}

HttpResponse RetrievalError(const Status& s) {
  if (s.code() == StatusCode::kNotFound) return NotFound(s);
  return StatusResponse(s);
}

Result<std::string> ReadToken(const RequestBody& body) {
  Field<std::string_view> token = body.String("RetrievalToken");
  if (!token.ok()) return token.status();
  if (!token->has_value() || (*token)->empty()) {
    return Status::InvalidArgument("RetrievalToken: required");
  }
  if ((*token)->size() > kMaxTokenLength) {
    return Status::InvalidArgument(
        fmt::format("RetrievalToken: longer than {} characters", kMaxTokenLength));
  }
  return std::string(**token);
}

// "<trace index>.<span offset>", or "<service index>" for the graph.
Result<std::pair<size_t, size_t>> ReadPosition(const RequestBody& body) {
  Field<std::string_view> token = body.String("NextToken");
  if (!token.ok()) return token.status();
  if (!token->has_value() || (*token)->empty()) return std::pair<size_t, size_t>{0, 0};
  std::string_view text = **token;
  std::pair<size_t, size_t> position{0, 0};
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, position.first);
  if (ec == std::errc() && p != end && *p == '.') {
    auto [q, ec2] = std::from_chars(p + 1, end, position.second);
    p = q;
    ec = ec2;
  }
  if (ec != std::errc() || p != end) {
    return Status::InvalidArgument(fmt::format(
        "NextToken: \"{}\" is not a token this server issued", text.substr(0, 64)));
  }
  return position;
}

void StartTraceRetrieval(RetrievalContext& ctx, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Result<std::vector<xray::TraceId>> ids =
      ReadTraceIds(body, kMaxTraceIdsPerRetrieval, ctx.limits->counter(Limit::kTraceIds));
  if (!ids.ok()) return respond(StatusResponse(ids.status()));
  Field<int64_t> start = body.EpochMicros("StartTime");
  if (!start.ok()) return respond(StatusResponse(start.status()));
  Field<int64_t> end = body.EpochMicros("EndTime");
  if (!end.ok()) return respond(StatusResponse(end.status()));
  if (!start->has_value()) return respond(InvalidRequest("StartTime: required"));
  if (!end->has_value()) return respond(InvalidRequest("EndTime: required"));
  Result<std::string> token = ctx.retrievals.Start(std::move(*ids), **start, **end);
  if (!token.ok()) return respond(StatusResponse(token.status()));
  respond(JsonResponse({{"RetrievalToken", *token}}));
}

// The spans of one trace in `format` (XRAY: its segments; OTEL: every entity).
Result<std::vector<json>> TraceSpans(LoadedTrace& trace, const xray::TraceId& id, bool otel) {
  std::vector<json> spans;
  for (xray::MergedDocument& m : trace.segments) {
    if (!otel) {
      spans.push_back({{"Id", m.id.ToString()}, {"Document", std::move(m.json)}});
      continue;
    }
    Result<std::vector<otlp::OtlpJsonSpan>> converted = otlp::XRayDocumentToOtlpJson(id, m.json);
    if (!converted.ok()) return converted.status();
    for (otlp::OtlpJsonSpan& s : *converted) {
      spans.push_back({{"Id", std::move(s.span_id)}, {"Document", std::move(s.document)}});
    }
  }
  return spans;
}

void ListRetrievedTraces(RetrievalContext& ctx, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Result<std::string> token = ReadToken(body);
  if (!token.ok()) return respond(StatusResponse(token.status()));
  Field<std::string_view> format = body.String("TraceFormat");
  if (!format.ok()) return respond(StatusResponse(format.status()));
  const std::string_view format_name = format->value_or("XRAY");
  if (format_name != "XRAY" && format_name != "OTEL") {
    return respond(InvalidRequest(
        fmt::format("TraceFormat: \"{}\" is not XRAY or OTEL", format_name.substr(0, 32))));
  }
  Result<std::pair<size_t, size_t>> position = ReadPosition(body);
  if (!position.ok()) return respond(StatusResponse(position.status()));
  Result<RetrievalState> state = ctx.retrievals.Get(*token);
  if (!state.ok()) return respond(RetrievalError(state.status()));
  json response = {{"RetrievalStatus", RetrievalStatusName(state->status)},
                   {"TraceFormat", format_name},
                   {"Traces", json::array()}};
  if (state->status != RetrievalStatus::kComplete) return respond(JsonResponse(response));
  const std::vector<xray::TraceId>& traces = state->result->traces;
  auto [trace_index, span_offset] = *position;
  json& page = response["Traces"];
  while (trace_index < traces.size() && page.size() < kTracesPerPage) {
    const xray::TraceId& id = traces[trace_index];
    Result<std::optional<LoadedTrace>> loaded = LoadTrace(ctx.store, id);
    if (!loaded.ok()) return respond(StatusResponse(loaded.status()));
    if (!loaded->has_value()) {  // removed since (retention)
      ++trace_index;
      span_offset = 0;
      continue;
    }
    Result<std::vector<json>> spans = TraceSpans(**loaded, id, format_name == "OTEL");
    if (!spans.ok()) return respond(StatusResponse(spans.status()));
    while (span_offset < spans->size() && page.size() < kTracesPerPage) {
      const size_t end = std::min(spans->size(), span_offset + kSpansPerTrace);
      json entry = {{"Id", id.ToString()}};
      if ((*loaded)->summary.duration_us) {
        entry["Duration"] = EpochSeconds(*(*loaded)->summary.duration_us);
      }
      entry["Spans"] = json::array();
      for (size_t i = span_offset; i < end; ++i) entry["Spans"].push_back(std::move((*spans)[i]));
      page.push_back(std::move(entry));
      span_offset = end;
    }
    if (span_offset >= spans->size()) {
      ++trace_index;
      span_offset = 0;
    }
  }
  if (trace_index < traces.size()) {
    response["NextToken"] = fmt::format("{}.{}", trace_index, span_offset);
  }
  respond(JsonResponse(response));
}

void GetRetrievedTracesGraph(RetrievalContext& ctx, const HttpRequest& request,
                             Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Result<std::string> token = ReadToken(body);
  if (!token.ok()) return respond(StatusResponse(token.status()));
  Result<std::pair<size_t, size_t>> position = ReadPosition(body);
  if (!position.ok()) return respond(StatusResponse(position.status()));
  Result<RetrievalState> state = ctx.retrievals.Get(*token);
  if (!state.ok()) return respond(RetrievalError(state.status()));
  json response = {{"RetrievalStatus", RetrievalStatusName(state->status)},
                   {"Services", json::array()}};
  if (state->status != RetrievalStatus::kComplete) return respond(JsonResponse(response));
  const RetrievalResult& result = *state->result;
  json graph = graph::TraceGraphToJson(graph::BuildTraceGraphResult(result.graphs));
  const json& services = graph["Services"];
  size_t i = position->first;
  for (; i < services.size() && response["Services"].size() < kServicesPerPage; ++i) {
    const json& service = services[i];
    json links = json::array();
    const std::string name = service.value("Name", "");
    for (const RetrievedLink& link : result.links) {
      if (link.service_name != name || links.size() >= kLinksPerService) continue;
      json destinations = json::array();
      for (const xray::TraceId& d : link.destinations) destinations.push_back(d.ToString());
      links.push_back({{"ReferenceType", link.reference_type},
                       {"SourceTraceId", link.source.ToString()},
                       {"DestinationTraceIds", std::move(destinations)}});
    }
    response["Services"].push_back({{"Service", service}, {"Links", std::move(links)}});
  }
  if (i < services.size()) response["NextToken"] = std::to_string(i);
  respond(JsonResponse(response));
}

void CancelTraceRetrieval(RetrievalContext& ctx, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Result<std::string> token = ReadToken(body);
  if (!token.ok()) return respond(StatusResponse(token.status()));
  if (Status s = ctx.retrievals.Cancel(*token); !s.ok()) return respond(RetrievalError(s));
  respond(JsonResponse(json::object()));
}

}  // namespace

void RegisterRetrievalApis(Router& router, TraceRetrievals& retrievals, store::Store& store,
                           std::shared_ptr<const ApiLimits> limits) {
  auto ctx = std::make_shared<RetrievalContext>(
      RetrievalContext{retrievals, store, std::move(limits)});
  using Fn = void (*)(RetrievalContext&, const HttpRequest&, Responder);
  const std::pair<const char*, Fn> routes[] = {
      {"/StartTraceRetrieval", &StartTraceRetrieval},
      {"/ListRetrievedTraces", &ListRetrievedTraces},
      {"/GetRetrievedTracesGraph", &GetRetrievedTracesGraph},
      {"/CancelTraceRetrieval", &CancelTraceRetrieval},
  };
  for (const auto& [path, fn] : routes) {
    // fn = fn: clang 14 cannot capture a structured binding by name.
    router.Add("POST", path, [ctx, fn = fn](const HttpRequest& request, Responder respond) {
      fn(*ctx, request, std::move(respond));
    });
  }
}

}  // namespace roentgen::api
