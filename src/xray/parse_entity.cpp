#include "xray/parse_entity.h"

#include <fmt/format.h>

#include "xray/parse_blocks.h"
#include "xray/parse_text.h"

namespace roentgen::xray::parse {
namespace {

constexpr std::string_view kNeedHex16 = "must be 16 hex digits";

// What the field loop saw, for the checks that need the whole object.
struct Seen {
  bool name = false;
  bool id = false;
  std::optional<int64_t> start;
  std::optional<int64_t> end;
  std::optional<bool> in_progress;
};

bool ReadSegmentId(JsonReader& r, od::value& v, std::string_view key,
                   std::optional<SegmentId>& out) {
  std::string_view text;
  bool present = false;
  if (!r.ReadStringView(v, key, text, present)) return false;
  out.reset();
  if (!present) return true;
  Result<SegmentId> id = SegmentId::Parse(text);
  if (!id.ok()) return r.Fail(ParseError::kInvalidId, key, kNeedHex16);
  out = *id;
  return true;
}

bool ReadTraceId(JsonReader& r, od::value& v, std::optional<TraceId>& out) {
  std::string_view text;
  bool present = false;
  if (!r.ReadStringView(v, "trace_id", text, present)) return false;
  out.reset();
  if (!present) return true;
  Result<TraceId> id = TraceId::Parse(text);
  if (!id.ok()) return r.Fail(ParseError::kInvalidId, "trace_id", id.status().message());
  out = *id;
  return true;
}

bool ReadName(JsonReader& r, od::value& v, Entity& e, Seen& seen) {
  std::string_view name;
  if (!r.ReadStringView(v, "name", name, seen.name)) return false;
  if (!seen.name) return true;
  std::string bad = CheckName(name);
  if (!bad.empty()) return r.Fail(ParseError::kInvalidField, "name", bad);
  e.name.assign(name.data(), name.size());
  return true;
}

bool ReadPrecursors(JsonReader& r, od::value& v, std::vector<SegmentId>& out) {
  od::array arr;
  bool present = false;
  if (!r.OpenArray(v, "precursor_ids", arr, present)) return false;
  if (!present) return true;
  size_t index = 0;
  for (auto element : arr) {
    od::value value;
    if (!r.Element(element, value)) return false;
    std::string key = fmt::format("precursor_ids[{}]", index++);
    std::optional<SegmentId> id;
    if (!ReadSegmentId(r, value, key, id)) return false;
    if (!id) return r.Fail(ParseError::kInvalidId, key, kNeedHex16);
    out.push_back(*id);
  }
  return true;
}

bool ReadSubsegments(JsonReader& r, od::value& v, int depth, std::vector<Entity>& out) {
  od::array arr;
  bool present = false;
  if (!r.OpenArray(v, "subsegments", arr, present)) return false;
  if (!present) return true;
  JsonReader::PathScope scope(r, "subsegments");
  // Entities are large: size the vector once instead of growing it (each
  // growth moves every entity already read). Counting is a cheap structural
  // pass; a malformed array fails below when its elements are read.
  size_t count = 0;
  if (!arr.count_elements().get(count)) out.reserve(out.size() + count);
  size_t index = 0;
  for (auto element : arr) {
    od::value value;
    if (!r.Element(element, value)) return false;
    JsonReader::PathScope at(r, index++);
    if (depth + 1 > kMaxSubsegmentDepth) {
      return r.FailHere(
          ParseError::kInvalidField,
          fmt::format("subsegments nested more than {} levels deep", kMaxSubsegmentDepth));
    }
    od::object obj;
    bool is_object = false;
    if (!r.OpenObject(value, "", obj, is_object)) return false;
    if (!is_object) return r.FailHere(ParseError::kInvalidField, "must be an object");
    if (!ReadEntity(r, obj, EntityLevel::kNested, depth + 1, out.emplace_back())) return false;
  }
  return true;
}

bool ReadField(JsonReader& r, std::string_view key, od::value& v, int depth, Entity& e,
               Seen& seen) {
  if (key == "name") return ReadName(r, v, e, seen);
  if (key == "id") {
    std::optional<SegmentId> id;
    if (!ReadSegmentId(r, v, key, id)) return false;
    seen.id = id.has_value();
    if (id) e.id = *id;
    return true;
  }
  if (key == "start_time") return r.ReadTime(v, key, seen.start);
  if (key == "end_time") return r.ReadTime(v, key, seen.end);
  if (key == "in_progress") return r.ReadOptionalBool(v, key, seen.in_progress);
  if (key == "trace_id") return ReadTraceId(r, v, e.trace_id);
  if (key == "parent_id") return ReadSegmentId(r, v, key, e.parent_id);
  if (key == "subsegments") return ReadSubsegments(r, v, depth, e.subsegments);
  if (key == "namespace") return r.ReadString(v, key, e.namespace_);
  if (key == "http") return ReadHttp(r, v, e.http);
  if (key == "aws") return ReadAws(r, v, e.aws);
  if (key == "annotations") return ReadAnnotations(r, v, e.annotations);
  if (key == "metadata") return ReadMetadata(r, v, e.metadata_json);
  if (key == "error") return r.ReadBool(v, key, e.error);
  if (key == "fault") return r.ReadBool(v, key, e.fault);
  if (key == "throttle") return r.ReadBool(v, key, e.throttle);
  if (key == "cause") return ReadCause(r, v, e.cause);
  if (key == "type") return r.ReadString(v, key, e.type);
  if (key == "origin") return r.ReadString(v, key, e.origin);
  if (key == "resource_arn") return r.ReadString(v, key, e.resource_arn);
  if (key == "user") return r.ReadString(v, key, e.user);
  if (key == "precursor_ids") return ReadPrecursors(r, v, e.precursor_ids);
  if (key == "traced") return r.ReadOptionalBool(v, key, e.traced);
  if (key == "sql") return ReadSql(r, v, e.sql);
  if (key == "service") return ReadService(r, v, e.service_version, e.service_json);
  return r.Skip(v);
}

bool CheckRequired(JsonReader& r, EntityLevel level, const Seen& seen, Entity& e) {
  if (!seen.name) return r.Fail(ParseError::kMissingField, "name", "is required");
  if (!seen.id) return r.Fail(ParseError::kMissingField, "id", "is required");

  // Entity::type marks a subsegment sent on its own. A nested one may carry
  // "type" too (aws-xray-sdk-core sets it on objects it has streamed once): the
  // raw text keeps it, the model does not.
  if (level == EntityLevel::kNested) e.type.clear();
  bool independent =
      level == EntityLevel::kArrayElement || (level == EntityLevel::kDocument && !e.type.empty());
  if (level != EntityLevel::kNested && !e.type.empty() && e.type != "subsegment") {
    return r.Fail(
        ParseError::kInvalidField, "type",
        fmt::format("must be \"subsegment\" when present, not {}", QuoteForMessage(e.type)));
  }
  if (level == EntityLevel::kArrayElement && e.type.empty()) {
    return r.Fail(ParseError::kMissingField, "type",
                  "must be \"subsegment\" in an array of subsegments");
  }
  if (level != EntityLevel::kNested && !e.trace_id) {
    return r.Fail(ParseError::kMissingField, "trace_id", "is required");
  }
  if (independent && !e.parent_id) {
    return r.Fail(ParseError::kMissingField, "parent_id",
                  "is required for an independent subsegment");
  }

  if (!seen.start) return r.Fail(ParseError::kMissingField, "start_time", "is required");
  e.start_time_us = *seen.start;
  e.in_progress = seen.in_progress.value_or(false);
  if (e.in_progress && seen.end) {
    return r.Fail(ParseError::kInvalidField, "in_progress",
                  "must not be true when end_time is set");
  }
  if (!e.in_progress && !seen.end) {
    return r.Fail(ParseError::kMissingField, "end_time", "is required unless in_progress is true");
  }
  if (seen.end && *seen.end < *seen.start) {
    return r.Fail(ParseError::kInvalidField, "end_time", "must not be before start_time");
  }
  e.end_time_us = seen.end;
  return true;
}

}  // namespace

bool ReadEntity(JsonReader& r, od::object& obj, EntityLevel level, int depth, Entity& out) {
  Seen seen;
  for (auto field : obj) {
    std::string_view key;
    od::value value;
    if (!r.Field(field, key, value)) return false;
    if (!ReadField(r, key, value, depth, out, seen)) return false;
  }
  return CheckRequired(r, level, seen, out);
}

}  // namespace roentgen::xray::parse
