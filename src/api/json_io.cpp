#include "api/json_io.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>

namespace roentgen::api {
namespace {

// Epoch seconds from 1970 up to the year 9999: anything else is a client error.
constexpr double kMaxEpochSeconds = 253402300799.0;

std::string_view TypeName(simdjson::dom::element_type t) {
  using T = simdjson::dom::element_type;
  switch (t) {
    case T::ARRAY:
      return "an array";
    case T::OBJECT:
      return "an object";
    case T::INT64:
    case T::UINT64:
    case T::DOUBLE:
      return "a number";
    case T::STRING:
      return "a string";
    case T::BOOL:
      return "a boolean";
    case T::NULL_VALUE:
      return "null";
  }
  return "a value";
}

Status WrongType(std::string_view path, std::string_view expected, simdjson::dom::element e) {
  return Status::InvalidArgument(
      fmt::format("{}: must be {}, got {}", path, expected, TypeName(e.type())));
}

// The member, or nullopt when absent or null.
std::optional<simdjson::dom::element> Member(simdjson::dom::object object, std::string_view key) {
  simdjson::dom::element e;
  if (object.at_key(key).get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
  return e;
}

Result<int64_t> SecondsToMicros(double seconds, std::string_view path) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds > kMaxEpochSeconds) {
    return Status::InvalidArgument(
        fmt::format("{}: must be epoch seconds between 0 and {:.0f}", path, kMaxEpochSeconds));
  }
  return static_cast<int64_t>(std::llround(seconds * 1e6));
}

// Reads exactly `n` digits at text[pos].
bool Digits(std::string_view text, size_t pos, size_t n, int& out) {
  if (pos + n > text.size()) return false;
  const char* first = text.data() + pos;
  auto [ptr, ec] = std::from_chars(first, first + n, out);
  return ec == std::errc() && ptr == first + n;
}

}  // namespace

Field<std::string_view> GetString(simdjson::dom::object object, std::string_view key,
                                  std::string_view path) {
  auto e = Member(object, key);
  if (!e) return std::optional<std::string_view>();
  std::string_view v;
  if (e->get(v) != simdjson::SUCCESS) return WrongType(path, "a string", *e);
  return std::optional<std::string_view>(v);
}

Field<bool> GetBool(simdjson::dom::object object, std::string_view key, std::string_view path) {
  auto e = Member(object, key);
  if (!e) return std::optional<bool>();
  bool v = false;
  if (e->get(v) != simdjson::SUCCESS) return WrongType(path, "a boolean", *e);
  return std::optional<bool>(v);
}

Field<double> GetNumber(simdjson::dom::object object, std::string_view key, std::string_view path) {
  auto e = Member(object, key);
  if (!e) return std::optional<double>();
  if (!e->is_number()) return WrongType(path, "a number", *e);
  double v = 0;
  if (e->is_int64()) {
    v = static_cast<double>(e->get_int64().value_unsafe());
  } else if (e->is_uint64()) {
    v = static_cast<double>(e->get_uint64().value_unsafe());
  } else {
    v = e->get_double().value_unsafe();
  }
  return std::optional<double>(v);
}

Field<int64_t> GetCount(simdjson::dom::object object, std::string_view key, std::string_view path) {
  Field<double> n = GetNumber(object, key, path);
  if (!n.ok()) return n.status();
  if (!n->has_value()) return std::optional<int64_t>();
  const double v = **n;
  if (v < 0 || v > 9.0e15 || std::floor(v) != v) {
    return Status::InvalidArgument(fmt::format("{}: must be a non-negative integer", path));
  }
  return std::optional<int64_t>(static_cast<int64_t>(v));
}

Field<int64_t> GetEpochMicros(simdjson::dom::object object, std::string_view key,
                              std::string_view path) {
  auto e = Member(object, key);
  if (!e) return std::optional<int64_t>();
  Result<int64_t> us = ParseEpochMicros(*e, path);
  if (!us.ok()) return us.status();
  return std::optional<int64_t>(*us);
}

Field<simdjson::dom::array> GetArray(simdjson::dom::object object, std::string_view key,
                                     std::string_view path) {
  auto e = Member(object, key);
  if (!e) return std::optional<simdjson::dom::array>();
  simdjson::dom::array v;
  if (e->get(v) != simdjson::SUCCESS) return WrongType(path, "an array", *e);
  return std::optional<simdjson::dom::array>(v);
}

Field<simdjson::dom::object> GetObject(simdjson::dom::object object, std::string_view key,
                                       std::string_view path) {
  auto e = Member(object, key);
  if (!e) return std::optional<simdjson::dom::object>();
  simdjson::dom::object v;
  if (e->get(v) != simdjson::SUCCESS) return WrongType(path, "an object", *e);
  return std::optional<simdjson::dom::object>(v);
}

Result<int64_t> ParseEpochMicros(simdjson::dom::element value, std::string_view path) {
  if (value.is_number()) {
    double seconds = value.is_double()  ? value.get_double().value_unsafe()
                     : value.is_int64() ? static_cast<double>(value.get_int64().value_unsafe())
                                        : static_cast<double>(value.get_uint64().value_unsafe());
    return SecondsToMicros(seconds, path);
  }
  std::string_view text;
  if (value.get(text) != simdjson::SUCCESS) {
    return WrongType(path, "epoch seconds (a number) or an ISO 8601 string", value);
  }
  double seconds = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (!text.empty() && ec == std::errc() && ptr == text.data() + text.size()) {
    return SecondsToMicros(seconds, path);
  }
  Result<int64_t> iso = ParseIsoTimestamp(text);
  if (!iso.ok()) {
    return Status::InvalidArgument(fmt::format("{}: {}", path, iso.status().message()));
  }
  return SecondsToMicros(static_cast<double>(*iso) / 1e6, path);
}

