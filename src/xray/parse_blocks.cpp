#include "xray/parse_blocks.h"

#include <cstdint>
#include <limits>

#include "common/hex.h"

namespace roentgen::xray::parse {
namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();
constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();

// Reads an optional int that the model stores as `int`.
bool ReadSmallInt(JsonReader& r, od::value& v, std::string_view key, int64_t min, int64_t max,
                  std::optional<int>& out) {
  std::optional<int64_t> i;
  if (!r.ReadInt(v, key, min, max, i)) return false;
  if (i) out = static_cast<int>(*i);
  return true;
}

bool ReadIntOrZero(JsonReader& r, od::value& v, std::string_view key, int& out) {
  std::optional<int> i;
  if (!ReadSmallInt(r, v, key, 0, kMaxInt, i)) return false;
  out = i.value_or(0);
  return true;
}

// Opens the optional object `key` (absent or null: nothing to do), runs
// `on_open()` once, then `each(field_key, value)` for every field, under the
// path scope `key` so errors name the field.
template <typename Open, typename Each>
bool ForEachField(JsonReader& r, od::value& v, std::string_view key, Open&& on_open, Each&& each) {
  od::object obj;
  bool present = false;
  if (!r.OpenObject(v, key, obj, present)) return false;
  if (!present) return true;
  JsonReader::PathScope scope(r, key);
  on_open();
  for (auto field : obj) {
    std::string_view field_key;
    od::value value;
    if (!r.Field(field, field_key, value)) return false;
    if (!each(field_key, value)) return false;
  }
  return true;
}

bool ReadHttpRequest(JsonReader& r, od::value& v, std::optional<HttpRequest>& out) {
  HttpRequest* req = nullptr;
  return ForEachField(
      r, v, "request", [&] { req = &out.emplace(); },
      [&](std::string_view key, od::value& value) {
        return key == "method"            ? r.ReadString(value, key, req->method)
               : key == "url"             ? r.ReadString(value, key, req->url)
               : key == "user_agent"      ? r.ReadString(value, key, req->user_agent)
               : key == "client_ip"       ? r.ReadString(value, key, req->client_ip)
               : key == "x_forwarded_for" ? r.ReadBool(value, key, req->x_forwarded_for)
               : key == "traced"          ? r.ReadBool(value, key, req->traced)
                                          : r.Skip(value);
      });
}

bool ReadHttpResponse(JsonReader& r, od::value& v, std::optional<HttpResponse>& out) {
  HttpResponse* resp = nullptr;
  return ForEachField(
      r, v, "response", [&] { resp = &out.emplace(); },
      [&](std::string_view key, od::value& value) {
        return key == "status"           ? ReadSmallInt(r, value, key, 0, 999, resp->status)
               : key == "content_length" ? r.ReadInt(value, key, 0, kMaxInt64, resp->content_length)
                                         : r.Skip(value);
      });
}

// Reads the string fields `fields` of a sub-object (aws.ec2, aws.lambda), skipping others.
template <size_t N>
bool ReadStringFields(JsonReader& r, od::value& v, std::string_view name,
                      const std::pair<std::string_view, std::string*> (&fields)[N]) {
  return ForEachField(
      r, v, name, [] {},
      [&](std::string_view key, od::value& value) {
        for (const auto& [want, target] : fields) {
          if (key == want) return r.ReadString(value, key, *target);
        }
        return r.Skip(value);
      });
}

bool ReadStackFrame(JsonReader& r, od::value& v, StackFrame& frame) {
  od::object obj;
  bool present = false;
  if (!r.OpenObject(v, "", obj, present)) return false;
  if (!present) return r.FailHere(ParseError::kInvalidField, "must be an object");
  for (auto field : obj) {
    std::string_view key;
    od::value value;
    if (!r.Field(field, key, value)) return false;
    bool ok = key == "path"    ? r.ReadString(value, key, frame.path)
              : key == "line"  ? ReadSmallInt(r, value, key, 0, kMaxInt, frame.line)
              : key == "label" ? r.ReadString(value, key, frame.label)
                               : r.Skip(value);
    if (!ok) return false;
  }
  return true;
}

// Opens `key` as an array and calls `each(element)` under the path "key[i]".
template <typename Fn>
bool ForEachElement(JsonReader& r, od::value& v, std::string_view key, Fn&& each) {
  od::array arr;
  bool present = false;
  if (!r.OpenArray(v, key, arr, present)) return false;
  if (!present) return true;
  JsonReader::PathScope scope(r, key);
  size_t index = 0;
  for (auto element : arr) {
    od::value value;
    if (!r.Element(element, value)) return false;
    JsonReader::PathScope at(r, index++);
    if (!each(value)) return false;
  }
  return true;
}

bool ReadException(JsonReader& r, od::value& v, ExceptionInfo& ex) {
  od::object obj;
  bool present = false;
  if (!r.OpenObject(v, "", obj, present)) return false;
  if (!present) return r.FailHere(ParseError::kInvalidField, "must be an object");
  for (auto field : obj) {
    std::string_view key;
    od::value value;
    if (!r.Field(field, key, value)) return false;
    bool ok = true;
    if (key == "id") {
      ok = r.ReadString(value, key, ex.id);
    } else if (key == "message") {
      ok = r.ReadString(value, key, ex.message);
    } else if (key == "type") {
      ok = r.ReadString(value, key, ex.type);
    } else if (key == "remote") {
      ok = r.ReadBool(value, key, ex.remote);
    } else if (key == "truncated") {
      ok = ReadIntOrZero(r, value, key, ex.truncated);
    } else if (key == "skipped") {
      ok = ReadIntOrZero(r, value, key, ex.skipped);
    } else if (key == "cause") {
      ok = r.ReadString(value, key, ex.cause);
    } else if (key == "stack") {
      ok = ForEachElement(r, value, key, [&](od::value& frame) {
        return ReadStackFrame(r, frame, ex.stack.emplace_back());
      });
    } else {
      ok = r.Skip(value);
    }
    if (!ok) return false;
  }
  return true;
}

bool IsSegmentIdText(std::string_view s) {
  if (s.size() != 16) return false;
  for (char c : s) {
    if (!IsHexDigit(c)) return false;
  }
  return true;
}

}  // namespace

