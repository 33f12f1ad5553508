// PutTraceSegments and PutTelemetryRecords.
//
// PutTraceSegments: POST /TraceSegments {"TraceSegmentDocuments": [string…]}.
// Every document is parsed and validated in the request; the good ones are
// queued and the response (200 {"UnprocessedTraceSegments": [{Id, ErrorCode,
// Message}]}) is sent only once they are durable and applied: through the
// API spool (ingest/put_spool.h), once durable in the spool and applied by
// the writers (visible to the next query); without it, once durable in the
// store. A full spool answers 429 ThrottledException, a spool that cannot
// write (a full disk) 503 ServiceUnavailableException. At most
// kMaxDocumentsPerPut documents per request (X-Ray sets no count limit; its
// daemon sends up to 50): more is an InvalidRequestException. A document over
// 64 KB is reported under its Id (read without parsing it, xray/document_id.h)
// and the rest of the batch is stored. Both limits are counted
// (roentgen_limits_exceeded_total). A full ingest queue answers 429
// ThrottledException (retryable), a store failure 500.
//
// PutTelemetryRecords: POST /TelemetryRecords — the shape is validated (counts
// are X-Ray's 32-bit integers) and the daemon's counts are summed per reporting
// host into /metrics (telemetry_metrics.h); the response is 200 {}.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "api/json_io.h"
#include "api/telemetry_metrics.h"
#include "api/xray_handlers.h"
#include "xray/segment_parser.h"

