// The request fields that select traces, shared by GetTraceSummaries
// (xray_read.cpp) and Roentgen's TraceAnalytics (trace_analytics_api.cpp):
//   StartTime, EndTime   required; the range is [StartTime, EndTime)
//   TimeRangeType        "TraceId" (default; the trace's start), "Event" (when
//                        the trace last changed) or "Service" (start time)
//   FilterExpression     optional; compiled with `groups` resolving
//                        group.name / group.arn (docs/filter-expressions.md)
// into the store scan: most recent first, searchable traces only (the
// indexing rule's others are never found by a search; they stay retrievable
// by id, ingest/indexing_policy.h), the compiled filter, and no trace graphs
// (the callers read summaries). The store returns only the matching traces.
//
// Errors: InvalidArgument naming the field ("TimeRangeType: …",
// "FilterExpression: column N: …"), a range longer than `limits` allows
// (counted). Thread-safe when `groups` is.
#pragma once

#include <string_view>

#include "api/json_io.h"
#include "api/limits.h"
#include "filter/filter.h"
#include "store/store.h"

namespace roentgen::api {

struct TraceQuery {
  // scan.filter is absent when there is no expression or it matches every trace.
  store::ScanOptions scan;
};

Result<TraceQuery> ParseTraceQuery(const RequestBody& body, const filter::GroupResolver* groups,
                                   const ApiLimits& limits);

// "TraceId", "Event" or "Service".
std::string_view TimeRangeTypeName(store::TimeRangeType type);

}  // namespace roentgen::api
