// JSON bodies of X-Ray's service-graph responses (restJson1): GetServiceGraph,
// GetTraceGraph and GetTimeSeriesServiceStatistics. Timestamps are epoch
// seconds as JSON numbers; empty optional members are omitted, as AWS does.
// Pure functions, thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "graph/rollup_store.h"
#include "graph/service_graph.h"

namespace roentgen::graph {

nlohmann::json ToJson(const SummaryStatistics& stats);
nlohmann::json ToJson(const std::vector<HistogramEntry>& histogram);
nlohmann::json ToJson(const Service& service);
// {"Services": [...], "StartTime", "EndTime", "ContainsOldGroupVersions"}.
nlohmann::json ToJson(const ServiceGraphResult& result);
// {"Services": [...]}: the GetTraceGraph body.
nlohmann::json TraceGraphToJson(const ServiceGraphResult& result);
// {"TimeSeriesServiceStatistics": [...], "ContainsOldGroupVersions": false}.
nlohmann::json ToJson(const std::vector<TimeSeriesPoint>& points);

}  // namespace roentgen::graph