namespace roentgen::api {
namespace {

constexpr size_t kMaxDocumentsPerPut = 1000;
// 100 documents of segment_gen's 1.4 KB, escaped, are ~150 KB.
constexpr size_t kReusedParserBytes = 1 << 20;
constexpr size_t kMaxTelemetryRecords = 1000;
constexpr int64_t kMaxTelemetryCount = 2147483647;

// `limits` is shared: the answer may come after the routes are gone (a drain).
void PutTraceSegments(const ingest::SubmitSink& put, std::shared_ptr<const ApiLimits> limits,
                      const HttpRequest& request, Responder respond) {
  // A body of up to kReusedParserBytes is parsed by the thread's parser,
  // whose buffers (several times the body) are kept from one request to the
  // next: a RequestBody's own are allocated, and their pages first touched,
  // per request. A larger body gets its own, so that no thread holds the
  // buffers of the largest body it ever saw. The documents are copied out
  // before `put`, so the parser is free again when the handler returns. A
  // body that is not a JSON object, or is empty (which RequestBody reads as
  // {}), gets RequestBody's answer.
  thread_local simdjson::dom::parser reused;
  simdjson::dom::parser own;  // allocates nothing unless it parses
  simdjson::dom::parser& parser = request.body.size() <= kReusedParserBytes ? reused : own;
  simdjson::dom::object root;
  if (parser.parse(request.body.data(), request.body.size()).get(root) != simdjson::SUCCESS) {
    RequestBody body;
    if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
    return respond(InvalidRequest("TraceSegmentDocuments: required"));
  }
  Field<simdjson::dom::array> docs =
      GetArray(root, "TraceSegmentDocuments", "TraceSegmentDocuments");
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
  put(std::move(documents),
      [respond, limits](Status status, std::vector<ingest::DocumentOutcome> outcomes) {
        if (!status.ok()) return respond(StatusResponse(status));
        if (std::all_of(outcomes.begin(), outcomes.end(),
                        [](const ingest::DocumentOutcome& o) { return o.accepted; })) {
          HttpResponse all_accepted;
          all_accepted.status = 200;
          all_accepted.body = R"({"UnprocessedTraceSegments":[]})";
          return respond(std::move(all_accepted));
        }
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

// A record's count: a non-negative 32-bit integer, as X-Ray's model has it
// (which also keeps a request's sums far from overflowing).
Status AddCount(simdjson::dom::object object, const char* key, const std::string& path,
                uint64_t& sum) {
  const std::string field = fmt::format("{}.{}", path, key);
  Field<int64_t> n = GetCount(object, key, field);
  if (!n.ok()) return n.status();
  if (n->value_or(0) > kMaxTelemetryCount) {
    return Status::InvalidArgument(fmt::format("{}: at most {}", field, kMaxTelemetryCount));
  }
  sum += static_cast<uint64_t>(n->value_or(0));
  return Status::Ok();
}

Status AddTelemetryRecord(simdjson::dom::element element, size_t index, TelemetryCounts& counts) {
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
    RG_RETURN_IF_ERROR(AddCount(record, kCounts[i], path, counts.segments[i]));
  }
  const std::string errors_path = path + ".BackendConnectionErrors";
  Field<simdjson::dom::object> errors = GetObject(record, "BackendConnectionErrors", errors_path);
  if (!errors.ok()) return errors.status();
  if (errors->has_value()) {
    constexpr std::array<const char*, 6> kErrors = {"TimeoutCount",     "ConnectionRefusedCount",
                                                    "HTTPCode4XXCount", "HTTPCode5XXCount",
                                                    "UnknownHostCount", "OtherCount"};
    for (size_t i = 0; i < kErrors.size(); ++i) {
      RG_RETURN_IF_ERROR(AddCount(**errors, kErrors[i], errors_path, counts.errors[i]));
    }
  }
  ++counts.records;
  return Status::Ok();
}

// The request's EC2InstanceId, Hostname or ResourceARN (X-Ray's lengths).
Result<std::string_view> ReporterField(const RequestBody& body, const char* key,
                                       size_t max_length) {
  Field<std::string_view> v = body.String(key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return std::string_view();
  if ((*v)->size() > max_length) {
    return Status::InvalidArgument(fmt::format("{}: at most {} characters", key, max_length));
  }
  return **v;
}

void PutTelemetryRecords(DaemonTelemetry& telemetry, const ApiLimits& limits,
                         const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Result<std::string_view> instance = ReporterField(body, "EC2InstanceId", 20);
  if (!instance.ok()) return respond(StatusResponse(instance.status()));
  Result<std::string_view> hostname = ReporterField(body, "Hostname", 255);
  if (!hostname.ok()) return respond(StatusResponse(hostname.status()));
  Result<std::string_view> arn = ReporterField(body, "ResourceARN", 500);
  if (!arn.ok()) return respond(StatusResponse(arn.status()));
  Field<simdjson::dom::array> records = body.Array("TelemetryRecords");
  if (!records.ok()) return respond(StatusResponse(records.status()));
  if (!records->has_value()) return respond(InvalidRequest("TelemetryRecords: required"));
  if ((*records)->size() > kMaxTelemetryRecords) {
    return respond(StatusResponse(limits.Refuse(
        Limit::kTelemetryRecords, fmt::format("TelemetryRecords: at most {} records, got {}",
                                              kMaxTelemetryRecords, (*records)->size()))));
  }
  TelemetryCounts counts;
  size_t index = 0;
  for (simdjson::dom::element e : **records) {
    if (Status s = AddTelemetryRecord(e, index++, counts); !s.ok()) {
      return respond(StatusResponse(s));
    }
  }
  telemetry.Record(TelemetryHost(*hostname, *instance, *arn), counts);
  respond(JsonResponse(nlohmann::json::object()));
}

}  // namespace

void RegisterPutApis(Router& router, ingest::SubmitSink put, MetricsRegistry& metrics,
                     std::shared_ptr<const ApiLimits> limits) {
  router.Add("POST", "/TraceSegments",
             [put = std::move(put), limits](const HttpRequest& request, Responder respond) {
               PutTraceSegments(put, limits, request, std::move(respond));
             });
  auto telemetry = std::make_shared<DaemonTelemetry>(metrics);
  router.Add("POST", "/TelemetryRecords",
             [telemetry, limits](const HttpRequest& request, Responder respond) {
               PutTelemetryRecords(*telemetry, *limits, request, std::move(respond));
             });
}

}  // namespace roentgen::api
