// Attribute → X-Ray field rules (docs/otlp.md): http block in old and current
// semantic conventions, error/throttle/fault, cause, aws, annotations,
// metadata, user and the resource-derived origin/service/aws blocks.
#include "otlp/span_blocks.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "otlp/otlp_test_util.h"

namespace roentgen::otlp {
namespace {

using nlohmann::json;
using namespace roentgen::otlp::testing;
using pb_trace::Span;

json OnlyDoc(const ExportTraceServiceRequest& req) {
  Translation t = Translate(req, TestOptions());
  EXPECT_EQ(t.documents.size(), 1u);
  return t.documents.empty() ? json() : json::parse(t.documents[0].json);
}

TEST(HttpBlockTest, CurrentSemanticConventions) {
  Span span;
  Attr(span.mutable_attributes(), "http.request.method", "POST");
  Attr(span.mutable_attributes(), "url.full", "https://shop.example.com/cart?id=7");
  Attr(span.mutable_attributes(), "user_agent.original", "curl/8.0");
  Attr(span.mutable_attributes(), "client.address", "203.0.113.9");
  Attr(span.mutable_attributes(), "http.response.status_code", 201);
  Attr(span.mutable_attributes(), "http.response.body.size", 512);
  Attr(span.mutable_attributes(), "other", "kept");
  AttributeView a(span.attributes());
  HttpBlock h = MakeHttp(a, true);
  EXPECT_EQ(h.json, json::parse(R"({
    "request": {"method": "POST", "url": "https://shop.example.com/cart?id=7",
                "user_agent": "curl/8.0", "client_ip": "203.0.113.9"},
    "response": {"status": 201, "content_length": 512}})"));
  EXPECT_EQ(h.status, 201);
  EXPECT_TRUE(a.IsConsumed("url.full"));
  EXPECT_FALSE(a.IsConsumed("other"));
}

TEST(HttpBlockTest, OldSemanticConventions) {
  Span span;
  Attr(span.mutable_attributes(), "http.method", "GET");
  Attr(span.mutable_attributes(), "http.url", "http://api.local/items");
  Attr(span.mutable_attributes(), "http.user_agent", "Mozilla/5.0");
  Attr(span.mutable_attributes(), "http.client_ip", "198.51.100.4");
  Attr(span.mutable_attributes(), "http.status_code", "404");
  Attr(span.mutable_attributes(), "http.response_content_length", 17);
  AttributeView a(span.attributes());
  HttpBlock h = MakeHttp(a, true);
  EXPECT_EQ(h.json, json::parse(R"({
    "request": {"method": "GET", "url": "http://api.local/items", "user_agent": "Mozilla/5.0",
                "client_ip": "198.51.100.4", "x_forwarded_for": true},
    "response": {"status": 404, "content_length": 17}})"));
}

// Found by fuzz/otlp_protobuf: a status X-Ray refuses (it takes 0 to 999) made
// the segment parser refuse the span's whole document.
TEST(HttpBlockTest, ValuesXRayRefusesStayInMetadata) {
  Span span;
  Attr(span.mutable_attributes(), "http.request.method", "GET");
  Attr(span.mutable_attributes(), "http.response.status_code", 4296);
  Attr(span.mutable_attributes(), "http.response.body.size", -1);
  AttributeView a(span.attributes());
  HttpBlock h = MakeHttp(a, false);
  EXPECT_EQ(h.json, json::parse(R"({"request": {"method": "GET"}})"));
  EXPECT_FALSE(h.status.has_value());
  EXPECT_FALSE(a.IsConsumed("http.response.status_code"));
  EXPECT_FALSE(a.IsConsumed("http.response.body.size"));
}

TEST(HttpBlockTest, ServerUrlIsComposedFromParts) {
  Span current;
  Attr(current.mutable_attributes(), "url.scheme", "https");
  Attr(current.mutable_attributes(), "server.address", "shop.example.com");
  Attr(current.mutable_attributes(), "server.port", 8443);
  Attr(current.mutable_attributes(), "url.path", "/cart");
  Attr(current.mutable_attributes(), "url.query", "id=7");
  AttributeView a(current.attributes());
  EXPECT_EQ(MakeHttp(a, true).json["request"]["url"], "https://shop.example.com:8443/cart?id=7");

  Span old;
  Attr(old.mutable_attributes(), "http.scheme", "http");
  Attr(old.mutable_attributes(), "http.host", "api.local:8080");
  Attr(old.mutable_attributes(), "http.target", "/items?x=1");
  AttributeView b(old.attributes());
  EXPECT_EQ(MakeHttp(b, true).json["request"]["url"], "http://api.local:8080/items?x=1");
  AttributeView c(old.attributes());
  EXPECT_TRUE(MakeHttp(c, false).json.is_null());  // never composed for client calls
}

TEST(OutcomeTest, StatusCodesAndSpanStatus) {
  pb_trace::Status unset;
  pb_trace::Status err;
  err.set_code(pb_trace::Status::STATUS_CODE_ERROR);
  auto flags = [](Outcome o) { return std::tuple(o.error, o.throttle, o.fault); };
  EXPECT_EQ(flags(MakeOutcome(200, unset)), std::tuple(false, false, false));
  EXPECT_EQ(flags(MakeOutcome(404, unset)), std::tuple(true, false, false));
  EXPECT_EQ(flags(MakeOutcome(429, unset)), std::tuple(true, true, false));
  EXPECT_EQ(flags(MakeOutcome(503, unset)), std::tuple(false, false, true));
  EXPECT_EQ(flags(MakeOutcome(std::nullopt, err)), std::tuple(false, false, true));
  EXPECT_EQ(flags(MakeOutcome(404, err)), std::tuple(true, false, false));
  EXPECT_EQ(flags(MakeOutcome(200, err)), std::tuple(false, false, true));
}

TEST(CauseTest, ExceptionEventsBecomeExceptionsWithStack) {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "api");
  auto* s = AddSpan(rs, "1111111111111111", "", Span::SPAN_KIND_SERVER);
  s->mutable_status()->set_code(pb_trace::Status::STATUS_CODE_ERROR);
  s->mutable_status()->set_message("boom");
  auto* ev = s->add_events();
  ev->set_name("exception");
  Attr(ev->mutable_attributes(), "exception.type", "TypeError");
  Attr(ev->mutable_attributes(), "exception.message", "x is undefined");
  Attr(ev->mutable_attributes(), "exception.stacktrace",
       "TypeError: x is undefined\n    at handler (/app/server.js:10:5)\n    at /app/lib.js:3:1");
  s->add_events()->set_name("cache miss");
  EXPECT_EQ(OnlyDoc(req), json::parse(R"({
    "id": "1111111111111111", "name": "api", "trace_id": "1-5759e988-bd862e3fe1be46a994272793",
    "start_time": 1700000000.123456, "end_time": 1700000000.623456, "fault": true,
    "cause": {"exceptions": [{"id": "0000000000000001", "type": "TypeError", "message": "x is undefined",
      "stack": [{"label": "handler", "path": "/app/server.js", "line": 10},
                {"path": "/app/lib.js", "line": 3}]}]}})"));
}

TEST(CauseTest, ErrorStatusMessageWithoutEventsAndNoCauseWhenOk) {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "api");
  auto* s = AddSpan(rs, "1111111111111111", "", Span::SPAN_KIND_SERVER);
  s->mutable_status()->set_code(pb_trace::Status::STATUS_CODE_ERROR);
  s->mutable_status()->set_message("deadline exceeded");
  json doc = OnlyDoc(req);
  EXPECT_EQ(doc["cause"],
            json::parse(
                R"({"exceptions": [{"id": "0000000000000001", "message": "deadline exceeded"}]})"));

