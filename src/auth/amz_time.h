// The time formats of SigV4 and of the keys file, as epoch seconds (UTC):
//   X-Amz-Date   "20150830T123600Z" (ISO 8601 basic format)
//   Date         "Sun, 30 Aug 2015 12:36:00 GMT" (RFC 9110 IMF-fixdate)
//   ISO 8601     "2015-08-30T12:36:00Z" (the keys file, Expiration in JSON)
// Pure functions, thread-safe. Parsers return nullopt for anything not exactly
// that form (a date that does not exist, such as Feb 30, included).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace roentgen::auth {

std::string FormatAmzDate(int64_t epoch_seconds);
std::optional<int64_t> ParseAmzDate(std::string_view text);
std::optional<int64_t> ParseHttpDate(std::string_view text);
std::string FormatIso8601(int64_t epoch_seconds);
std::optional<int64_t> ParseIso8601(std::string_view text);

}  // namespace roentgen::auth
