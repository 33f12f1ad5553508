#include "otlp/otlp_grpc.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/message_allocator.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
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

Result<std::string> ReadFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) {
    return Status::IOError(
        fmt::format("otlp grpc: cannot read the {} file {}: {}", what, path, std::strerror(errno)));
  }
  return text.str();
}

// Never asks for a passphrase: an encrypted key is refused.
int NoPassphrase(char*, int, int, void*) { return -1; }

// The certificates in `pem` (0 when it holds none OpenSSL accepts); the first
// one is kept in `first` when given.
int CountCertificates(const std::string& pem, X509** first = nullptr) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  int count = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    if (count++ == 0 && first != nullptr) {
      *first = cert;
    } else {
      X509_free(cert);
    }
  }
  BIO_free(bio);
  ERR_clear_error();
  return count;
}

// gRPC takes the PEM text and would only fail at the first handshake: the
// files are checked here, as the HTTPS listener checks its own.
Status CheckKeyPair(const OtlpGrpcConfig& config, const std::string& cert_pem,
                    const std::string& key_pem) {
  X509* cert = nullptr;
  if (CountCertificates(cert_pem, &cert) == 0) {
    return Status::InvalidArgument(fmt::format(
        "otlp grpc: the certificate file {} holds no PEM certificate", config.tls_cert_file));
  }
  BIO* bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, NoPassphrase, nullptr);
  BIO_free(bio);
  const bool matches = key != nullptr && X509_check_private_key(cert, key) == 1;
  X509_free(cert);
  EVP_PKEY_free(key);
  ERR_clear_error();
  if (key == nullptr) {
    return Status::InvalidArgument(
        fmt::format("otlp grpc: the private key file {} holds no unencrypted PEM private key",
                    config.tls_key_file));
  }
  if (!matches) {
    return Status::InvalidArgument(
        fmt::format("otlp grpc: the private key in {} does not belong to the certificate in {}",
                    config.tls_key_file, config.tls_cert_file));
  }
  return Status::Ok();
}

Result<std::shared_ptr<grpc::ServerCredentials>> Credentials(const OtlpGrpcConfig& config) {
  if (!config.tls()) return grpc::InsecureServerCredentials();
  Result<std::string> cert = ReadFile(config.tls_cert_file, "certificate");
  if (!cert.ok()) return cert.status();
  Result<std::string> key = ReadFile(config.tls_key_file, "private key");
  if (!key.ok()) return key.status();
  RG_RETURN_IF_ERROR(CheckKeyPair(config, *cert, *key));
  grpc::SslServerCredentialsOptions options(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.pem_key_cert_pairs.push_back({*key, *cert});
  if (!config.client_ca_file.empty()) {
    Result<std::string> ca = ReadFile(config.client_ca_file, "client CA");
    if (!ca.ok()) return ca.status();
    if (CountCertificates(*ca) == 0) {
      return Status::InvalidArgument(fmt::format(
          "otlp grpc: the client CA file {} holds no PEM certificate", config.client_ca_file));
    }
    options.pem_root_certs = *ca;
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

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
  Result<std::shared_ptr<grpc::ServerCredentials>> credentials = Credentials(config_);
  if (!credentials.ok()) return credentials.status();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config_.listen, *credentials, &port_);
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

void OtlpGrpcServer::Stop() {
  if (server_ == nullptr) return;
  server_->Shutdown(std::chrono::system_clock::now() + config_.drain_timeout);
  server_->Wait();
  server_.reset();
}

}  // namespace roentgen::otlp
