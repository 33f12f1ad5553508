// TraceService/Export over a real gRPC channel on loopback.
#include "otlp/otlp_grpc.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "otlp/otlp_test_util.h"

namespace roentgen::otlp {
namespace {

using namespace roentgen::otlp::testing;
using opentelemetry::proto::collector::trace::v1::TraceService;
using pb_trace::Span;

class OtlpGrpcTest : public ::testing::Test {
 protected:
  void StartServer(OtlpGrpcConfig config = {}) {
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
    grpc::ChannelArguments args;
    args.SetCompressionAlgorithm(GRPC_COMPRESS_GZIP);
    stub_ = TraceService::NewStub(grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials(), args));
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
  StartServer();
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
  StartServer();
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
  StartServer(config);
  ExportTraceServiceRequest req;
  auto* s = AddSpan(AddResource(req, "payments"), "1111111111111111", "", Span::SPAN_KIND_SERVER);
  Attr(s->mutable_attributes(), "blob", std::string(4096, 'x'));
  ExportTraceServiceResponse resp;
  EXPECT_EQ(Export(req, &resp).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(OtlpGrpcTest, BusyAddressIsIOErrorAndBadConfigInvalid) {
  StartServer();
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

}  // namespace
}  // namespace roentgen::otlp
