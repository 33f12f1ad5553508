#include "otlp/otlp_grpc.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/message_allocator.h>
#include <spdlog/spdlog.h>

#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "otlp/grpc_tls.h"
#include "otlp/otlp_decode.h"

namespace roentgen::otlp {

using opentelemetry::proto::collector::trace::v1::TraceService;

namespace {

// An Export call's messages, the request on a protobuf arena as OTLP/HTTP
// decodes it (ArenaRequest, otlp_decode.h). gRPC allocates them before it
// reads the body, so the arena is sized for a typical 512-span batch.
class ArenaMessages final
    : public grpc::MessageHolder<ExportTraceServiceRequest, ExportTraceServiceResponse> {
 public:
  static constexpr size_t kExpectedRequestBytes = 128 * 1024;
  ArenaMessages() : request_(kExpectedRequestBytes) {
    set_request(&request_.request());
    set_response(&response_);
  }
  void Release() override { delete this; }

 private:
  ArenaRequest request_;
  ExportTraceServiceResponse response_;
};

class ArenaMessageAllocator final
    : public grpc::MessageAllocator<ExportTraceServiceRequest, ExportTraceServiceResponse> {
 public:
  grpc::MessageHolder<ExportTraceServiceRequest, ExportTraceServiceResponse>* AllocateMessages()
      override {
    return new ArenaMessages();
  }
};

}  // namespace

class OtlpGrpcServer::Service final : public TraceService::CallbackService {
 public:
  Service(DocumentSink sink, MetricsRegistry& metrics, TranslatorOptions options)
      : export_(std::move(sink), metrics, std::move(options)), metrics_(metrics) {
    SetMessageAllocatorFor_Export(&allocator_);
  }

  grpc::ServerUnaryReactor* Export(grpc::CallbackServerContext* context,
                                   const ExportTraceServiceRequest* request,
                                   ExportTraceServiceResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    export_.Export(
        *request, Transport::kGrpc,
        [this, reactor, response](Status status, ExportTraceServiceResponse result) {
          if (!status.ok()) {
            Count("UNAVAILABLE");
            reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, status.message()));
            return;
          }
          *response = std::move(result);
          Count("OK");
          reactor->Finish(grpc::Status::OK);
        });
    return reactor;
  }

 private:
  void Count(const char* code) {
    metrics_
        .GetCounter("roentgen_otlp_grpc_requests_total", "OTLP/gRPC Export calls, by status code",
                    {{"code", code}})
        .Inc();
  }

  ArenaMessageAllocator allocator_;
  ExportService export_;
  MetricsRegistry& metrics_;
};

Status OtlpGrpcConfig::Validate() const {
  if (listen.empty() || listen.find(':') == std::string::npos) {
    return Status::InvalidArgument("otlp grpc listen address must be host:port, got \"" + listen +
                                   "\"");
  }
  if (max_message_bytes == 0 || max_message_bytes > (1u << 30)) {
    return Status::InvalidArgument("otlp grpc max_message_bytes must be in (0, 1 GiB]");
  }
  if (tls_cert_file.empty() != tls_key_file.empty()) {
    return Status::InvalidArgument(
        "otlp grpc: TLS needs both a certificate and a private key file");
  }
  if (!client_ca_file.empty() && !tls()) {
    return Status::InvalidArgument(
        "otlp grpc: client certificates (a client CA) need TLS: a certificate and a private key");
  }
  return Status::Ok();
}

OtlpGrpcServer::OtlpGrpcServer(OtlpGrpcConfig config, DocumentSink sink, MetricsRegistry& metrics)
    : config_(std::move(config)),
      metrics_(metrics),
      service_(std::make_unique<Service>(std::move(sink), metrics, config_.translator)) {}

OtlpGrpcServer::~OtlpGrpcServer() { Stop(); }

Status OtlpGrpcServer::Start() {
  RG_RETURN_IF_ERROR(config_.Validate());
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (config_.tls()) {
    Result<std::unique_ptr<GrpcTlsCertificates>> loaded = GrpcTlsCertificates::Load(
        {config_.tls_cert_file, config_.tls_key_file, config_.client_ca_file});
    if (!loaded.ok()) return loaded.status();
    certificates_ = std::move(loaded).value();
    credentials = certificates_->Credentials();
  }
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config_.listen, credentials, &port_);
  builder.SetMaxReceiveMessageSize(static_cast<int>(config_.max_message_bytes));
  // Without this gRPC binds with SO_REUSEPORT and a busy port goes unnoticed.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    server_.reset();
    port_ = 0;
    return Status::IOError("cannot listen for OTLP/gRPC on " + config_.listen);
  }
  spdlog::info("OTLP/gRPC listening on {} (port {}, {})", config_.listen, port_,
               !config_.tls() ? "plaintext"
               : config_.client_ca_file.empty()
                   ? "TLS"
                   : "TLS, client certificates from " + config_.client_ca_file + " required");
  return Status::Ok();
}

Status OtlpGrpcServer::ReloadTls() {
  if (server_ == nullptr || certificates_ == nullptr) return Status::Ok();
  return certificates_->Reload();
}

void OtlpGrpcServer::Stop() {
  if (server_ == nullptr) return;
  server_->Shutdown(std::chrono::system_clock::now() + config_.drain_timeout);
  server_->Wait();
  server_.reset();
}

}  // namespace roentgen::otlp
