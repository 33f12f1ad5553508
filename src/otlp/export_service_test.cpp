#include "otlp/export_service.h"

#include <gtest/gtest.h>

#include "otlp/otlp_test_util.h"

namespace roentgen::otlp {
namespace {

using namespace roentgen::otlp::testing;
using pb_trace::Span;

// Records submitted documents; refuses those whose text contains `refuse`,
// or fails the whole call with `fail`.
struct FakeSink {
  std::vector<std::string> received;
  std::string refuse;
  Status fail;
  DocumentSink Sink() {
    return [this](std::vector<std::string> docs, ingest::Pipeline::SubmitCallback done) {
      std::vector<ingest::DocumentOutcome> outcomes;
      for (auto& d : docs) {
        ingest::DocumentOutcome o;
        o.accepted = refuse.empty() || d.find(refuse) == std::string::npos;
        if (!o.accepted) {
          o.error_code = "InvalidField";
          o.message = "name: invalid";
        }
        outcomes.push_back(o);
        received.push_back(std::move(d));
      }
      done(fail, fail.ok() ? std::move(outcomes) : std::vector<ingest::DocumentOutcome>{});
    };
  }
};

struct ExportResult {
  Status status;
  ExportTraceServiceResponse response;
};

ExportResult ExportNow(ExportService& service, const ExportTraceServiceRequest& req,
                       Transport t = Transport::kHttp) {
  ExportResult out;
  bool called = false;
  service.Export(req, t, [&](Status s, ExportTraceServiceResponse r) {
    called = true;
    out = {std::move(s), std::move(r)};
  });
  EXPECT_TRUE(called);
  return out;
}

ExportTraceServiceRequest ThreeSpans() {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "api");
  AddSpan(rs, "1111111111111111", "", Span::SPAN_KIND_SERVER);
  AddSpan(rs, "2222222222222222", "1111111111111111", Span::SPAN_KIND_CLIENT, "GET");
  AddSpan(rs, "3333333333333333", "", Span::SPAN_KIND_SERVER)->set_trace_id("bad");
  auto* other = AddResource(req, "worker");
  AddSpan(other, "4444444444444444", "", Span::SPAN_KIND_CONSUMER);
  return req;
}

TEST(ExportServiceTest, SubmitsDocumentsAndCountsInvalidSpans) {
  MetricsRegistry metrics;
  FakeSink sink;
  ExportService service(sink.Sink(), metrics, TestOptions());
  ExportResult r = ExportNow(service, ThreeSpans());
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(sink.received.size(), 2u);
  EXPECT_EQ(r.response.partial_success().rejected_spans(), 1);
  EXPECT_EQ(r.response.partial_success().error_message(),
            "1 of 4 spans rejected: span 3333333333333333: trace_id must be 16 bytes, not all zero "
            "(got 3 bytes)");
  EXPECT_EQ(
      metrics.GetCounter("roentgen_otlp_spans_received_total", "", {{"transport", "http"}}).Value(),
      4u);
  EXPECT_EQ(metrics
                .GetCounter("roentgen_otlp_spans_rejected_total", "",
                            {{"transport", "http"}, {"reason", "invalid_span"}})
                .Value(),
            1u);
  EXPECT_EQ(
      metrics.GetCounter("roentgen_otlp_documents_total", "", {{"transport", "http"}}).Value(), 2u);
}

TEST(ExportServiceTest, DocumentsRefusedByThePipelineCountTheirSpans) {
  MetricsRegistry metrics;
  FakeSink sink;
  sink.refuse = R"("name":"api")";
  ExportService service(sink.Sink(), metrics, TestOptions());
  ExportResult r = ExportNow(service, ThreeSpans(), Transport::kGrpc);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.response.partial_success().rejected_spans(), 3);
  EXPECT_EQ(r.response.partial_success().error_message(),
            "3 of 4 spans rejected: span 3333333333333333: trace_id must be 16 bytes, not all zero "
            "(got 3 bytes); "
            "span 1111111111111111 (with 1 nested spans): InvalidField: name: invalid");
  EXPECT_EQ(metrics
                .GetCounter("roentgen_otlp_spans_rejected_total", "",
                            {{"transport", "grpc"}, {"reason", "rejected_document"}})
                .Value(),
            2u);
}

TEST(ExportServiceTest, FullSuccessLeavesPartialSuccessUnset) {
  MetricsRegistry metrics;
  FakeSink sink;
  ExportService service(sink.Sink(), metrics, TestOptions());
  ExportTraceServiceRequest req;
  AddSpan(AddResource(req, "api"), "1111111111111111", "", Span::SPAN_KIND_SERVER);
  ExportResult r = ExportNow(service, req);
  ASSERT_TRUE(r.status.ok());
  EXPECT_FALSE(r.response.has_partial_success());
}

TEST(ExportServiceTest, EmptyRequestDoesNotReachThePipeline) {
  MetricsRegistry metrics;
  FakeSink sink;
  ExportService service(sink.Sink(), metrics, TestOptions());
  ExportResult r = ExportNow(service, ExportTraceServiceRequest());
  EXPECT_TRUE(r.status.ok());
  EXPECT_TRUE(sink.received.empty());
  EXPECT_FALSE(r.response.has_partial_success());
}

TEST(ExportServiceTest, PipelineFailureIsReturnedAndCounted) {
  MetricsRegistry metrics;
  FakeSink sink;
  sink.fail = Status::Unavailable("shutting down");
  ExportService service(sink.Sink(), metrics, TestOptions());
  ExportResult r = ExportNow(service, ThreeSpans());
  EXPECT_EQ(r.status, Status::Unavailable("shutting down"));
  EXPECT_EQ(metrics
                .GetCounter("roentgen_otlp_spans_rejected_total", "",
                            {{"transport", "http"}, {"reason", "storage"}})
                .Value(),
            3u);
}

}  // namespace
}  // namespace roentgen::otlp
