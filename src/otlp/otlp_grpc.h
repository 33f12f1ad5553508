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
// TLS: with a certificate and key (PEM files, those of the HTTPS listener)
// the port speaks only TLS (1.2 or later, gRPC's defaults: ECDHE with
// AES-GCM), and plaintext calls fail their handshake. With a client CA too,
// every call must come over a connection whose client certificate that CA
// signed (mutual TLS): the only authentication OTLP/gRPC has here, since
// SigV4 is not defined for gRPC. The files are read at Start(); a new
// certificate needs a restart of the listener.
//
// Lifetime: the sink's target and the registry must outlive the server. Call
// Stop() (also run by the destructor) before stopping the pipeline: it stops
// accepting calls and waits up to `drain_timeout` for calls in flight.
// Thread safety: Start/Stop/ReloadTls/port from one controlling thread.
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

class GrpcTlsCertificates;  // otlp/grpc_tls.h

struct OtlpGrpcConfig {
  std::string listen = "127.0.0.1:4317";  // host:port; port 0 picks a free one
  size_t max_message_bytes = 32 << 20;    // as the HTTP body limit
  std::chrono::seconds drain_timeout{10};
  TranslatorOptions translator;
  // TLS: both or neither (PEM: the certificate then any intermediates; the
  // unencrypted private key).
  std::string tls_cert_file;
  std::string tls_key_file;
  // Mutual TLS: PEM certificates of the CAs whose client certificates are
  // required; needs tls_cert_file. Empty: no client certificate asked for.
  std::string client_ca_file;
  bool tls() const { return !tls_cert_file.empty(); }
  Status Validate() const;
};

class OtlpGrpcServer {
 public:
  OtlpGrpcServer(OtlpGrpcConfig config, DocumentSink sink, MetricsRegistry& metrics);
  ~OtlpGrpcServer();
  OtlpGrpcServer(const OtlpGrpcServer&) = delete;
  OtlpGrpcServer& operator=(const OtlpGrpcServer&) = delete;

  // Binds and starts serving. Errors: InvalidArgument (config, a file that
  // holds no PEM certificate or key), IOError (a file cannot be read, the
  // address cannot be bound).
  Status Start();
  void Stop();                        // idempotent
  int port() const { return port_; }  // the bound port, 0 before Start()

  // Reads the certificate, key and client CA files again: connections made
  // from then on use them, open ones keep theirs. On error (as Start()'s for
  // the files) the ones in use stay. Without TLS, or before Start(): OK,
  // nothing to do.
  Status ReloadTls();

 private:
  class Service;
  OtlpGrpcConfig config_;
  MetricsRegistry& metrics_;
  std::unique_ptr<Service> service_;
  // Declared before server_: gRPC asks it for the certificate at each
  // handshake until the server is gone.
  std::unique_ptr<GrpcTlsCertificates> certificates_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace roentgen::otlp
