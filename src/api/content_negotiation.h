// Reading the request headers that choose how a static file is sent
// (RFC 9110): Accept-Encoding (which content codings the client takes) and
// If-None-Match (whether its cached copy is still current).
//
// Pure functions over header values, thread-safe. Malformed parts of a header
// are ignored, never an error: a client that sends nonsense gets the file as
// built (Accept-Encoding) or in full (If-None-Match).
#pragma once

#include <string_view>

namespace roentgen::api {

// The codings an Accept-Encoding value allows. A coding is accepted when it
// is listed (tokens compare case-insensitively; x-gzip is gzip) with a q
// value above 0, or is not listed and `*` is, with a q value above 0. An
// absent or empty header accepts neither.
struct AcceptedCodings {
  bool brotli = false;
  bool gzip = false;
};
AcceptedCodings ParseAcceptEncoding(std::string_view accept_encoding);

// Whether an If-None-Match value matches `etag` (a quoted entity tag, e.g.
// "\"abc\""): `*`, or a comma-separated list of entity tags one of which has
// the same opaque tag (weak comparison, as RFC 9110 prescribes for
// If-None-Match: W/"abc" matches "abc"). An empty value matches nothing.
bool IfNoneMatchMatches(std::string_view if_none_match, std::string_view etag);

}  // namespace roentgen::api
