// OTLP/HTTP trace ingest: POST /v1/traces on the serve port.
//
// Request: Content-Type application/x-protobuf or application/json (OTLP/JSON),
// optionally Content-Encoding: gzip (inflated by the HTTP server, which also
// answers 413 for bodies over its limit). Responses:
//   200  ExportTraceServiceResponse in the request's encoding, once every
//        accepted span is durable; partial_success counts and explains the
//        spans not stored;
//   400  a body that does not decode (google.rpc.Status body);
//   415  another content type;
//   503  the pipeline could not store the batch (retryable).
// Metrics: roentgen_otlp_http_requests_total{status} here, plus the
// ExportService span counters and the HTTP server's per-route counters.
// Lifetime: the pipeline (or sink) and the registry must outlive the router's
// use of the handler. Thread safety: the handler is thread-safe.
#pragma once

#include "api/http.h"
#include "common/metrics.h"
#include "ingest/pipeline.h"
#include "ingest/spool.h"
#include "otlp/export_service.h"

namespace roentgen::otlp {

inline constexpr const char* kOtlpHttpTracesPath = "/v1/traces";

// Registers POST /v1/traces, storing through `pipeline`.
void RegisterOtlpHttp(api::Router& router, ingest::Pipeline& pipeline, MetricsRegistry& metrics);
// The same, storing through any sink (tests, benchmarks).
void RegisterOtlpHttp(api::Router& router, DocumentSink sink, MetricsRegistry& metrics,
                      TranslatorOptions options = {});

// A DocumentSink that submits to the pipeline.
DocumentSink PipelineSink(ingest::Pipeline& pipeline);
// A DocumentSink that appends to a spool (whose consumer feeds the pipeline):
// `done` runs once the documents are durable in the spool, every document
// counted as accepted (the translator's documents are checked again, and any
// refusal counted, when the spool hands them to the pipeline); a full spool
// answers ResourceExhausted (the exporter retries).
DocumentSink SpoolSink(ingest::Spool& spool);

}  // namespace roentgen::otlp
