// X-Ray's restJson1 HTTP API on the Router: PutTraceSegments, PutTelemetryRecords,
// BatchGetTraces, GetTraceSummaries, the group APIs (CreateGroup, GetGroup,
// GetGroups, UpdateGroup, DeleteGroup), the centralized sampling APIs
// (CreateSamplingRule, UpdateSamplingRule, DeleteSamplingRule, GetSamplingRules,
// GetSamplingTargets, GetSamplingStatisticSummaries), the tag APIs
// (TagResource, UntagResource, ListTagsForResource), the account configuration
// (Get/Put EncryptionConfig, Get/UpdateTraceSegmentDestination, Put/List/Delete
// ResourcePolicy) and, with RegisterServiceMapApis, the service-map APIs.
// Field names, timestamps (epoch seconds as JSON numbers) and
// the error shape are exactly X-Ray's. RegisterXRayApi also registers Roentgen's
// own extension TraceAnalytics (POST /roentgen/TraceAnalytics, docs/api.md
// "Roentgen extensions"), which X-Ray does not have.
#pragma once

#include "api/http.h"
#include "api/indexing_rules.h"
#include "api/limits.h"
#include "api/trace_retrieval.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "graph/rollup_store.h"
#include "ingest/pipeline.h"
#include "store/store.h"

namespace roentgen::api {

// `limits`: the query limits an operator set; every limit is counted in
// `metrics` (roentgen_limits_exceeded_total, limits.h). `clock` times the
// sampling rules' CreatedAt / ModifiedAt and the sampling statistics; it must
// outlive the router.
void RegisterXRayApi(Router& router, ingest::Pipeline& pipeline, store::Store& store,
                     MetricsRegistry& metrics, const QueryLimits& limits,
                     const Clock& clock = Clock::System());
// The same, PutTraceSegments handing its documents to `put` (the pipeline,
// or the API spool in front of it: ingest/put_spool.h).
void RegisterXRayApi(Router& router, ingest::SubmitSink put, store::Store& store,
                     MetricsRegistry& metrics, const QueryLimits& limits,
                     const Clock& clock = Clock::System());

// GetServiceGraph, GetTraceGraph and GetTimeSeriesServiceStatistics over the
// rollups the pipeline keeps (PipelineConfig::rollups) and the store. The
// rollups must outlive the router.
void RegisterServiceMapApis(Router& router, store::Store& store, graph::RollupStore& rollups,
                            MetricsRegistry& metrics, const QueryLimits& limits);

// StartTraceRetrieval, ListRetrievedTraces, GetRetrievedTracesGraph and
// CancelTraceRetrieval over `retrievals` (which must outlive the router).
void RegisterTraceRetrievalApis(Router& router, TraceRetrievals& retrievals, store::Store& store,
                                MetricsRegistry& metrics, const QueryLimits& limits);

// GetIndexingRules and UpdateIndexingRule over `rules` (which must outlive
// the router).
void RegisterIndexingRuleApis(Router& router, IndexingRules& rules);

}  // namespace roentgen::api
