// Private to the segment parser: typed reads from a simdjson On Demand document
// with X-Ray's error reporting (a JSON path plus a reason, and a ParseError code).
//
// On Demand only checks what it visits, so every value of a document is visited:
// fields the model does not keep are walked by Skip(), which checks their syntax,
// so a document that passes is well-formed JSON throughout.
//
// Conventions: each Read*/Skip call consumes the value, returns true on success,
// and on failure records the first error (later ones are ignored) and returns
// false; callers return false at once. JSON null counts as "absent" for every
// optional field. One JsonReader per document; not thread-safe.
#pragma once

#include <simdjson.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xray/segment_parser.h"

namespace roentgen::xray::parse {

namespace od = simdjson::ondemand;

// True when [p, p + n) holds a backslash. May read up to 15 bytes past p + n:
// every pointer it gets is into the parser's buffer, which has
// SIMDJSON_PADDING (64) bytes after the document. A vector compare instead of a
// byte loop, whose exit (at a different length for every string) mispredicts.
inline bool HasBackslash(const char* p, size_t n) {
#if defined(__SSE2__)
  const __m128i backslash = _mm_set1_epi8('\\');
  for (size_t i = 0; i < n; i += 16) {
    __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, backslash)));
    if (n - i < 16) mask &= (1u << (n - i)) - 1;
    if (mask != 0) return true;
  }
  return false;
#else
  return std::memchr(p, '\\', n) != nullptr;
#endif
}

// One step of the path being read: a field name, or an array index when
// `key` is null.
struct PathPart {
  std::string_view key;
  size_t index = 0;
};

class JsonReader {
 public:
  // `doc` must outlive the reader; `base` is the start of the bytes it iterates.
  // `path_buffer` holds the path while reading (cleared here): the parser
  // passes the same vector for every document, so its capacity is reused.
  JsonReader(od::document& doc, const char* base, std::vector<PathPart>& path_buffer)
      : doc_(doc), base_(base), path_(path_buffer) {
    path_.clear();
  }

  bool failed() const { return failed_; }
  ParseError error() const { return error_; }
  const std::string& message() const { return message_; }

  // The path of the object being read ("", "subsegments[1]", "http.request").
  // Kept as parts and only spelled out here, for messages: most documents
  // have no error.
  std::string path() const;

  // Records an error about field `key` of the current object; returns false.
  bool Fail(ParseError error, std::string_view key, std::string_view reason);
  // Records an error about the current object itself (or the document when at the root).
  bool FailHere(ParseError error, std::string_view reason);
  // Records a simdjson error as kMalformedJson with the byte offset; returns false.
  bool Malformed(simdjson::error_code code);

  // The value's JSON type; a byte that starts no JSON value is malformed JSON.
  bool TypeOf(od::value& v, od::json_type& type);

  // Scalars. `present` / the optional tells whether the field had a non-null value.
  bool ReadString(od::value& v, std::string_view key, std::string& out);
  bool ReadStringView(od::value& v, std::string_view key, std::string_view& out, bool& present);
  bool ReadBool(od::value& v, std::string_view key, bool& out);
  bool ReadOptionalBool(od::value& v, std::string_view key, std::optional<bool>& out);
  bool ReadInt(od::value& v, std::string_view key, int64_t min, int64_t max,
               std::optional<int64_t>& out);
  bool ReadDouble(od::value& v, std::string_view key, std::optional<double>& out);
  // Epoch seconds as a JSON number → integer microseconds (rounded to nearest).
  bool ReadTime(od::value& v, std::string_view key, std::optional<int64_t>& micros);

  // Opens an object / array value. `present` is false for null (then nothing to read).
  bool OpenObject(od::value& v, std::string_view key, od::object& out, bool& present);
  bool OpenArray(od::value& v, std::string_view key, od::array& out, bool& present);

  // Unpacks one step of `for (auto field : object)` / `for (auto element : array)`.
  // Inline: called for every field, with the field just built by the caller's
  // loop (out of line, reading it back stalled on store forwarding).
  bool Field(simdjson::simdjson_result<od::field>& field, std::string_view& key, od::value& value) {
    od::raw_json_string raw;
    if (auto err = field.key().get(raw)) return Malformed(err);
    if (auto err = field.value().get(value)) return Malformed(err);
    // The key ends at the quote just before the colon before the value; the
    // common compact form is checked here, anything else out of line.
    const char* body = raw.raw();
    const char* value_start = value.raw_json_token().data();
    const char* end = value_start - 2;
    if (end >= body && end[0] == '"' && end[1] == ':' &&
        !HasBackslash(body, static_cast<size_t>(end - body))) {
      key = std::string_view(body, static_cast<size_t>(end - body));
      return true;
    }
    return FieldKeySlow(field, body, value_start, key);
  }
  bool Element(simdjson::simdjson_result<od::value>& element, od::value& value) {
    if (auto err = std::move(element).get(value)) return Malformed(err);
    return true;
  }

  // Visits (and syntax-checks) any value, keeping nothing. Containers nested
  // deeper than kMaxSkipDepth are refused (kInvalidField).
  static constexpr int kMaxSkipDepth = 128;
  bool Skip(od::value& v);

  // Exact source text of a container: call RawBegin before reading the value and
  // RawEnd after it has been read completely. Returns the text without trailing
  // whitespace, pointing into the iterated buffer.
  const char* RawBegin(od::value& v) { return v.raw_json_token().data(); }
  bool RawEnd(const char* begin, std::string_view& out);

  // Appends ".key" (or "key" at the root) or "[index]" to the path for its
  // lifetime. `key` must outlive the scope (a literal, or text of the document).
  class PathScope {
   public:
    PathScope(JsonReader& r, std::string_view key) : r_(r) {
      r.path_.push_back(PathPart{key.empty() ? std::string_view("", 0) : key, 0});
    }
    PathScope(JsonReader& r, size_t index) : r_(r) {
      r.path_.push_back(PathPart{std::string_view(), index});
    }
    ~PathScope() { r_.path_.pop_back(); }
    PathScope(const PathScope&) = delete;
    PathScope& operator=(const PathScope&) = delete;

   private:
    JsonReader& r_;
  };

 private:
  bool WrongType(std::string_view key, std::string_view expected);
  // Field()'s key when it is not in the compact form or has escapes.
  bool FieldKeySlow(simdjson::simdjson_result<od::field>& field, const char* body,
                    const char* value_start, std::string_view& key);
  // Skip() for a value of known type (scalars are read and checked here too).
  bool SkipContainer(od::value& v, od::json_type type);
  // Reads a string value known to be a string (unescaped only when it has escapes).
  bool GetString(od::value& v, std::string_view& out);

  od::document& doc_;
  const char* base_;
  std::vector<PathPart>& path_;
  int skip_depth_ = 0;
  bool failed_ = false;
  ParseError error_ = ParseError::kMalformedJson;
  std::string message_;
};

// Integer microseconds of a non-negative JSON number of seconds (as validated by
// simdjson, at most 1e11), rounded half up from its exact decimal text.
int64_t DecimalSecondsToMicros(std::string_view number);

}  // namespace roentgen::xray::parse
