// X-Ray's restJson1 HTTP API on the Router: PutTraceSegments, PutTelemetryRecords,
// BatchGetTraces, GetTraceSummaries (and, as they land, the graph, group and
// sampling APIs). Field names, timestamps (epoch seconds as JSON numbers) and
// the error shape are exactly X-Ray's.
#pragma once

#include "api/http.h"
#include "common/metrics.h"
#include "ingest/pipeline.h"
#include "store/store.h"

namespace roentgen::api {

void RegisterXRayApi(Router& router, ingest::Pipeline& pipeline, store::Store& store,
                     MetricsRegistry& metrics);

}  // namespace roentgen::api
