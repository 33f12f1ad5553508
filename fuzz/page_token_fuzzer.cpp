// Fuzzes GetTraceSummaries' NextToken decoder (api::DecodePageToken), which
// reads a client-supplied string.
//
// Invariant: a token that decodes re-encodes to one that decodes to the same
// cursor and fingerprint.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/page_token.h"
#include "fuzz_check.h"

using namespace roentgen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<api::PageToken> token = api::DecodePageToken(text);
  if (!token.ok()) {
    FUZZ_CHECK(token.status().code() == StatusCode::kInvalidArgument);
    return 0;
  }
  const std::string encoded = api::EncodePageToken(*token);
  Result<api::PageToken> again = api::DecodePageToken(encoded);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->cursor.time_us == token->cursor.time_us);
  FUZZ_CHECK(again->cursor.trace_id == token->cursor.trace_id);
  FUZZ_CHECK(again->fingerprint == token->fingerprint);
  FUZZ_CHECK(api::EncodePageToken(*again) == encoded);
  return 0;
}
