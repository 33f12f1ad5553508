#include "auth/actions.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace roentgen::auth {
namespace {

// X-Ray's API model (2016-04-12): every operation is POST /<path>.
constexpr std::array<std::pair<std::string_view, std::string_view>, 38> kXRayRoutes = {{
    {"/CancelTraceRetrieval", "CancelTraceRetrieval"},
    {"/CreateGroup", "CreateGroup"},
    {"/CreateSamplingRule", "CreateSamplingRule"},
    {"/DeleteGroup", "DeleteGroup"},
    {"/DeleteResourcePolicy", "DeleteResourcePolicy"},
    {"/DeleteSamplingRule", "DeleteSamplingRule"},
    {"/EncryptionConfig", "GetEncryptionConfig"},
    {"/GetGroup", "GetGroup"},
    {"/GetIndexingRules", "GetIndexingRules"},
    {"/GetRetrievedTracesGraph", "GetRetrievedTracesGraph"},
    {"/GetSamplingRules", "GetSamplingRules"},
    {"/GetTraceSegmentDestination", "GetTraceSegmentDestination"},
    {"/Groups", "GetGroups"},
    {"/Insight", "GetInsight"},
    {"/InsightEvents", "GetInsightEvents"},
    {"/InsightImpactGraph", "GetInsightImpactGraph"},
    {"/InsightSummaries", "GetInsightSummaries"},
    {"/ListResourcePolicies", "ListResourcePolicies"},
    {"/ListRetrievedTraces", "ListRetrievedTraces"},
    {"/ListTagsForResource", "ListTagsForResource"},
    {"/PutEncryptionConfig", "PutEncryptionConfig"},
    {"/PutResourcePolicy", "PutResourcePolicy"},
    {"/SamplingStatisticSummaries", "GetSamplingStatisticSummaries"},
    {"/SamplingTargets", "GetSamplingTargets"},
    {"/ServiceGraph", "GetServiceGraph"},
    {"/StartTraceRetrieval", "StartTraceRetrieval"},
    {"/TagResource", "TagResource"},
    {"/TelemetryRecords", "PutTelemetryRecords"},
    {"/TimeSeriesServiceStatistics", "GetTimeSeriesServiceStatistics"},
    {"/TraceGraph", "GetTraceGraph"},
    {"/TraceSegments", "PutTraceSegments"},
    {"/TraceSummaries", "GetTraceSummaries"},
    {"/Traces", "BatchGetTraces"},
    {"/UntagResource", "UntagResource"},
    {"/UpdateGroup", "UpdateGroup"},
    {"/UpdateIndexingRule", "UpdateIndexingRule"},
    {"/UpdateSamplingRule", "UpdateSamplingRule"},
    {"/UpdateTraceSegmentDestination", "UpdateTraceSegmentDestination"},
}};

constexpr std::string_view kRoentgenPrefix = "/roentgen/";

char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '*' || c == '?';
}

bool HasWildcard(std::string_view s) { return s.find_first_of("*?") != std::string_view::npos; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return Lower(x) == Lower(y); });
}

}  // namespace

std::optional<std::string> ActionForPath(std::string_view path) {
  for (const auto& [route, operation] : kXRayRoutes) {
    if (path == route) return "xray:" + std::string(operation);
  }
  if (path == "/v1/traces") return std::string("xray:PutSpans");
  if (path.starts_with(kRoentgenPrefix)) {
    const std::string_view operation = path.substr(kRoentgenPrefix.size());
    if (!operation.empty() && std::all_of(operation.begin(), operation.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c));
        })) {
      return "roentgen:" + std::string(operation);
    }
  }
  return std::nullopt;
}

bool IsOpenRoute(std::string_view method, std::string_view path) {
  if (method != "GET" && method != "HEAD") return false;
  return path == "/healthz" || path == "/metrics" || path == "/" || path == "/index.html" ||
         path == "/favicon.svg" || path.starts_with("/assets/");
}

bool IsValidActionPattern(std::string_view pattern) {
  if (pattern == "*") return true;
  const size_t colon = pattern.find(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view service = pattern.substr(0, colon);
  const std::string_view name = pattern.substr(colon + 1);
  if (service.empty() || name.empty()) return false;
  if (!std::all_of(service.begin(), service.end(), IsNameChar)) return false;
  if (!std::all_of(name.begin(), name.end(), IsNameChar)) return false;
  // The service part names xray or roentgen (or matches one of them).
  return ActionMatches(service, "xray") || ActionMatches(service, "roentgen");
}

bool ActionMatches(std::string_view pattern, std::string_view action) {
  // Iterative glob with backtracking to the last '*'.
  size_t p = 0, a = 0, star = std::string_view::npos, mark = 0;
  while (a < action.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || Lower(pattern[p]) == Lower(action[a]))) {
      ++p;
      ++a;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = a;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      a = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool AnyAllows(std::span<const std::string> patterns, std::string_view action) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return ActionMatches(p, action); });
}

bool PatternCovers(std::string_view outer, std::string_view inner) {
  if (outer == "*" || EqualsIgnoreCase(outer, inner)) return true;
  if (!HasWildcard(inner)) return ActionMatches(outer, inner);
  if (outer.ends_with('*')) {
    const std::string_view prefix = outer.substr(0, outer.size() - 1);
    if (!HasWildcard(prefix) && inner.size() >= prefix.size() &&
        EqualsIgnoreCase(prefix, inner.substr(0, prefix.size()))) {
      return true;
    }
  }
  return false;
}

}  // namespace roentgen::auth
