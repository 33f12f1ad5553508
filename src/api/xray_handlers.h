// The X-Ray API families, registered by RegisterXRayApi (xray_api.h). One
// function per handler file; see each .cpp for the operations and their limits.
#pragma once

#include "api/http.h"
#include "common/metrics.h"
#include "ingest/pipeline.h"
#include "store/store.h"

namespace roentgen::api {

// xray_put.cpp: PutTraceSegments (POST /TraceSegments), PutTelemetryRecords
// (POST /TelemetryRecords).
void RegisterPutApis(Router& router, ingest::Pipeline& pipeline, MetricsRegistry& metrics);

// xray_read.cpp: BatchGetTraces (POST /Traces), GetTraceSummaries
// (POST /TraceSummaries).
void RegisterReadApis(Router& router, store::Store& store);

}  // namespace roentgen::api
