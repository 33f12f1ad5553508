// BatchGetTraces and GetTraceSummaries.
//
// BatchGetTraces: POST /Traces {"TraceIds": [≤ 5 ids], "NextToken"?}. Each known
// trace comes back as {Id, Duration, LimitExceeded, Segments[{Id, Document}]}
// with one Document per segment and the independently sent subsegments spliced
// into their parents (xray/document_merge.h); unknown ids are listed in
// UnprocessedTraceIds. LimitExceeded is true past X-Ray's 500 KB per trace (all
// segments are still returned). Results are never split, so no NextToken is
// issued and one that is sent is rejected.
//
// GetTraceSummaries: POST /TraceSummaries {StartTime, EndTime, TimeRangeType?,
// Sampling?, SamplingStrategy?, FilterExpression?, NextToken?}. The range is
// [StartTime, EndTime), at most QueryLimits::max_range_us long; the most
// recent traces come first. A page holds at most
// kSummariesPerPage summaries and has the store examine no more than
// kMaxScannedPerPage traces (store::ScanOptions::max_examined); when it stops
// early it returns a NextToken (see page_token.h), and the pages of one query
// return every matching trace exactly once.
// Sampling=true keeps a deterministic fraction of the traces (by trace id):
// SamplingStrategy.Value, default kDefaultSamplingRate (PartialScan and
// FixedRate are treated alike). TracesProcessedCount is the number of
// traces the store examined for the page; ApproximateTime is where the page's scan
// stopped (StartTime once the range is exhausted).
#include <fmt/format.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/json_io.h"
#include "api/page_token.h"
#include "api/summary_json.h"
#include "api/trace_load.h"
#include "api/trace_query.h"
#include "api/xray_handlers.h"
#include "filter/filter.h"
#include "xray/trace.h"

