// TraceService/Export over a real gRPC channel on loopback.
#include "otlp/otlp_grpc.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/testing/test_certificate.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "otlp/otlp_test_util.h"

namespace roentgen::otlp {
namespace {

using namespace roentgen::otlp::testing;
using api::testing::TestCertificate;
using opentelemetry::proto::collector::trace::v1::TraceService;
using pb_trace::Span;

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class OtlpGrpcTest : public ::testing::Test {
 protected:
  // Without `credentials` the client is plaintext.
  void StartServer(OtlpGrpcConfig config = {},
                   std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr) {
    config.listen = "127.0.0.1:0";
    config.translator = TestOptions();
    server_ = std::make_unique<OtlpGrpcServer>(
        config,
        [this](std::vector<std::string> docs, ingest::Pipeline::SubmitCallback done) {
          std::vector<ingest::DocumentOutcome> outcomes(docs.size());
          for (auto& o : outcomes) o.accepted = true;
          {
            std::lock_guard lock(mu_);
            for (auto& d : docs) stored_.push_back(std::move(d));
          }
          // Answer from another thread, as the pipeline's writer does.
          std::thread([done = std::move(done), fail = fail_,
                       outcomes = std::move(outcomes)]() mutable {
            done(fail, fail.ok() ? std::move(outcomes) : std::vector<ingest::DocumentOutcome>{});
          }).detach();
        },
        metrics_);
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_GT(server_->port(), 0);
    stub_ = Stub(credentials != nullptr ? credentials : grpc::InsecureChannelCredentials());
  }

  // Each stub has a connection of its own (no subchannel shared with another
  // channel), made at its first call.
  std::unique_ptr<TraceService::Stub> Stub(std::shared_ptr<grpc::ChannelCredentials> credentials) {
    grpc::ChannelArguments args;
    args.SetCompressionAlgorithm(GRPC_COMPRESS_GZIP);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return TraceService::NewStub(grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(server_->port()), credentials, args));
  }

  // Trusts `ca_file`; presents `client` when given.
  static std::shared_ptr<grpc::ChannelCredentials> Tls(const std::string& ca_file,
                                                       const TestCertificate* client = nullptr) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadText(ca_file);
    if (client != nullptr) {
      options.pem_private_key = ReadText(client->key_file());
      options.pem_cert_chain = ReadText(client->cert_file());
    }
    return grpc::SslCredentials(options);
  }

  static ExportTraceServiceRequest OneSpan() {
    ExportTraceServiceRequest req;
    AddSpan(AddResource(req, "payments"), "1111111111111111", "", Span::SPAN_KIND_SERVER);
    return req;
  }

  static grpc::Status ExportWith(TraceService::Stub& stub, const ExportTraceServiceRequest& req) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ExportTraceServiceResponse resp;
    return stub.Export(&ctx, req, &resp);
  }

  // Exports one span with `stub`: the certificate the server presented on
  // its connection (PEM), or the failed call's status.
  static Result<std::string> PresentedCertificate(TraceService::Stub& stub) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ExportTraceServiceResponse resp;
    grpc::Status status = stub.Export(&ctx, OneSpan(), &resp);
    if (!status.ok()) {
      return Status::Unavailable(
          fmt::format("{}: {}", static_cast<int>(status.error_code()), status.error_message()));
    }
    std::vector<grpc::string_ref> pem =
        ctx.auth_context()->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
    if (pem.size() != 1) return Status::Internal("no peer certificate");
    return std::string(pem[0].data(), pem[0].size());
  }

  size_t Stored() {
    std::lock_guard lock(mu_);
    return stored_.size();
  }

  grpc::Status Export(const ExportTraceServiceRequest& req, ExportTraceServiceResponse* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub_->Export(&ctx, req, resp);
  }

  MetricsRegistry metrics_;
  std::mutex mu_;
  std::vector<std::string> stored_;
  Status fail_;
  std::unique_ptr<OtlpGrpcServer> server_;
  std::unique_ptr<TraceService::Stub> stub_;
};

