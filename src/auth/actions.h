// Actions: what a key may call, named as IAM names them ("xray:GetTraceSummaries"),
// with Roentgen's own API under "roentgen:" ("roentgen:TraceAnalytics"); the
// mapping from each HTTP route to its action; the routes that stay open; and
// IAM-style patterns ("xray:*", "xray:Get*", "*"; '*' any run of characters,
// '?' one character, compared case-insensitively as IAM compares actions).
//
// Pure functions over constant tables, thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace roentgen::auth {

// The action a request to `path` needs: X-Ray's for X-Ray's API paths (POST
// /TraceSummaries → "xray:GetTraceSummaries", every path of X-Ray's API model),
// "xray:PutSpans" for OTLP/HTTP's /v1/traces (AWS's action for its OTLP
// endpoint), "roentgen:<Operation>" for /roentgen/<Operation>; nullopt for any
// other path.
std::optional<std::string> ActionForPath(std::string_view path);

// Routes served to anyone: GET/HEAD /healthz, /metrics and the web console's
// files (/, /index.html, /favicon.svg, /assets/…).
bool IsOpenRoute(std::string_view method, std::string_view path);

// A valid pattern: "*", or "<service>:<name>" with service xray or roentgen
// (either may use wildcards) and a name of letters, digits, '*' and '?'.
bool IsValidActionPattern(std::string_view pattern);

// IAM's match: '*' any run, '?' one character, case-insensitive.
bool ActionMatches(std::string_view pattern, std::string_view action);

// Whether any of `patterns` allows `action`.
bool AnyAllows(std::span<const std::string> patterns, std::string_view action);

// Whether every action `inner` can match is also matched by `outer`, decided
// conservatively (false when unsure): outer is "*", or equal to inner (case
// aside), or inner has no wildcard and outer matches it, or outer is a prefix
// followed by one final '*' (with no other wildcard) that begins inner.
bool PatternCovers(std::string_view outer, std::string_view inner);

}  // namespace roentgen::auth