bool ReadHttp(JsonReader& r, od::value& v, std::optional<Http>& out) {
  Http* http = nullptr;
  return ForEachField(
      r, v, "http", [&] { http = &out.emplace(); },
      [&](std::string_view key, od::value& value) {
        return key == "request"    ? ReadHttpRequest(r, value, http->request)
               : key == "response" ? ReadHttpResponse(r, value, http->response)
                                   : r.Skip(value);
      });
}

bool ReadAws(JsonReader& r, od::value& v, std::optional<AwsInfo>& out) {
  const char* begin = r.RawBegin(v);
  od::object obj;
  bool present = false;
  if (!r.OpenObject(v, "aws", obj, present)) return false;
  if (!present) return true;
  AwsInfo& aws = out.emplace();
  {
    JsonReader::PathScope scope(r, "aws");
    for (auto field : obj) {
      std::string_view key;
      od::value value;
      if (!r.Field(field, key, value)) return false;
      bool ok = true;
      if (key == "account_id") {
        ok = r.ReadString(value, key, aws.account_id);
      } else if (key == "operation") {
        ok = r.ReadString(value, key, aws.operation);
      } else if (key == "region") {
        ok = r.ReadString(value, key, aws.region);
      } else if (key == "request_id") {
        ok = r.ReadString(value, key, aws.request_id);
      } else if (key == "table_name") {
        ok = r.ReadString(value, key, aws.table_name);
      } else if (key == "queue_url") {
        ok = r.ReadString(value, key, aws.queue_url);
      } else if (key == "retries") {
        ok = ReadSmallInt(r, value, key, 0, kMaxInt, aws.retries);
      } else if (key == "function_name") {
        ok = r.ReadString(value, key, aws.function_name);
      } else if (key == "ec2") {
        const std::pair<std::string_view, std::string*> fields[] = {
            {"instance_id", &aws.ec2_instance_id}, {"availability_zone", &aws.availability_zone}};
        ok = ReadStringFields(r, value, key, fields);
      } else if (key == "lambda") {
        const std::pair<std::string_view, std::string*> fields[] = {
            {"function_name", &aws.function_name}};
        ok = ReadStringFields(r, value, key, fields);
      } else {
        ok = r.Skip(value);
      }
      if (!ok) return false;
    }
  }
  std::string_view raw;
  if (!r.RawEnd(begin, raw)) return false;
  aws.raw_json.assign(raw.data(), raw.size());
  return true;
}