TEST_F(OtlpGrpcTest, ExportStoresSegmentsAndReportsPartialSuccess) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "payments");
  AddSpan(rs, "1111111111111111", "", Span::SPAN_KIND_SERVER);
  AddSpan(rs, "2222222222222222", "", Span::SPAN_KIND_SERVER)->set_span_id("x");
  ExportTraceServiceResponse resp;
  grpc::Status status = Export(req, &resp);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.partial_success().rejected_spans(), 1);
  EXPECT_EQ(resp.partial_success().error_message(),
            "1 of 2 spans rejected: span 78: span_id must be 8 bytes, not all zero (got 1 bytes)");
  std::lock_guard lock(mu_);
  ASSERT_EQ(stored_.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(stored_[0])["name"], "payments");
  EXPECT_EQ(metrics_.GetCounter("roentgen_otlp_grpc_requests_total", "", {{"code", "OK"}}).Value(),
            1u);
  EXPECT_EQ(metrics_.GetCounter("roentgen_otlp_spans_received_total", "", {{"transport", "grpc"}})
                .Value(),
            2u);
}

TEST_F(OtlpGrpcTest, PipelineFailureIsUnavailable) {
  fail_ = Status::Unavailable("draining");
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ExportTraceServiceRequest req;
  AddSpan(AddResource(req, "payments"), "1111111111111111", "", Span::SPAN_KIND_SERVER);
  ExportTraceServiceResponse resp;
  grpc::Status status = Export(req, &resp);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "draining");
}

