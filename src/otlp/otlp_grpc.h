// OTLP/gRPC trace ingest: opentelemetry.proto.collector.trace.v1.TraceService/
// Export on its own listen address (default 127.0.0.1:4317, OTLP's port).
//
// Each Export is answered once the accepted spans are durable (gRPC's callback
// API: no thread waits on the pipeline). Status codes: OK (with
// partial_success for spans not stored), UNAVAILABLE when the pipeline could
// not store the batch (retryable), RESOURCE_EXHAUSTED for a message over
// max_message_bytes (gRPC's own check). gzip request compression is handled by
// gRPC. Metrics: roentgen_otlp_grpc_requests_total{code} and the ExportService
// span counters (transport="grpc").
//
// Lifetime: the sink's target and the registry must outlive the server. Call
// Stop() (also run by the destructor) before stopping the pipeline: it stops
// accepting calls and waits up to `drain_timeout` for calls in flight.
// Thread safety: Start/Stop/port from one controlling thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "common/metrics.h"
#include "common/status.h"
#include "otlp/export_service.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace roentgen::otlp {

struct OtlpGrpcConfig {
  std::string listen = "127.0.0.1:4317";  // host:port; port 0 picks a free one
  size_t max_message_bytes = 32 << 20;    // as the HTTP body limit
  std::chrono::seconds drain_timeout{10};
  TranslatorOptions translator;
  Status Validate() const;
};

class OtlpGrpcServer {
 public:
  OtlpGrpcServer(OtlpGrpcConfig config, DocumentSink sink, MetricsRegistry& metrics);
  ~OtlpGrpcServer();
  OtlpGrpcServer(const OtlpGrpcServer&) = delete;
  OtlpGrpcServer& operator=(const OtlpGrpcServer&) = delete;

  // Binds and starts serving. Errors: InvalidArgument (config), IOError (the
  // address cannot be bound).
  Status Start();
  void Stop();                        // idempotent
  int port() const { return port_; }  // the bound port, 0 before Start()

 private:
  class Service;
  OtlpGrpcConfig config_;
  MetricsRegistry& metrics_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace roentgen::otlp
