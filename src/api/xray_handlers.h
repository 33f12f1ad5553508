// The X-Ray API families and Roentgen's extensions, registered by
// RegisterXRayApi (xray_api.h). One function per handler file; see each .cpp
// for the operations and their limits.
#pragma once

#include <memory>

#include "api/account_settings.h"
#include "api/group_registry.h"
#include "api/http.h"
#include "api/limits.h"
#include "api/resource_policies.h"
#include "api/tags.h"
#include "api/trace_retrieval.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "graph/rollup_store.h"
#include "ingest/pipeline.h"
#include "sampling/rule_registry.h"
#include "store/store.h"

namespace roentgen::api {

// Each takes the limits its handlers check and count (limits.h), shared
// among them.

// xray_put.cpp: PutTraceSegments (POST /TraceSegments), PutTelemetryRecords
// (POST /TelemetryRecords).
// PutTraceSegments hands its documents to `put` (the pipeline, or a spool in
// front of it: ingest/put_spool.h).
void RegisterPutApis(Router& router, ingest::SubmitSink put, MetricsRegistry& metrics,
                     std::shared_ptr<const ApiLimits> limits);

// xray_read.cpp: BatchGetTraces (POST /Traces), GetTraceSummaries
// (POST /TraceSummaries). `groups` resolves group.name / group.arn in filters.
void RegisterReadApis(Router& router, store::Store& store,
                      std::shared_ptr<const filter::GroupResolver> groups,
                      std::shared_ptr<const ApiLimits> limits);

// xray_groups.cpp: CreateGroup, GetGroup, GetGroups (POST /Groups), UpdateGroup,
// DeleteGroup.
void RegisterGroupApis(Router& router, std::shared_ptr<GroupRegistry> groups);

// xray_sampling.cpp: CreateSamplingRule, UpdateSamplingRule, DeleteSamplingRule,
// GetSamplingRules, GetSamplingTargets (POST /SamplingTargets),
// GetSamplingStatisticSummaries (POST /SamplingStatisticSummaries). The
// statistics and the clients of each rule live in memory, timed by `clock`
// (which must outlive the router).
void RegisterSamplingApis(Router& router, std::shared_ptr<sampling::RuleRegistry> rules,
                          const Clock& clock);
// The same, choosing where the clients and statistics live: over a store that
// several Roentgen processes share (Store::DerivesRecords), in `store` (which
// must outlive the router), so every process answers as one would; otherwise
// in memory, as above.
void RegisterSamplingApis(Router& router, std::shared_ptr<sampling::RuleRegistry> rules,
                          store::Store& store, const Clock& clock);

// xray_tags.cpp: TagResource, UntagResource, ListTagsForResource, for every
// kind of resource registered with `tags`.
void RegisterTagApis(Router& router, std::shared_ptr<TagService> tags);

// xray_account.cpp: GetEncryptionConfig (POST /EncryptionConfig),
// PutEncryptionConfig, GetTraceSegmentDestination,
// UpdateTraceSegmentDestination, PutResourcePolicy, ListResourcePolicies,
// DeleteResourcePolicy.
void RegisterAccountApis(Router& router, std::shared_ptr<AccountSettings> settings,
                         std::shared_ptr<ResourcePolicyRegistry> policies);

// xray_graph.cpp: GetServiceGraph (POST /ServiceGraph), GetTraceGraph
// (POST /TraceGraph), GetTimeSeriesServiceStatistics
// (POST /TimeSeriesServiceStatistics).
void RegisterGraphApis(Router& router, store::Store& store, graph::RollupStore& rollups,
                       std::shared_ptr<const ApiLimits> limits);

// trace_analytics_api.cpp: Roentgen's TraceAnalytics extension (POST
// /roentgen/TraceAnalytics), aggregates over the traces a filter matches.
// `groups` resolves group.name / group.arn in filters.
void RegisterAnalyticsApis(Router& router, store::Store& store,
                           std::shared_ptr<const filter::GroupResolver> groups,
                           std::shared_ptr<const ApiLimits> limits);

// xray_retrieval.cpp: StartTraceRetrieval, ListRetrievedTraces,
// GetRetrievedTracesGraph, CancelTraceRetrieval over `retrievals`, which must
// outlive the router.
void RegisterRetrievalApis(Router& router, TraceRetrievals& retrievals, store::Store& store,
                           std::shared_ptr<const ApiLimits> limits);

}  // namespace roentgen::api