TEST_F(OtlpGrpcTest, OversizeMessageIsResourceExhausted) {
  OtlpGrpcConfig config;
  config.max_message_bytes = 1024;
  ASSERT_NO_FATAL_FAILURE(StartServer(config));
  ExportTraceServiceRequest req;
  auto* s = AddSpan(AddResource(req, "payments"), "1111111111111111", "", Span::SPAN_KIND_SERVER);
  Attr(s->mutable_attributes(), "blob", std::string(4096, 'x'));
  ExportTraceServiceResponse resp;
  EXPECT_EQ(Export(req, &resp).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(OtlpGrpcTest, BusyAddressIsIOErrorAndBadConfigInvalid) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  OtlpGrpcConfig config;
  config.listen = "127.0.0.1:" + std::to_string(server_->port());
  OtlpGrpcServer second(
      config, [](auto, auto done) { done(Status::Ok(), {}); }, metrics_);
  EXPECT_EQ(second.Start().code(), StatusCode::kIOError);
  config.listen = "nohostport";
  OtlpGrpcServer third(
      config, [](auto, auto done) { done(Status::Ok(), {}); }, metrics_);
  EXPECT_EQ(third.Start().code(), StatusCode::kInvalidArgument);
}

TEST_F(OtlpGrpcTest, TlsServesClientsThatTrustTheCertificateAndRefusesPlaintext) {
  TestCertificate certificate;
  OtlpGrpcConfig config;
  config.tls_cert_file = certificate.cert_file();
  config.tls_key_file = certificate.key_file();
  ASSERT_NO_FATAL_FAILURE(StartServer(config, Tls(certificate.cert_file())));
  grpc::Status status = ExportWith(*stub_, OneSpan());
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(Stored(), 1u);

  // Plaintext to the TLS port, and TLS trusting another CA: both fail, and
  // nothing more is stored.
  EXPECT_EQ(ExportWith(*Stub(grpc::InsecureChannelCredentials()), OneSpan()).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  TestCertificate stranger;
  EXPECT_EQ(ExportWith(*Stub(Tls(stranger.cert_file())), OneSpan()).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Stored(), 1u);
}

TEST_F(OtlpGrpcTest, ClientCaRequiresACertificateItSigned) {
  TestCertificate certificate, exporter, stranger;
  OtlpGrpcConfig config;
  config.tls_cert_file = certificate.cert_file();
  config.tls_key_file = certificate.key_file();
  config.client_ca_file = exporter.cert_file();  // self-signed: its own CA
  ASSERT_NO_FATAL_FAILURE(StartServer(config, Tls(certificate.cert_file(), &exporter)));
  grpc::Status status = ExportWith(*stub_, OneSpan());
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(Stored(), 1u);

  EXPECT_EQ(ExportWith(*Stub(Tls(certificate.cert_file())), OneSpan()).error_code(),
            grpc::StatusCode::UNAVAILABLE);  // no client certificate
  EXPECT_EQ(ExportWith(*Stub(Tls(certificate.cert_file(), &stranger)), OneSpan()).error_code(),
            grpc::StatusCode::UNAVAILABLE);  // one the CA did not sign
  EXPECT_EQ(Stored(), 1u);
}

TEST_F(OtlpGrpcTest, UnusableTlsFilesStopStartWithTheFileNamed) {
  TestCertificate certificate;
  auto start = [this](OtlpGrpcConfig config) {
    config.listen = "127.0.0.1:0";
    OtlpGrpcServer server(
        config, [](auto, auto done) { done(Status::Ok(), {}); }, metrics_);
    Status s = server.Start();
    EXPECT_EQ(server.port(), 0);
    return s;
  };
  OtlpGrpcConfig config;
  config.tls_cert_file = certificate.cert_file();
  EXPECT_EQ(start(config), Status::InvalidArgument(
                               "otlp grpc: TLS needs both a certificate and a private key file"));
  config.tls_key_file = certificate.dir() + "/missing.pem";
  EXPECT_EQ(start(config), Status::IOError("otlp grpc: cannot read the private key file " +
                                           config.tls_key_file + ": No such file or directory"));
  config.tls_key_file = certificate.cert_file();
  EXPECT_EQ(start(config),
            Status::InvalidArgument("otlp grpc: the private key file " + certificate.cert_file() +
                                    " holds no unencrypted PEM private key"));
  const std::string other = certificate.dir() + "/other-key.pem";
  TestCertificate::WriteOtherKey(other);
  config.tls_key_file = other;
  EXPECT_EQ(start(config), Status::InvalidArgument("otlp grpc: the private key in " + other +
                                                   " does not belong to the certificate in " +
                                                   certificate.cert_file()));
  config.tls_key_file = certificate.key_file();
  config.client_ca_file = certificate.key_file();
  EXPECT_EQ(start(config),
            Status::InvalidArgument("otlp grpc: the client CA file " + certificate.key_file() +
                                    " holds no PEM certificate"));
  OtlpGrpcConfig plain;
  plain.client_ca_file = certificate.cert_file();
  EXPECT_EQ(start(plain).code(), StatusCode::kInvalidArgument);
}

// The files the server is given, which a test overwrites with another
// certificate's as an operator renews one in place.
struct ServedFiles {
  explicit ServedFiles(const TestCertificate& first)
      : dir(first.dir() + "/served"), cert(dir + "/cert.pem"), key(dir + "/key.pem") {
    std::filesystem::create_directory(dir);
    Use(first);
  }
  void Use(const TestCertificate& c) const {
    using std::filesystem::copy_options;
    std::filesystem::copy_file(c.cert_file(), cert, copy_options::overwrite_existing);
    std::filesystem::copy_file(c.key_file(), key, copy_options::overwrite_existing);
  }
  // In this order: each is made from the one before.
  const std::string dir;
  const std::string cert;
  const std::string key;
};

TEST_F(OtlpGrpcTest, ReloadTlsGivesNewConnectionsTheNewCertificate) {
  TestCertificate a, b;
  const ServedFiles served(a);
  OtlpGrpcConfig config;
  config.tls_cert_file = served.cert;
  config.tls_key_file = served.key;
  ASSERT_NO_FATAL_FAILURE(StartServer(config, Tls(a.cert_file())));
  auto open_with_a = std::move(stub_);  // its connection is made before the reload
  Result<std::string> presented = PresentedCertificate(*open_with_a);
  ASSERT_TRUE(presented.ok()) << presented.status().message();
  EXPECT_EQ(*presented, ReadText(a.cert_file()));

  // The files alone change nothing: they are read when told to.
  served.Use(b);
  presented = PresentedCertificate(*Stub(Tls(a.cert_file())));
  ASSERT_TRUE(presented.ok()) << presented.status().message();
  EXPECT_EQ(*presented, ReadText(a.cert_file()));

  ASSERT_TRUE(server_->ReloadTls().ok());
  presented = PresentedCertificate(*Stub(Tls(b.cert_file())));
  ASSERT_TRUE(presented.ok()) << presented.status().message();
  EXPECT_EQ(*presented, ReadText(b.cert_file()));
  // A new connection that trusts only A fails its handshake; the connection
  // made before the reload goes on with A.
  EXPECT_FALSE(PresentedCertificate(*Stub(Tls(a.cert_file()))).ok());
  presented = PresentedCertificate(*open_with_a);
  ASSERT_TRUE(presented.ok()) << presented.status().message();
  EXPECT_EQ(*presented, ReadText(a.cert_file()));
  EXPECT_EQ(Stored(), 4u);
}

TEST_F(OtlpGrpcTest, AReloadThatFailsKeepsTheCertificateInUse) {
  TestCertificate a, b;
  const ServedFiles served(a);
  OtlpGrpcConfig config;
  config.tls_cert_file = served.cert;
  config.tls_key_file = served.key;
  ASSERT_NO_FATAL_FAILURE(StartServer(config, Tls(a.cert_file())));
  auto presents_a = [&] {
    Result<std::string> presented = PresentedCertificate(*Stub(Tls(a.cert_file())));
    return presented.ok() && *presented == ReadText(a.cert_file());
  };
  ASSERT_TRUE(presents_a());

  // Not PEM; a key that is not the certificate's (B's certificate, A's key,
  // as when only one file was renewed); a file gone.
  std::ofstream(served.cert) << "not a certificate";
  EXPECT_EQ(server_->ReloadTls(),
            Status::InvalidArgument("otlp grpc: the certificate file " + served.cert +
                                    " holds no PEM certificate"));
  EXPECT_TRUE(presents_a());
  std::filesystem::copy_file(b.cert_file(), served.cert,
                             std::filesystem::copy_options::overwrite_existing);
  EXPECT_EQ(server_->ReloadTls(),
            Status::InvalidArgument("otlp grpc: the private key in " + served.key +
                                    " does not belong to the certificate in " + served.cert));
  EXPECT_TRUE(presents_a());
  std::filesystem::remove(served.key);
  EXPECT_EQ(server_->ReloadTls(), Status::IOError("otlp grpc: cannot read the private key file " +
                                                  served.key + ": No such file or directory"));
  EXPECT_TRUE(presents_a());
  EXPECT_FALSE(PresentedCertificate(*Stub(Tls(b.cert_file()))).ok());

  // Once the pair is whole again, the reload takes.
  served.Use(b);
  ASSERT_TRUE(server_->ReloadTls().ok());
  Result<std::string> presented = PresentedCertificate(*Stub(Tls(b.cert_file())));
  ASSERT_TRUE(presented.ok()) << presented.status().message();
  EXPECT_EQ(*presented, ReadText(b.cert_file()));
}

TEST_F(OtlpGrpcTest, ReloadTlsReadsTheClientCaAgain) {
  TestCertificate certificate, first_exporter, second_exporter;
  const std::string client_ca = certificate.dir() + "/client-ca.pem";
  std::filesystem::copy_file(first_exporter.cert_file(), client_ca);
  OtlpGrpcConfig config;
  config.tls_cert_file = certificate.cert_file();
  config.tls_key_file = certificate.key_file();
  config.client_ca_file = client_ca;
  ASSERT_NO_FATAL_FAILURE(StartServer(config, Tls(certificate.cert_file(), &first_exporter)));
  ASSERT_TRUE(PresentedCertificate(*stub_).ok());
  EXPECT_FALSE(PresentedCertificate(*Stub(Tls(certificate.cert_file(), &second_exporter))).ok());

  std::filesystem::copy_file(second_exporter.cert_file(), client_ca,
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_TRUE(server_->ReloadTls().ok());
  Result<std::string> presented =
      PresentedCertificate(*Stub(Tls(certificate.cert_file(), &second_exporter)));
  EXPECT_TRUE(presented.ok()) << presented.status().message();
  EXPECT_FALSE(PresentedCertificate(*Stub(Tls(certificate.cert_file(), &first_exporter))).ok());
  // Still required: a connection without a client certificate fails.
  EXPECT_FALSE(PresentedCertificate(*Stub(Tls(certificate.cert_file()))).ok());

  // A client CA file that holds no certificate keeps the CAs in use.
  std::ofstream(client_ca) << "";
  EXPECT_EQ(server_->ReloadTls(), Status::InvalidArgument("otlp grpc: the client CA file " +
                                                          client_ca + " holds no PEM certificate"));
  EXPECT_TRUE(PresentedCertificate(*Stub(Tls(certificate.cert_file(), &second_exporter))).ok());
}

TEST_F(OtlpGrpcTest, ReloadTlsWithoutTlsDoesNothing) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  EXPECT_TRUE(server_->ReloadTls().ok());
  ExportTraceServiceResponse resp;
  EXPECT_TRUE(Export(OneSpan(), &resp).ok());
}

}  // namespace
}  // namespace roentgen::otlp
