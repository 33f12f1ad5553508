// The transport-independent half of OTLP trace ingest: translate a decoded
// ExportTraceServiceRequest into X-Ray documents, hand them to the ingest
// pipeline (through a DocumentSink), and build the ExportTraceServiceResponse
// whose partial_success counts and explains every span not stored.
//
// Metrics (label transport = "http" | "grpc"):
//   roentgen_otlp_spans_received_total{transport}
//   roentgen_otlp_spans_rejected_total{transport,reason}  reason = invalid_span
//       (could not be translated) | rejected_document (refused by validation)
//       | storage (the pipeline could not store the batch)
//   roentgen_otlp_documents_total{transport}  X-Ray documents submitted
// Lifetime: the MetricsRegistry must outlive the service; the service must
// outlive every pending callback. Thread safety: Export may be called
// concurrently from any thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/metrics.h"
#include "common/status.h"
#include "ingest/pipeline.h"
#include "otlp/translator.h"

namespace roentgen::otlp {

// Where documents go: Pipeline::Submit, or a fake in tests. Must call `done`
// exactly once, with one outcome per document.
using DocumentSink =
    std::function<void(std::vector<std::string> documents, ingest::Pipeline::SubmitCallback done)>;

enum class Transport { kHttp, kGrpc };

class ExportService {
 public:
  ExportService(DocumentSink sink, MetricsRegistry& metrics, TranslatorOptions options = {});

  // Called once: OK with the response (documents durable, rejected spans
  // counted in partial_success), or the pipeline's failure status (nothing
  // can be said about what was stored: the client should retry).
  using ExportCallback = std::function<void(Status, ExportTraceServiceResponse)>;
  void Export(const ExportTraceServiceRequest& request, Transport transport, ExportCallback done);

 private:
  struct TransportMetrics {
    Counter* received;
    Counter* invalid;
    Counter* rejected;
    Counter* storage;
    Counter* documents;
  };
  TransportMetrics& Metrics(Transport t) { return t == Transport::kHttp ? http_ : grpc_; }
  static TransportMetrics MakeMetrics(MetricsRegistry& m, const char* transport);

  DocumentSink sink_;
  TranslatorOptions options_;
  TransportMetrics http_;
  TransportMetrics grpc_;
};

}  // namespace roentgen::otlp
