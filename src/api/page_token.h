// GetTraceSummaries' NextToken: an opaque base64 string holding the scan
// cursor (sort time and trace id of the last trace the page looked at) and a
// fingerprint of the query, so a token is only honoured by the query that
// issued it (same time range, range type, filter and sampling).
//
// Layout before base64 (33 bytes): version 1, time_us (8, big-endian),
// trace id (16), fingerprint (8, big-endian). Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/store.h"

namespace roentgen::api {

struct PageToken {
  store::ScanCursor cursor;
  uint64_t fingerprint = 0;
};

std::string EncodePageToken(const PageToken& token);
// InvalidArgument ("NextToken: …") for anything this server did not issue.
Result<PageToken> DecodePageToken(std::string_view text);

}  // namespace roentgen::api
