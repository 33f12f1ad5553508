// Request parsing (simdjson) and response helpers shared by the X-Ray API
// handlers.
//
// RequestBody parses a restJson1 body, which must be a JSON object (an empty
// body counts as {}). The accessors return nullopt for an absent or null field
// and an InvalidArgument naming the field (as a path: "TelemetryRecords[2].
// Timestamp") when it has the wrong type. Timestamps are epoch seconds as JSON
// numbers (what the AWS SDKs send); numeric strings and ISO 8601 strings
// ("2024-05-01T12:00:00Z", "…+02:00", fractional seconds) are accepted too.
// Inside, times are integer microseconds.
//
// Thread safety: a RequestBody is used by one thread; the free functions are
// pure.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http.h"
#include "common/metrics.h"
#include "common/status.h"
#include "xray/ids.h"

namespace roentgen::api {

template <typename T>
using Field = Result<std::optional<T>>;

// Typed access to a member of `object`; `path` names it in error messages.
Field<std::string_view> GetString(simdjson::dom::object object, std::string_view key,
                                  std::string_view path);
Field<bool> GetBool(simdjson::dom::object object, std::string_view key, std::string_view path);
Field<double> GetNumber(simdjson::dom::object object, std::string_view key, std::string_view path);
// A non-negative integer (JSON integer, or a double with no fraction).
Field<int64_t> GetCount(simdjson::dom::object object, std::string_view key, std::string_view path);
Field<int64_t> GetEpochMicros(simdjson::dom::object object, std::string_view key,
                              std::string_view path);
Field<simdjson::dom::array> GetArray(simdjson::dom::object object, std::string_view key,
                                     std::string_view path);
Field<simdjson::dom::object> GetObject(simdjson::dom::object object, std::string_view key,
                                       std::string_view path);

// A timestamp value: epoch seconds (number or numeric string) or ISO 8601.
Result<int64_t> ParseEpochMicros(simdjson::dom::element value, std::string_view path);
Result<int64_t> ParseIsoTimestamp(std::string_view text);

class RequestBody {
 public:
  Status Parse(std::string_view body);
  simdjson::dom::object root() const { return root_; }

  Field<std::string_view> String(std::string_view key) const { return GetString(root_, key, key); }
  Field<bool> Bool(std::string_view key) const { return GetBool(root_, key, key); }
  Field<double> Number(std::string_view key) const { return GetNumber(root_, key, key); }
  Field<int64_t> EpochMicros(std::string_view key) const { return GetEpochMicros(root_, key, key); }
  Field<simdjson::dom::array> Array(std::string_view key) const {
    return GetArray(root_, key, key);
  }
  Field<simdjson::dom::object> Object(std::string_view key) const {
    return GetObject(root_, key, key);
  }

 private:
  simdjson::dom::parser parser_;
  simdjson::dom::object root_;
};

// A request's required [StartTime, EndTime) in epoch microseconds; EndTime
// must be after StartTime. InvalidArgument names the field.
struct TimeRange {
  int64_t start_us = 0;
  int64_t end_us = 0;
};
Result<TimeRange> ReadTimeRange(const RequestBody& body);

// The request's "TraceIds": required, at most `max_ids` elements, each a valid
// trace id; a repeated id is kept once (first occurrence). InvalidArgument
// names the offending element ("TraceIds[2]: …"); more than `max_ids`
// elements also increment `over_limit` (when given).
Result<std::vector<xray::TraceId>> ReadTraceIds(const RequestBody& body, size_t max_ids,
                                                Counter* over_limit = nullptr);

// For calls whose results are never split into pages: OK when "NextToken" is
// absent or empty, else InvalidArgument "NextToken: this server <why>".
Status RejectNextToken(const RequestBody& body, std::string_view why);

// Microseconds → X-Ray's epoch seconds (a JSON number).
inline double EpochSeconds(int64_t us) { return static_cast<double>(us) / 1e6; }

// 200 with the JSON body (invalid UTF-8 is replaced, never thrown on).
HttpResponse JsonResponse(const nlohmann::json& body);
// A Status as X-Ray's error shape: InvalidArgument → 400 InvalidRequestException,
// ResourceExhausted → 429 ThrottledException, Unavailable → 503
// ServiceUnavailableException, anything else → 500 InternalFailure.
HttpResponse StatusResponse(const Status& status);
HttpResponse InvalidRequest(std::string_view message);
// X-Ray's error shape with members beyond the message (ResourceNotFound's and
// TooManyTags' "ResourceName"), which the SDKs put on the exception.
HttpResponse ErrorWithMembers(int status, std::string_view type, std::string_view message,
                              const nlohmann::json& members);

}  // namespace roentgen::api