namespace roentgen::api {
namespace {

using nlohmann::json;

constexpr size_t kMaxTraceIdsPerBatchGet = 5;
constexpr size_t kTraceSizeLimitBytes = 500 * 1024;
constexpr size_t kSummariesPerPage = 100;
constexpr size_t kMaxScannedPerPage = 10000;
constexpr double kDefaultSamplingRate = 0.1;

// One trace for BatchGetTraces, or nullopt when the store has no documents.
Result<std::optional<json>> LoadTraceJson(store::Store& store, const xray::TraceId& id) {
  Result<std::optional<LoadedTrace>> loaded = LoadTrace(store, id);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) return std::optional<json>();
  LoadedTrace& trace_data = **loaded;
  json segments = json::array();
  for (xray::MergedDocument& m : trace_data.segments) {
    segments.push_back({{"Id", m.id.ToString()}, {"Document", std::move(m.json)}});
  }
  json trace = {{"Id", id.ToString()}};
  if (trace_data.summary.duration_us) {
    trace["Duration"] = EpochSeconds(*trace_data.summary.duration_us);
  }
  trace["LimitExceeded"] = trace_data.stored_bytes > kTraceSizeLimitBytes;
  trace["Segments"] = std::move(segments);
  return std::optional<json>(std::move(trace));
}

void BatchGetTraces(store::Store& store, const ApiLimits& limits, const HttpRequest& request,
                    Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  if (Status s =
          RejectNextToken(body, "returns every requested trace at once and never issues one");
      !s.ok()) {
    return respond(StatusResponse(s));
  }
  Result<std::vector<xray::TraceId>> ids =
      ReadTraceIds(body, kMaxTraceIdsPerBatchGet, limits.counter(Limit::kTraceIds));
  if (!ids.ok()) return respond(StatusResponse(ids.status()));
  const std::vector<xray::TraceId>& trace_ids = *ids;
  json traces = json::array();
  json unprocessed = json::array();
  for (const xray::TraceId& id : trace_ids) {
    Result<std::optional<json>> trace = LoadTraceJson(store, id);
    if (!trace.ok()) return respond(StatusResponse(trace.status()));
    if (trace->has_value()) {
      traces.push_back(std::move(**trace));
    } else {
      unprocessed.push_back(id.ToString());
    }
  }
  respond(JsonResponse(
      {{"Traces", std::move(traces)}, {"UnprocessedTraceIds", std::move(unprocessed)}}));
}

struct SummariesQuery {
  TraceQuery query;
  std::optional<double> sampling_rate;  // set when Sampling is true
  uint64_t fingerprint = 0;
};

Result<SummariesQuery> ParseSummariesQuery(const RequestBody& body,
                                           const filter::GroupResolver* groups,
                                           const ApiLimits& limits) {
  SummariesQuery q;
  Result<TraceQuery> query = ParseTraceQuery(body, groups, limits);
  if (!query.ok()) return query.status();
  q.query = std::move(query).value();
  store::ScanOptions& scan = q.query.scan;
  scan.max_examined = kMaxScannedPerPage;

  Field<bool> sampling = body.Bool("Sampling");
  if (!sampling.ok()) return sampling.status();
  Field<simdjson::dom::object> strategy = body.Object("SamplingStrategy");
  if (!strategy.ok()) return strategy.status();
  double rate = kDefaultSamplingRate;
  std::string_view strategy_name = "FixedRate";
  if (strategy->has_value()) {
    Field<std::string_view> name = GetString(**strategy, "Name", "SamplingStrategy.Name");
    if (!name.ok()) return name.status();
    strategy_name = name->value_or("FixedRate");
    if (strategy_name != "PartialScan" && strategy_name != "FixedRate") {
      return Status::InvalidArgument(
          fmt::format("SamplingStrategy.Name: must be PartialScan or FixedRate, got \"{}\"",
                      strategy_name.substr(0, 64)));
    }
    Field<double> value = GetNumber(**strategy, "Value", "SamplingStrategy.Value");
    if (!value.ok()) return value.status();
    rate = value->value_or(kDefaultSamplingRate);
    if (!(rate >= 0.0 && rate <= 1.0)) {
      return Status::InvalidArgument("SamplingStrategy.Value: must be between 0 and 1");
    }
  }
  if (sampling->value_or(false)) q.sampling_rate = rate;

  const std::string identity = fmt::format(
      "{}|{}|{}|{}|{}|{}", scan.start_us, scan.end_us, TimeRangeTypeName(scan.time_range_type),
      q.sampling_rate ? fmt::format("{}:{}", strategy_name, *q.sampling_rate) : "all",
      scan.filter ? scan.filter->ToString() : "", kSummariesPerPage);
  q.fingerprint = std::hash<std::string>{}(identity);

  Field<std::string_view> token = body.String("NextToken");
  if (!token.ok()) return token.status();
  if (token->has_value() && !(*token)->empty()) {
    Result<PageToken> decoded = DecodePageToken(**token);
    if (!decoded.ok()) return decoded.status();
    if (decoded->fingerprint != q.fingerprint) {
      return Status::InvalidArgument(
          "NextToken: it was issued for a different query (time range, TimeRangeType, "
          "sampling or FilterExpression changed); start again without it");
    }
    scan.resume_after = decoded->cursor;
  }
  return q;
}

// Deterministic per trace, so every page of a query samples alike.
bool Sampled(const xray::TraceId& id, double rate) {
  const uint64_t h = xray::TraceIdHash{}(id);
  return static_cast<double>(h % 1'000'000) < rate * 1'000'000.0;
}

void GetTraceSummaries(store::Store& store, const filter::GroupResolver* groups,
                       const ApiLimits& limits, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Result<SummariesQuery> query = ParseSummariesQuery(body, groups, limits);
  if (!query.ok()) return respond(StatusResponse(query.status()));
  const SummariesQuery& q = *query;
  const store::ScanOptions& scan = q.query.scan;
  const bool event_time = scan.time_range_type == store::TimeRangeType::kEvent;

  // The summaries are written as JSON text directly (AppendTraceSummaryJson):
  // building them as json trees cost most of a page's time.
  std::string summaries = "[";
  size_t taken = 0;
  Result<store::ScanProgress> progress =
      store.Scan(scan, [&](const store::TraceRecord& record, int64_t sort_time_us) {
        if (taken >= kSummariesPerPage) return false;
        if (q.sampling_rate && !Sampled(record.summary.id, *q.sampling_rate)) return true;
        if (taken++ != 0) summaries += ',';
        AppendTraceSummaryJson(summaries, record.summary,
                               event_time ? std::optional<int64_t>(sort_time_us) : std::nullopt);
        return true;
      });
  if (!progress.ok()) return respond(StatusResponse(progress.status()));
  summaries += ']';
  const bool more = progress->stopped_at.has_value();
  const std::optional<store::ScanCursor>& last = progress->last;

  // The other fields through nlohmann, with a placeholder where the
  // summaries' text goes (keys are written sorted: the placeholder is the
  // only TraceSummaries key).
  json response = {{"TraceSummaries", nullptr}};
  response["ApproximateTime"] = EpochSeconds(more && last ? last->time_us : scan.start_us);
  response["TracesProcessedCount"] = progress->examined;
  if (more && last) response["NextToken"] = EncodePageToken(PageToken{*last, q.fingerprint});
  HttpResponse out = JsonResponse(response);
  constexpr std::string_view kPlaceholder = "\"TraceSummaries\":null";
  const size_t at = out.body.find(kPlaceholder);
  if (at == std::string::npos) {
    return respond(
        StatusResponse(Status::Internal("GetTraceSummaries: response without summaries")));
  }
  out.body.replace(at + kPlaceholder.size() - 4, 4, summaries);
  respond(std::move(out));
}

}  // namespace

void RegisterReadApis(Router& router, store::Store& store,
                      std::shared_ptr<const filter::GroupResolver> groups,
                      std::shared_ptr<const ApiLimits> limits) {
  router.Add("POST", "/Traces", [&store, limits](const HttpRequest& request, Responder respond) {
    BatchGetTraces(store, *limits, request, std::move(respond));
  });
  router.Add("POST", "/TraceSummaries",
             [&store, groups, limits](const HttpRequest& request, Responder respond) {
               GetTraceSummaries(store, groups.get(), *limits, request, std::move(respond));
             });
}

}  // namespace roentgen::api
