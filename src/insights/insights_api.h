// X-Ray's insight APIs over an InsightStore (docs/api.md, "Insights"):
//   GetInsightSummaries    POST /InsightSummaries
//     {States?[0–1], GroupARN? | GroupName?, StartTime, EndTime, MaxResults? 1–100, NextToken?}
//   GetInsight             POST /Insight            {InsightId}
//   GetInsightEvents       POST /InsightEvents      {InsightId, MaxResults? 1–50, NextToken?}
//   GetInsightImpactGraph  POST /InsightImpactGraph {InsightId, StartTime, EndTime, NextToken?}
// Every error is InvalidRequestException, as in X-Ray's model (an unknown
// InsightId too: the model has no ResourceNotFound for these operations).
#pragma once

#include "api/group_registry.h"
#include "api/http.h"
#include "common/clock.h"
#include "insights/group_graph.h"
#include "insights/insight_store.h"

namespace roentgen::insights {

// The arguments must outlive the router.
void RegisterInsightsApis(api::Router& router, const InsightStore& insights,
                          const api::GroupRegistry& groups, const GroupGraphs& graphs,
                          const Clock& clock);

}  // namespace roentgen::insights
