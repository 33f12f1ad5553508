// `rootcause.json = #[{ … }]`: a list of root-cause objects written in the
// GetTraceSummaries JSON shape (FaultRootCauses / ErrorRootCauses /
// ResponseTimeRootCauses elements). A trace matches when every object in the
// list matches one of the trace's root causes (fault, error or response time).
// An object matches when every field it gives matches; fields it leaves out are
// wildcards. A list in a pattern (Services, EntityPath, Exceptions, Names)
// matches when its elements match elements of the root cause's list in the same
// order, possibly with others in between. Strings compare case-sensitively.
// Plain values; thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "xray/trace.h"

namespace roentgen::filter {

struct ExceptionPattern {
  std::optional<std::string> name;
  std::optional<std::string> message;
};

struct EntityPattern {
  std::optional<std::string> name;
  std::optional<bool> remote;
  std::optional<double> coverage;
  std::optional<std::vector<ExceptionPattern>> exceptions;
};

struct ServicePattern {
  std::optional<std::string> name;
  std::optional<std::vector<std::string>> names;
  std::optional<std::string> type;
  std::optional<std::string> account_id;
  std::optional<bool> inferred;
  std::optional<std::vector<EntityPattern>> entity_path;
};

struct RootCausePattern {
  std::optional<bool> client_impacting;
  std::optional<std::vector<ServicePattern>> services;
};

// Parses the JSON list (the text after '#'). Errors are InvalidArgument with a
// message naming the offending field (no column: the caller adds it).
Result<std::vector<RootCausePattern>> ParseRootCausePatterns(std::string_view json);

bool MatchesPattern(const RootCausePattern& pattern, const xray::RootCause& cause);

}  // namespace roentgen::filter
