// PutTraceSegments and PutTelemetryRecords.
//
// PutTraceSegments: POST /TraceSegments {"TraceSegmentDocuments": [string…]}.
// Every document is parsed and validated in the request; the good ones are
// queued and the response (200 {"UnprocessedTraceSegments": [{Id, ErrorCode,
// Message}]}) is sent only once they are durable. At most
// kMaxDocumentsPerPut documents per request (X-Ray sets no count limit; its
// daemon sends up to 50): more is an InvalidRequestException. A document over
// 64 KB is reported under its Id (read without parsing it, xray/document_id.h)
// and the rest of the batch is stored. Both limits are counted
// (roentgen_limits_exceeded_total). A full ingest queue answers 429
// ThrottledException (retryable), a store failure 500.
//
// PutTelemetryRecords: POST /TelemetryRecords — the shape is validated and the
// daemon's counts are exported as metrics (roentgen_telemetry_records_total,
// roentgen_daemon_segments_total{kind}); the response is 200 {}.
#include <fmt/format.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "api/json_io.h"
#include "api/xray_handlers.h"
#include "xray/segment_parser.h"

namespace roentgen::api {
namespace {

constexpr size_t kMaxDocumentsPerPut = 1000;
constexpr size_t kMaxTelemetryRecords = 1000;

// `limits` is shared: the answer may come after the routes are gone (a drain).
void PutTraceSegments(ingest::Pipeline& pipeline, std::shared_ptr<const ApiLimits> limits,
                      const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Field<simdjson::dom::array> docs = body.Array("TraceSegmentDocuments");
  if (!docs.ok()) return respond(StatusResponse(docs.status()));
  if (!docs->has_value()) return respond(InvalidRequest("TraceSegmentDocuments: required"));
  const simdjson::dom::array array = **docs;
  if (array.size() > kMaxDocumentsPerPut) {
    return respond(StatusResponse(limits->Refuse(
        Limit::kDocumentsPerRequest,
        fmt::format("TraceSegmentDocuments: at most {} documents per request, got {}",
                    kMaxDocumentsPerPut, array.size()))));
  }
  std::vector<std::string> documents;
  documents.reserve(array.size());
  size_t index = 0;
  for (simdjson::dom::element e : array) {
    std::string_view text;
    if (e.get(text) != simdjson::SUCCESS) {
      return respond(InvalidRequest(fmt::format(
          "TraceSegmentDocuments[{}]: must be a string holding a segment document", index)));
    }
    documents.emplace_back(text);
    ++index;
  }
  // The parse errors' codes (xray::ParseErrorCode).
  static const std::string kTooLarge(xray::ParseErrorCode(xray::ParseError::kTooLarge));
  pipeline.Submit(std::move(documents),
                  [respond, limits](Status status, std::vector<ingest::DocumentOutcome> outcomes) {
                    if (!status.ok()) return respond(StatusResponse(status));
                    nlohmann::json unprocessed = nlohmann::json::array();
                    for (const ingest::DocumentOutcome& o : outcomes) {
                      if (o.accepted) continue;
                      if (o.error_code == kTooLarge) limits->Count(Limit::kDocumentSize);
                      nlohmann::json entry = nlohmann::json::object();
                      if (!o.id.empty()) entry["Id"] = o.id;
                      entry["ErrorCode"] = o.error_code;
                      entry["Message"] = o.message;
                      unprocessed.push_back(std::move(entry));
                    }
                    respond(JsonResponse({{"UnprocessedTraceSegments", std::move(unprocessed)}}));
                  });
}

struct TelemetryMetrics {
  explicit TelemetryMetrics(MetricsRegistry& r)
      : records(r.GetCounter("roentgen_telemetry_records_total",
                             "Telemetry records received from X-Ray daemons.")) {
    constexpr std::array<const char*, 4> kKinds = {"received", "sent", "spillover", "rejected"};
    for (size_t i = 0; i < kKinds.size(); ++i) {
      segments[i] = &r.GetCounter("roentgen_daemon_segments_total",
                                  "Segment counts reported by X-Ray daemons' telemetry.",
                                  {{"kind", kKinds[i]}});
    }
  }
  Counter& records;
  std::array<Counter*, 4> segments{};
};

Status ValidateTelemetryRecord(simdjson::dom::element element, size_t index,
                               std::array<int64_t, 4>& counts) {
  const std::string path = fmt::format("TelemetryRecords[{}]", index);
  simdjson::dom::object record;
  if (element.get(record) != simdjson::SUCCESS) {
    return Status::InvalidArgument(path + ": must be an object");
  }
  Field<int64_t> timestamp = GetEpochMicros(record, "Timestamp", path + ".Timestamp");
  if (!timestamp.ok()) return timestamp.status();
  if (!timestamp->has_value()) return Status::InvalidArgument(path + ".Timestamp: required");
  constexpr std::array<const char*, 4> kCounts = {"SegmentsReceivedCount", "SegmentsSentCount",
                                                  "SegmentsSpilloverCount",
                                                  "SegmentsRejectedCount"};
  for (size_t i = 0; i < kCounts.size(); ++i) {
    Field<int64_t> n = GetCount(record, kCounts[i], fmt::format("{}.{}", path, kCounts[i]));
    if (!n.ok()) return n.status();
    counts[i] += n->value_or(0);
  }
  const std::string errors_path = path + ".BackendConnectionErrors";
  Field<simdjson::dom::object> errors = GetObject(record, "BackendConnectionErrors", errors_path);
  if (!errors.ok()) return errors.status();
  if (errors->has_value()) {
    for (const char* key : {"TimeoutCount", "ConnectionRefusedCount", "HTTPCode4XXCount",
                            "HTTPCode5XXCount", "UnknownHostCount", "OtherCount"}) {
      Field<int64_t> n = GetCount(**errors, key, fmt::format("{}.{}", errors_path, key));
      if (!n.ok()) return n.status();
    }
  }
  return Status::Ok();
}

void PutTelemetryRecords(TelemetryMetrics& metrics, const ApiLimits& limits,
                         const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  for (const char* key : {"EC2InstanceId", "Hostname", "ResourceARN"}) {
    Field<std::string_view> v = body.String(key);
    if (!v.ok()) return respond(StatusResponse(v.status()));
  }
  Field<simdjson::dom::array> records = body.Array("TelemetryRecords");
  if (!records.ok()) return respond(StatusResponse(records.status()));
  if (!records->has_value()) return respond(InvalidRequest("TelemetryRecords: required"));
  if ((*records)->size() > kMaxTelemetryRecords) {
    return respond(StatusResponse(limits.Refuse(
        Limit::kTelemetryRecords, fmt::format("TelemetryRecords: at most {} records, got {}",
                                              kMaxTelemetryRecords, (*records)->size()))));
  }
  std::array<int64_t, 4> counts{};
  size_t index = 0;
  for (simdjson::dom::element e : **records) {
    if (Status s = ValidateTelemetryRecord(e, index++, counts); !s.ok()) {
      return respond(StatusResponse(s));
    }
  }
  metrics.records.Inc(index);
  for (size_t i = 0; i < counts.size(); ++i) {
    metrics.segments[i]->Inc(static_cast<uint64_t>(counts[i]));
  }
  respond(JsonResponse(nlohmann::json::object()));
}

}  // namespace

void RegisterPutApis(Router& router, ingest::Pipeline& pipeline, MetricsRegistry& metrics,
                     std::shared_ptr<const ApiLimits> limits) {
  router.Add("POST", "/TraceSegments",
             [&pipeline, limits](const HttpRequest& request, Responder respond) {
               PutTraceSegments(pipeline, limits, request, std::move(respond));
             });
  auto telemetry = std::make_shared<TelemetryMetrics>(metrics);
  router.Add("POST", "/TelemetryRecords",
             [telemetry, limits](const HttpRequest& request, Responder respond) {
               PutTelemetryRecords(*telemetry, *limits, request, std::move(respond));
             });
}

}  // namespace roentgen::api
