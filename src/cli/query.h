// `roentgen query EXPR`: finds traces on a running server with a filter
// expression, through the server's GetTraceSummaries API (so it sees exactly
// what any X-Ray client sees), and prints a table or JSON lines. A server
// started with --keys needs a signed request: set AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for a session key). An
// https:// server's certificate is verified (cli/api_client.h).
//
// Exit codes: 0 on success (also when nothing matched), 2 when the server
// rejected the request (a bad filter expression: the server's message, which
// names the column, is printed), 1 when the server could not be reached or
// answered something unexpected, or its certificate was not trusted.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "common/status.h"

namespace roentgen::cli {

struct QueryConfig {
  std::string expression;                     // empty: every trace
  std::string server = "127.0.0.1:2000";      // HOST:PORT, http://… or https://…
  std::string ca_file;                        // CAs for https:// (else AWS_CA_BUNDLE, system)
  std::chrono::seconds since{3600};           // used when from/to are unset
  std::optional<double> from_epoch_seconds;   // --from
  std::optional<double> to_epoch_seconds;     // --to (default: now)
  bool json = false;                          // JSON lines instead of a table
  size_t limit = 100;                         // at most this many traces
};

int RunQuery(const QueryConfig& config, std::ostream& out, std::ostream& err);

// "1700000000", "1700000000.5" or an ISO 8601 UTC time "2026-11-25T14:00:00Z"
// (fractional seconds allowed) → epoch seconds.
Result<double> ParseTimestamp(std::string_view text);

// "2026-11-25 14:00:00.123" (UTC, milliseconds).
std::string FormatTimestamp(double epoch_seconds);

// One table row for a TraceSummary as the API returns it:
// id, start, response time, status (HTTP status and FAULT/ERROR/THROTTLE/OK),
// annotations as k=v (several values joined with |).
std::string FormatSummaryRow(const nlohmann::json& summary);
std::string SummaryTableHeader();

}  // namespace roentgen::cli