Result<int64_t> ParseIsoTimestamp(std::string_view text) {
  const Status bad = Status::InvalidArgument(
      fmt::format("\"{}\" is neither epoch seconds nor an ISO 8601 time like 2024-05-01T12:00:00Z",
                  text.substr(0, 64)));
  int year, month, day, hour, minute, second;
  if (text.size() < 19 || !Digits(text, 0, 4, year) || text[4] != '-' ||
      !Digits(text, 5, 2, month) || text[7] != '-' || !Digits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !Digits(text, 11, 2, hour) ||
      text[13] != ':' || !Digits(text, 14, 2, minute) || text[16] != ':' ||
      !Digits(text, 17, 2, second)) {
    return bad;
  }
  const std::chrono::year_month_day ymd{std::chrono::year(year),
                                        std::chrono::month(static_cast<unsigned>(month)),
                                        std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) return bad;
  size_t pos = 19;
  int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t scale = 100000;
    const size_t first_digit = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      micros += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == first_digit) return bad;
  }
  int64_t offset_seconds = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh, om;
    if (!Digits(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !Digits(text, pos + 4, 2, om) || oh > 23 || om > 59) {
      return bad;
    }
    offset_seconds = (text[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    pos += 6;
  } else {
    return bad;  // a time without a zone is ambiguous
  }
  if (pos != text.size()) return bad;
  const int64_t days = std::chrono::sys_days(ymd).time_since_epoch().count();
  const int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  return seconds * 1'000'000 + micros;
}

Status RequestBody::Parse(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) body = "{}";
  simdjson::dom::element root;
  if (auto err = parser_.parse(body.data(), body.size()).get(root); err != simdjson::SUCCESS) {
    return Status::InvalidArgument(
        fmt::format("request body is not valid JSON: {}", simdjson::error_message(err)));
  }
  if (root.get(root_) != simdjson::SUCCESS) {
    return Status::InvalidArgument(
        fmt::format("request body must be a JSON object, got {}", TypeName(root.type())));
  }
  return Status::Ok();
}

HttpResponse JsonResponse(const nlohmann::json& body) {
  HttpResponse response;
  response.status = 200;
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

HttpResponse StatusResponse(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return ErrorResponse(400, "InvalidRequestException", status.message());
    case StatusCode::kResourceExhausted:
      return ErrorResponse(429, "ThrottledException", status.message());
    case StatusCode::kUnavailable:
      return ErrorResponse(503, "ServiceUnavailableException", status.message());
    default:
      return ErrorResponse(500, "InternalFailure", status.message());
  }
}

HttpResponse InvalidRequest(std::string_view message) {
  return ErrorResponse(400, "InvalidRequestException", message);
}

HttpResponse ErrorWithMembers(int status, std::string_view type, std::string_view message,
                              const nlohmann::json& members) {
  HttpResponse response = ErrorResponse(status, type, message);
  nlohmann::json body = {{"__type", type}, {"message", message}};
  for (const auto& [key, value] : members.items()) body[key] = value;
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

Result<TimeRange> ReadTimeRange(const RequestBody& body) {
  Field<int64_t> start = body.EpochMicros("StartTime");
  if (!start.ok()) return start.status();
  if (!start->has_value()) return Status::InvalidArgument("StartTime: required");
  Field<int64_t> end = body.EpochMicros("EndTime");
  if (!end.ok()) return end.status();
  if (!end->has_value()) return Status::InvalidArgument("EndTime: required");
  if (**end <= **start) return Status::InvalidArgument("EndTime: must be after StartTime");
  return TimeRange{**start, **end};
}

Result<std::vector<xray::TraceId>> ReadTraceIds(const RequestBody& body, size_t max_ids,
                                                Counter* over_limit) {
  Field<simdjson::dom::array> ids = body.Array("TraceIds");
  if (!ids.ok()) return ids.status();
  if (!ids->has_value()) return Status::InvalidArgument("TraceIds: required");
  if ((*ids)->size() > max_ids) {
    if (over_limit != nullptr) over_limit->Inc();
    return Status::InvalidArgument(
        fmt::format("TraceIds: at most {} trace ids per call, got {}", max_ids, (*ids)->size()));
  }
  std::vector<xray::TraceId> trace_ids;
  size_t index = 0;
  for (simdjson::dom::element e : **ids) {
    std::string_view text;
    if (e.get(text) != simdjson::SUCCESS) {
      return Status::InvalidArgument(fmt::format("TraceIds[{}]: must be a string", index));
    }
    Result<xray::TraceId> id = xray::TraceId::Parse(text);
    if (!id.ok()) {
      return Status::InvalidArgument(fmt::format("TraceIds[{}]: {}", index, id.status().message()));
    }
    if (std::find(trace_ids.begin(), trace_ids.end(), *id) == trace_ids.end()) {
      trace_ids.push_back(*id);
    }
    ++index;
  }
  return trace_ids;
}

Status RejectNextToken(const RequestBody& body, std::string_view why) {
  Field<std::string_view> token = body.String("NextToken");
  if (!token.ok()) return token.status();
  if (token->has_value() && !(*token)->empty()) {
    return Status::InvalidArgument(fmt::format("NextToken: this server {}", why));
  }
  return Status::Ok();
}

}  // namespace roentgen::api
