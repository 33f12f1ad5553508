// X-Ray's JSON shapes for trace summaries (GetTraceSummaries) and the pieces
// other APIs share (ServiceId). Field names and nesting are exactly the API
// model's; times are epoch seconds, durations seconds, both JSON numbers.
// Optional values the trace does not have are omitted, as X-Ray does.
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "xray/trace.h"

namespace roentgen::api {

// {"Name", "Names", "AccountId", "Type"}
nlohmann::json ServiceIdJson(const xray::ServiceId& id);
// {"StringValue"} | {"NumberValue"} | {"BooleanValue"}
nlohmann::json AnnotationValueJson(const xray::AnnotationValue& value);
// One TraceSummary; MatchedEventTime is set when `matched_event_us` is.
nlohmann::json TraceSummaryJson(const xray::TraceSummary& summary,
                                std::optional<int64_t> matched_event_us);
// Appends to `out` exactly the text TraceSummaryJson(...).dump() gives (keys
// in the same order, numbers and strings formatted alike), written directly:
// a page of GetTraceSummaries otherwise spends most of its time building,
// serializing and freeing the summaries' trees of JSON objects.
void AppendTraceSummaryJson(std::string& out, const xray::TraceSummary& summary,
                            std::optional<int64_t> matched_event_us);

}  // namespace roentgen::api
