// The request fields that select traces, shared by GetTraceSummaries
// (xray_read.cpp) and Roentgen's TraceAnalytics (trace_analytics_api.cpp):
//   StartTime, EndTime   required; the range is [StartTime, EndTime)
//   TimeRangeType        "TraceId" (default; the trace's start), "Event" (when
//                        the trace last changed) or "Service" (start time)
//   FilterExpression     optional; compiled with `groups` resolving
//                        group.name / group.arn (docs/filter-expressions.md)
// into the store scan (most recent first, narrowed by the filter's index
// hint, decoding the trace graph only when the filter reads it) and the
// filter the scan's candidates must match.
//
// Errors: InvalidArgument naming the field ("TimeRangeType: …",
// "FilterExpression: column N: …"), a range longer than `limits` allows
// (counted). Thread-safe when `groups` is.
#pragma once

#include <optional>
#include <string_view>

#include "api/json_io.h"
#include "api/limits.h"
#include "filter/filter.h"
#include "store/store.h"

namespace roentgen::api {

struct TraceQuery {
  store::ScanOptions scan;
  // Absent when there is no expression or it matches every trace.
  std::optional<filter::CompiledFilter> filter;

  // Traces the indexing rule left out are never found by a search; they stay
  // retrievable by id (ingest/indexing_policy.h).
  bool Matches(const store::TraceRecord& record) const {
    return record.summary.indexed && (!filter || filter->Matches(record));
  }
};

Result<TraceQuery> ParseTraceQuery(const RequestBody& body, const filter::GroupResolver* groups,
                                   const ApiLimits& limits);

// "TraceId", "Event" or "Service".
std::string_view TimeRangeTypeName(store::TimeRangeType type);

}  // namespace roentgen::api
