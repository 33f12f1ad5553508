#include "xray/parse_entity.h"

#include <fmt/format.h>

#include <array>
#include <cstdint>

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

// Nibble values of hex digits (either case); 0xff for any other byte.
constexpr std::array<uint8_t, 256> kHexValue = [] {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = 0xff;
  for (int c = 0; c < 10; ++c) t['0' + c] = static_cast<uint8_t>(c);
  for (int c = 0; c < 6; ++c) {
    t['a' + c] = static_cast<uint8_t>(10 + c);
    t['A' + c] = static_cast<uint8_t>(10 + c);
  }
  return t;
}();

// Decodes `n` hex digits into `value` (big-endian); false if one is not hex.
// Branch-free over the digits: ids are random, so per-digit branches (as in
// DecodeHex) mispredict.
template <size_t n>
bool DecodeHexDigits(const char* text, uint64_t& value) {
  static_assert(n <= 16);
  uint64_t v = 0;
  uint8_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    uint8_t nibble = kHexValue[static_cast<unsigned char>(text[i])];
    bad |= nibble;
    v = (v << 4) | (nibble & 0xf);
  }
  value = v;
  return (bad & 0xf0) == 0;
}

bool ReadSegmentId(JsonReader& r, od::value& v, std::string_view key,
                   std::optional<SegmentId>& out) {
  std::string_view text;
  bool present = false;
  if (!r.ReadStringView(v, key, text, present)) return false;
  out.reset();
  if (!present) return true;
  // Same acceptance as SegmentId::Parse (16 hex digits, either case).
  uint64_t value = 0;
  if (text.size() != SegmentId::kTextSize ||
      !DecodeHexDigits<SegmentId::kTextSize>(text.data(), value)) {
    return r.Fail(ParseError::kInvalidId, key, kNeedHex16);
  }
  out = SegmentId{value};
  return true;
}

// TraceId::Parse's fast path: "1-" + 8 hex + "-" + 24 hex. False for anything
// else, which TraceId::Parse then explains.
bool ParseTraceIdFast(std::string_view text, TraceId& id) {
  if (text.size() != TraceId::kTextSize || text[0] != '1' || text[1] != '-' || text[10] != '-') {
    return false;
  }
  uint64_t epoch = 0, high = 0, low = 0;
  if (!DecodeHexDigits<8>(text.data() + 2, epoch) || !DecodeHexDigits<8>(text.data() + 11, high) ||
      !DecodeHexDigits<16>(text.data() + 19, low)) {
    return false;
  }
  for (int i = 0; i < 4; ++i) id.bytes[i] = static_cast<uint8_t>(epoch >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) id.bytes[4 + i] = static_cast<uint8_t>(high >> (24 - 8 * i));
  for (int i = 0; i < 8; ++i) id.bytes[8 + i] = static_cast<uint8_t>(low >> (56 - 8 * i));
  return true;
}

bool ReadTraceId(JsonReader& r, od::value& v, std::optional<TraceId>& out) {
  std::string_view text;
  bool present = false;
  if (!r.ReadStringView(v, "trace_id", text, present)) return false;
  out.reset();
  if (!present) return true;
  TraceId fast;
  if (ParseTraceIdFast(text, fast)) {
    out = fast;
    return true;
  }
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
  // Dispatch on the key's length first: one jump instead of up to 24 compares.
  switch (key.size()) {
    case 2:
      if (key == "id") {
        std::optional<SegmentId> id;
        if (!ReadSegmentId(r, v, key, id)) return false;
        seen.id = id.has_value();
        if (id) e.id = *id;
        return true;
      }
      break;
    case 3:
      if (key == "aws") return ReadAws(r, v, e.aws);
      if (key == "sql") return ReadSql(r, v, e.sql);
      break;
    case 4:
      if (key == "name") return ReadName(r, v, e, seen);
      if (key == "http") return ReadHttp(r, v, e.http);
      if (key == "type") return r.ReadString(v, key, e.type);
      if (key == "user") return r.ReadString(v, key, e.user);
      break;
    case 5:
      if (key == "error") return r.ReadBool(v, key, e.error);
      if (key == "fault") return r.ReadBool(v, key, e.fault);
      if (key == "cause") return ReadCause(r, v, e.cause);
      break;
    case 6:
      if (key == "origin") return r.ReadString(v, key, e.origin);
      if (key == "traced") return r.ReadOptionalBool(v, key, e.traced);
      break;
    case 7:
      if (key == "service") return ReadService(r, v, e.service_version, e.service_json);
      break;
    case 8:
      if (key == "end_time") return r.ReadTime(v, key, seen.end);
      if (key == "trace_id") return ReadTraceId(r, v, e.trace_id);
      if (key == "metadata") return ReadMetadata(r, v, e.metadata_json);
      if (key == "throttle") return r.ReadBool(v, key, e.throttle);
      break;
    case 9:
      if (key == "parent_id") return ReadSegmentId(r, v, key, e.parent_id);
      if (key == "namespace") return r.ReadString(v, key, e.namespace_);
      break;
    case 10:
      if (key == "start_time") return r.ReadTime(v, key, seen.start);
      break;
    case 11:
      if (key == "in_progress") return r.ReadOptionalBool(v, key, seen.in_progress);
      if (key == "subsegments") return ReadSubsegments(r, v, depth, e.subsegments);
      if (key == "annotations") return ReadAnnotations(r, v, e.annotations);
      break;
    case 12:
      if (key == "resource_arn") return r.ReadString(v, key, e.resource_arn);
      break;
    case 13:
      if (key == "precursor_ids") return ReadPrecursors(r, v, e.precursor_ids);
      break;
    default:
      break;
  }
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
