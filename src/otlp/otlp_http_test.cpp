// POST /v1/traces through the Router: content types, status codes, bodies.
#include "otlp/otlp_http.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "otlp/otlp_decode.h"
#include "otlp/otlp_test_util.h"

namespace roentgen::otlp {
namespace {

using namespace roentgen::otlp::testing;
using pb_trace::Span;

class OtlpHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegisterOtlpHttp(
        router_,
        [this](std::vector<std::string> docs, ingest::Pipeline::SubmitCallback done) {
          std::vector<ingest::DocumentOutcome> outcomes(docs.size());
          for (auto& o : outcomes) o.accepted = true;
          for (auto& d : docs) stored_.push_back(std::move(d));
          done(fail_, fail_.ok() ? std::move(outcomes) : std::vector<ingest::DocumentOutcome>{});
        },
        metrics_, TestOptions());
  }

  api::HttpResponse Post(std::string body, std::string content_type) {
    api::HttpRequest req;
    req.method = "POST";
    req.target = req.path = "/v1/traces";
    req.headers = {{"content-type", std::move(content_type)}};
    req.body = std::move(body);
    api::HttpResponse out;
    out.status = -1;
    router_.Dispatch(req, [&](api::HttpResponse r) { out = std::move(r); });
    return out;
  }

  uint64_t Requests(const char* status) {
    return metrics_.GetCounter("roentgen_otlp_http_requests_total", "", {{"status", status}})
        .Value();
  }

  api::Router router_;
  MetricsRegistry metrics_;
  std::vector<std::string> stored_;
  Status fail_;
};

ExportTraceServiceRequest OneSpan() {
  ExportTraceServiceRequest req;
  AddSpan(AddResource(req, "api"), "1111111111111111", "", Span::SPAN_KIND_SERVER);
  return req;
}

TEST_F(OtlpHttpTest, ProtobufIsStoredAndAnsweredInProtobuf) {
  api::HttpResponse r = Post(OneSpan().SerializeAsString(), "application/x-protobuf");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/x-protobuf");
  EXPECT_EQ(r.body, "");
  ASSERT_EQ(stored_.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(stored_[0])["name"], "api");
  EXPECT_EQ(Requests("200"), 1u);
}

TEST_F(OtlpHttpTest, JsonIsAnsweredInJsonWithPartialSuccess) {
  api::HttpResponse r = Post(R"({"resourceSpans":[{"scopeSpans":[{"spans":[
      {"traceId":"5759e988bd862e3fe1be46a994272793","spanId":"1111111111111111","kind":2,
       "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000"},
      {"traceId":"5759e988bd862e3fe1be46a994272793","spanId":"2222222222222222"}]}]}]})",
                             "application/json");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body,
            R"({"partialSuccess":{"rejectedSpans":"1","errorMessage":"1 of 2 spans rejected: )"
            R"(span 2222222222222222: start_time_unix_nano is missing"}})");
  EXPECT_EQ(stored_.size(), 1u);
}

TEST_F(OtlpHttpTest, MalformedBodyIs400InTheRequestEncoding) {
  api::HttpResponse r = Post("{nope", "application/json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"code":3,"message":"body is not valid JSON"})");
  api::HttpResponse p = Post("\x0a\xff\xff", "application/x-protobuf");
  EXPECT_EQ(p.status, 400);
  EXPECT_EQ(p.content_type, "application/x-protobuf");
  EXPECT_EQ(Requests("400"), 2u);
  EXPECT_TRUE(stored_.empty());
}

TEST_F(OtlpHttpTest, OtherContentTypeIs415) {
  api::HttpResponse r = Post("hello", "text/plain");
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(r.body, R"({"code":3,"message":"unsupported content type \"text/plain\": )"
                    R"(use application/x-protobuf or application/json"})");
  EXPECT_EQ(Requests("415"), 1u);
}

TEST_F(OtlpHttpTest, PipelineFailureIs503) {
  fail_ = Status::Unavailable("queue full");
  api::HttpResponse r = Post(OneSpan().SerializeAsString(), "application/x-protobuf");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Requests("503"), 1u);
}

}  // namespace
}  // namespace roentgen::otlp
