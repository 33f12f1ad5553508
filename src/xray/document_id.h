// Reads the `id` of a segment document without parsing it, for a document
// over kMaxDocumentBytes: it is refused before parsing (simdjson's buffers
// are sized for the limit), yet PutTraceSegments reports it in
// UnprocessedTraceSegments under its Id, as X-Ray does, so the sender knows
// which segment was lost.
//
// One forward pass over the text, no recursion and no allocation besides the
// result: it tracks string state and nesting depth only and never validates
// the JSON, so any input (it is fuzzed) costs O(size) and yields at most a
// short string.
// Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace roentgen::xray {

// The longest id reported; X-Ray's are 16 hex digits.
inline constexpr size_t kMaxReportedIdChars = 64;

// The value of the first `"id"` key of the document's top-level object, or,
// for an array of subsegments, of its first element (the one the array
// starts with). Empty when there is none, when it is not a plain string (no
// escapes) of 1 to kMaxReportedIdChars printable ASCII characters, or when
// the text does not start (after whitespace) with an object or an array of
// objects.
std::string ScanDocumentId(std::string_view json);

}  // namespace roentgen::xray