  ExportTraceServiceRequest ok;
  auto* rs2 = AddResource(ok, "api");
  auto* s2 = AddSpan(rs2, "1111111111111111", "", Span::SPAN_KIND_SERVER);
  s2->add_events()->set_name("exception");
  EXPECT_FALSE(OnlyDoc(ok).contains("cause"));
}

TEST(FlagsTest, ThrottleErrorAndFaultOnEntities) {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "api");
  auto* s = AddSpan(rs, "1111111111111111", "", Span::SPAN_KIND_SERVER);
  Attr(s->mutable_attributes(), "http.response.status_code", 429);
  auto* c = AddSpan(rs, "2222222222222222", "1111111111111111", Span::SPAN_KIND_CLIENT, "GET");
  Attr(c->mutable_attributes(), "http.status_code", 502);
  json doc = OnlyDoc(req);
  EXPECT_EQ(doc["error"], true);
  EXPECT_EQ(doc["throttle"], true);
  EXPECT_FALSE(doc.contains("fault"));
  EXPECT_EQ(doc["subsegments"][0]["fault"], true);
  EXPECT_FALSE(doc["subsegments"][0].contains("error"));
}

TEST(AttributesTest, ListedKeysBecomeAnnotationsOthersMetadataEnduserUser) {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "api");
  auto* s = AddSpan(rs, "1111111111111111", "", Span::SPAN_KIND_SERVER);
  AttrList(s->mutable_attributes(), "aws.xray.annotations",
           {"customer.tier", "retries", "missing", "tags"});
  Attr(s->mutable_attributes(), "customer.tier", "gold");
  Attr(s->mutable_attributes(), "retries", 2);
  AttrList(s->mutable_attributes(), "tags", {"a", "b"});
  Attr(s->mutable_attributes(), "cache.hit", true);
  Attr(s->mutable_attributes(), "ratio", 0.5);
  Attr(s->mutable_attributes(), "enduser.id", "alice");
  json doc = OnlyDoc(req);
  EXPECT_EQ(doc["annotations"], json::parse(R"({"customer.tier": "gold", "retries": 2})"));
  EXPECT_EQ(doc["metadata"],
            json::parse(R"({"default": {"tags": ["a", "b"], "cache.hit": true, "ratio": 0.5}})"));
  EXPECT_EQ(doc["user"], "alice");
}