bool ReadSql(JsonReader& r, od::value& v, std::optional<Sql>& out) {
  Sql* sql = nullptr;
  return ForEachField(
      r, v, "sql", [&] { sql = &out.emplace(); },
      [&](std::string_view key, od::value& value) {
        return key == "url"                 ? r.ReadString(value, key, sql->url)
               : key == "connection_string" ? r.ReadString(value, key, sql->connection_string)
               : key == "sanitized_query"   ? r.ReadString(value, key, sql->sanitized_query)
               : key == "database_type"     ? r.ReadString(value, key, sql->database_type)
               : key == "database_version"  ? r.ReadString(value, key, sql->database_version)
               : key == "driver_version"    ? r.ReadString(value, key, sql->driver_version)
               : key == "user"              ? r.ReadString(value, key, sql->user)
               : key == "preparation"       ? r.ReadString(value, key, sql->preparation)
                                            : r.Skip(value);
      });
}

bool ReadService(JsonReader& r, od::value& v, std::string& version, std::string& json) {
  const char* begin = r.RawBegin(v);
  od::object obj;
  bool present = false;
  if (!r.OpenObject(v, "service", obj, present)) return false;
  if (!present) return true;
  {
    JsonReader::PathScope scope(r, "service");
    for (auto field : obj) {
      std::string_view key;
      od::value value;
      if (!r.Field(field, key, value)) return false;
      bool ok = key == "version" ? r.ReadString(value, key, version) : r.Skip(value);
      if (!ok) return false;
    }
  }
  std::string_view raw;
  if (!r.RawEnd(begin, raw)) return false;
  json.assign(raw.data(), raw.size());
  return true;
}

bool ReadCause(JsonReader& r, od::value& v, std::optional<Cause>& out) {
  od::json_type type;
  if (!r.TypeOf(v, type)) return false;
  if (type == od::json_type::null) return true;
  if (type == od::json_type::string) {
    std::string_view id;
    bool present = false;
    if (!r.ReadStringView(v, "cause", id, present)) return false;
    if (!IsSegmentIdText(id)) {
      return r.Fail(ParseError::kInvalidField, "cause",
                    "must be an object or a 16-hex exception id");
    }
    out.emplace().exception_id_ref.assign(id.data(), id.size());
    return true;
  }
  if (type != od::json_type::object) {
    return r.Fail(ParseError::kInvalidField, "cause", "must be an object or a 16-hex exception id");
  }
  od::object obj;
  bool present = false;
  if (!r.OpenObject(v, "cause", obj, present)) return false;
  JsonReader::PathScope scope(r, "cause");
  Cause& cause = out.emplace();
  for (auto field : obj) {
    std::string_view key;
    od::value value;
    if (!r.Field(field, key, value)) return false;
    bool ok = true;
    if (key == "working_directory") {
      ok = r.ReadString(value, key, cause.working_directory);
    } else if (key == "id") {
      // aws-xray-sdk-core's form of a reference: {"id": "<16 hex>", "exceptions": []}.
      ok = r.ReadString(value, key, cause.exception_id_ref);
    } else if (key == "paths") {
      ok = ForEachElement(r, value, key, [&](od::value& path) {
        return r.ReadString(path, "", cause.paths.emplace_back());
      });
    } else if (key == "exceptions") {
      ok = ForEachElement(r, value, key, [&](od::value& ex) {
        return ReadException(r, ex, cause.exceptions.emplace_back());
      });
    } else {
      ok = r.Skip(value);
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace roentgen::xray::parse
