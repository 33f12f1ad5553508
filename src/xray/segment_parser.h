// Parses and validates X-Ray segment documents with simdjson.
//
// Every validation error names the field (as a JSON path, e.g.
// "subsegments[2].http.response.status") and the reason. Documents over
// kMaxDocumentBytes are rejected before parsing, their id read by a scan of
// the text (document_id.h). Unknown fields are ignored
// (X-Ray ignores them too) but kept in SegmentDocument::raw.
//
// Thread safety: a SegmentParser holds a simdjson parser and its buffers; use one
// per thread. Parse() is allocation-light once the parser is warm.
#pragma once

#include <memory>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/status.h"
#include "xray/segment.h"

namespace roentgen::xray {

// Stable error codes (reported as ErrorCode in UnprocessedTraceSegments and as
// the reason label of the rejected-documents metric).
enum class ParseError {
  kTooLarge,        // over 64 KB
  kMalformedJson,   // not JSON
  kMissingField,    // a required field is absent
  kInvalidField,    // a field has the wrong type or an invalid value
  kInvalidId,       // id / trace_id / parent_id malformed
};
std::string_view ParseErrorCode(ParseError e);  // "TooLarge", "MalformedJson", …

struct ParseFailure {
  ParseError error;
  std::string message;  // "subsegments[0].start_time: must be a number"
  std::string id;       // the document's `id` if it could be read, else empty
};

class SegmentParser {
 public:
  SegmentParser();
  ~SegmentParser();
  SegmentParser(const SegmentParser&) = delete;
  SegmentParser& operator=(const SegmentParser&) = delete;

  // Parses one document (an object, or an array of subsegments) and appends one
  // SegmentDocument per entity to `out` (raw = the entity's own JSON text).
  // Returns false, appends nothing, and fills `failure` when the document is
  // rejected; an array is rejected whole if any element is invalid.
  bool Parse(std::string_view json, std::vector<SegmentDocument>& out, ParseFailure& failure);

  // As above, but each entity is parsed into the document `next()` returns
  // (a reference that must stay valid until ParseInto returns), so that a caller
  // can parse straight into where the document will live instead of moving
  // each ~1.4 KB entity there afterwards. On failure the documents `next`
  // made are the caller's to drop: their contents are unspecified.
  template <typename Next>
  bool ParseInto(std::string_view json, Next&& next, ParseFailure& failure) {
    return ParseWith(json, DocumentSink{&CallNext<std::remove_reference_t<Next>>, &next}, failure);
  }

  // Where ParseInto's documents come from: a type-erased `next`.
  struct DocumentSink {
    SegmentDocument& (*make)(void* context);
    void* context;
    SegmentDocument& Next() const { return make(context); }
  };

 private:
  template <typename Next>
  static SegmentDocument& CallNext(void* next) {
    return (*static_cast<Next*>(next))();
  }
  bool ParseWith(std::string_view json, DocumentSink sink, ParseFailure& failure);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Splits a UDP daemon datagram: `{"format":"json","version":1}\n{document}`.
// Returns the document part, or an error naming what is wrong with the header.
Result<std::string_view> SplitDaemonDatagram(std::string_view datagram);

}  // namespace roentgen::xray