TEST(AttributesTest, EnduserStaysMetadataOnSubsegmentsAndKeysAreSanitized) {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "api");
  AddSpan(rs, "1111111111111111", "", Span::SPAN_KIND_SERVER);
  auto* c = AddSpan(rs, "2222222222222222", "1111111111111111", Span::SPAN_KIND_INTERNAL);
  Attr(c->mutable_attributes(), "enduser.id", "bob");
  Attr(c->mutable_attributes(), "aws.xray.annotations", "order-id");
  Attr(c->mutable_attributes(), "order-id", "o-1");
  json sub = OnlyDoc(req)["subsegments"][0];
  EXPECT_EQ(sub["annotations"], json::parse(R"({"order_id": "o-1"})"));
  EXPECT_EQ(sub["metadata"], json::parse(R"({"default": {"enduser.id": "bob"}})"));
  EXPECT_FALSE(sub.contains("user"));
}

TEST(ResourceTest, Ec2OriginServiceVersionAccountAndSdk) {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "api");
  auto* r = rs->mutable_resource()->mutable_attributes();
  Attr(r, "cloud.provider", "aws");
  Attr(r, "cloud.platform", "aws_ec2");
  Attr(r, "cloud.account.id", "123456789012");
  Attr(r, "cloud.availability_zone", "eu-west-1a");
  Attr(r, "host.id", "i-0abc");
  Attr(r, "host.type", "t3.micro");
  Attr(r, "host.image.id", "ami-1");
  Attr(r, "service.version", "1.4.2");
  Attr(r, "telemetry.sdk.name", "opentelemetry");
  Attr(r, "telemetry.sdk.language", "nodejs");
  Attr(r, "telemetry.sdk.version", "2.12.1");
  AddSpan(rs, "1111111111111111", "", Span::SPAN_KIND_SERVER);
  EXPECT_EQ(OnlyDoc(req), json::parse(R"({
    "id": "1111111111111111", "name": "api", "trace_id": "1-5759e988-bd862e3fe1be46a994272793",
    "start_time": 1700000000.123456, "end_time": 1700000000.623456,
    "origin": "AWS::EC2::Instance", "service": {"version": "1.4.2"},
    "aws": {"account_id": "123456789012",
            "ec2": {"instance_id": "i-0abc", "availability_zone": "eu-west-1a",
                    "instance_size": "t3.micro", "ami_id": "ami-1"},
            "xray": {"sdk": "opentelemetry for nodejs", "sdk_version": "2.12.1"}}})"));
}

TEST(ResourceTest, PlatformsMapToOrigins) {
  auto blocks = [](std::vector<std::pair<std::string, std::string>> attrs) {
    pb_common::KeyValueList list;
    for (auto& [k, v] : attrs) Attr(list.mutable_values(), k, v);
    return MakeResourceBlocks(AttributeView(list.values()));
  };
  EXPECT_EQ(blocks({{"cloud.platform", "aws_ecs"}, {"aws.ecs.launchtype", "fargate"}}).origin,
            "AWS::ECS::Fargate");
  EXPECT_EQ(blocks({{"cloud.platform", "aws_ecs"}, {"aws.ecs.launchtype", "ec2"}}).origin,
            "AWS::ECS::EC2");
  auto ecs = blocks({{"cloud.platform", "aws_ecs"},
                     {"container.name", "web"},
                     {"container.id", "c1"},
                     {"aws.ecs.task.arn", "arn:t"}});
  EXPECT_EQ(ecs.origin, "AWS::ECS::Container");
  EXPECT_EQ(
      ecs.aws,
      json::parse(R"({"ecs": {"container": "web", "container_id": "c1", "task_arn": "arn:t"}})"));
  auto eks = blocks(
      {{"cloud.platform", "aws_eks"}, {"k8s.cluster.name", "prod"}, {"k8s.pod.name", "p-1"}});
  EXPECT_EQ(eks.origin, "AWS::EKS::Container");
  EXPECT_EQ(eks.aws, json::parse(R"({"eks": {"cluster_name": "prod", "pod": "p-1"}})"));
  auto eb = blocks({{"cloud.platform", "aws_elastic_beanstalk"},
                    {"service.namespace", "prod-env"},
                    {"service.instance.id", "23"},
                    {"service.version", "v7"}});
  EXPECT_EQ(eb.origin, "AWS::ElasticBeanstalk::Environment");
  EXPECT_EQ(
      eb.aws,
      json::parse(
          R"({"elastic_beanstalk": {"environment_name": "prod-env", "deployment_id": 23, "version_label": "v7"}})"));
  auto fn = blocks(
      {{"cloud.platform", "aws_lambda"}, {"faas.id", "arn:aws:lambda:eu-west-1:1:function:f"}});
  EXPECT_EQ(fn.origin, "AWS::Lambda::Function");
  EXPECT_EQ(fn.resource_arn, "arn:aws:lambda:eu-west-1:1:function:f");
  EXPECT_EQ(blocks({{"cloud.provider", "gcp"}, {"cloud.platform", "aws_ec2"}}).origin, "");
  EXPECT_EQ(blocks({{"cloud.platform", "aws_ec2"}}).origin, "AWS::EC2::Instance");
}

}  // namespace
}  // namespace roentgen::otlp
