// Parsers for command-line values: durations ("30d", "12h", "1h30m") and
// listen addresses ("HOST:PORT", "[::1]:2000"). Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace roentgen::cli {

// One or more <positive integer><unit> terms, units s, m, h, d (e.g. "90m",
// "1d12h"). Errors: InvalidArgument for an empty string, a missing or unknown
// unit, a missing number, or a total over 100 years.
Result<std::chrono::seconds> ParseDuration(std::string_view text);

// The shortest exact rendering: 2592000s → "30d", 5400s → "1h30m", 0 → "0s".
std::string FormatDuration(std::chrono::seconds duration);

struct ListenAddress {
  std::string host;
  uint16_t port = 0;
  bool operator==(const ListenAddress&) const = default;
};

// "HOST:PORT" with an IPv6 host in brackets ("[::1]:2000"; the brackets are
// removed). PORT is 0-65535 (0: any free port). Errors: InvalidArgument.
Result<ListenAddress> ParseListenAddress(std::string_view text);

}  // namespace roentgen::cli
