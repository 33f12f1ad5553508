// Tests for Summarize, SegmentServiceId, InferDownstreamService and root causes.
#include <gtest/gtest.h>

#include <functional>

#include "xray/trace.h"
#include "xray/trace_test_util.h"

namespace roentgen::xray {
namespace {

using namespace roentgen::xray::testing;  // NOLINT

ServiceId Svc(std::string name, std::string type, std::string account = "") {
  return ServiceId{name, {name}, std::move(account), std::move(type)};
}

Entity WithAws(Entity e, std::function<void(AwsInfo&)> fill) {
  AwsInfo aws;
  fill(aws);
  e.aws = aws;
  return e;
}

Entity ApiSegment(uint64_t id, int64_t start, std::optional<int64_t> end) {
  Entity e = MakeSegment(id, "api", start, end);
  e.origin = "AWS::EC2::Instance";
  return WithAws(e, [](AwsInfo& a) { a.account_id = "123456789012"; });
}

TEST(SummarizeTest, TimesComeFromAllSegmentsAndTheRoot) {
  Entity root = ApiSegment(1, 1000, 5000);
  root.subsegments.push_back(MakeSubsegment(10, "call", 1500, 4500));
  Entity callee = MakeSegment(2, "backend", 2000, 7000);
  callee.parent_id = SegmentId{10};
  TraceSummary s = SummarizeDocs({callee, root});
  EXPECT_EQ(s.id, TestTraceId());
  EXPECT_EQ(s.start_time_us, 1000);
  EXPECT_EQ(s.duration_us, 6000);
  EXPECT_EQ(s.response_time_us, 4000);
  EXPECT_FALSE(s.is_partial);
  EXPECT_EQ(s.segment_count, 2u);
  EXPECT_EQ(s.revision, 0u);
  EXPECT_EQ(s.updated_us, 0);
  EXPECT_EQ(s.root_segment_name, "api");
  EXPECT_EQ(s.root_segment_origin, "AWS::EC2::Instance");
  EXPECT_EQ(s.entry_point, Svc("api", "AWS::EC2::Instance", "123456789012"));
}

TEST(SummarizeTest, PartialTraceUsesWhatIsKnown) {
  Entity root = ApiSegment(1, 1000, std::nullopt);
  root.subsegments.push_back(MakeSubsegment(10, "work", 1200, 3000));
  TraceSummary s = SummarizeDocs({root});
  EXPECT_TRUE(s.is_partial);
  EXPECT_EQ(s.start_time_us, 1000);
  EXPECT_EQ(s.duration_us, 2000);
  EXPECT_EQ(s.response_time_us, std::nullopt);
  EXPECT_TRUE(s.response_time_root_causes.empty());

  TraceSummary nothing_ended = SummarizeDocs({ApiSegment(1, 1000, std::nullopt)});
  EXPECT_EQ(nothing_ended.duration_us, std::nullopt);
  EXPECT_TRUE(nothing_ended.is_partial);
}

TEST(SummarizeTest, InProgressIndependentSubsegmentMakesTracePartial) {
  TraceSummary s =
      SummarizeDocs({ApiSegment(1, 0, 100), MakeIndependent(5, 1, "x", 10, std::nullopt)});
  EXPECT_TRUE(s.is_partial);
  EXPECT_EQ(s.duration_us, 100);
}

TEST(SummarizeTest, FaultAndErrorOnlyAtRootThrottleAnywhere) {
  Entity root = ApiSegment(1, 0, 100);
  root.subsegments.push_back(MakeSubsegment(10, "call", 10, 90));
  Entity callee = MakeSegment(2, "backend", 20, 80);
  callee.parent_id = SegmentId{10};
  callee.fault = true;
  callee.error = true;
  Entity deep = MakeSubsegment(20, "db", 30, 40);
  deep.throttle = true;
  callee.subsegments.push_back(deep);
  TraceSummary s = SummarizeDocs({root, callee});
  EXPECT_FALSE(s.has_fault);
  EXPECT_FALSE(s.has_error);
  EXPECT_TRUE(s.has_throttle);

  root.fault = true;
  root.error = true;
  callee.subsegments.clear();
  TraceSummary t = SummarizeDocs({root, callee});
  EXPECT_TRUE(t.has_fault);
  EXPECT_TRUE(t.has_error);
  EXPECT_FALSE(t.has_throttle);
}

TEST(SummarizeTest, HttpComesFromTheRoot) {
  Entity root = ApiSegment(1, 0, 100);
  root.http = Http{HttpRequest{"POST", "https://api.example.com/x", "curl/8", "10.0.0.1"},
                   HttpResponse{502, 12}};
  Entity other = MakeSegment(2, "other", 10, 20);
  other.parent_id = SegmentId{1};
  other.http = Http{HttpRequest{"GET", "http://other/", "", ""}, HttpResponse{200, {}}};
  TraceSummary s = SummarizeDocs({other, root});
  EXPECT_EQ(s.http.url, "https://api.example.com/x");
  EXPECT_EQ(s.http.method, "POST");
  EXPECT_EQ(s.http.status, 502);
  EXPECT_EQ(s.http.user_agent, "curl/8");
  EXPECT_EQ(s.http.client_ip, "10.0.0.1");
}

TEST(SummarizeTest, AnnotationsListTheServicesThatSetEachValue) {
  Entity root = ApiSegment(1, 0, 100);
  root.annotations = {{"k1", std::string("a")}};
  Entity sub = MakeSubsegment(10, "call", 10, 90);
  sub.annotations = {{"k1", std::string("a")}, {"k2", 1.0}};
  root.subsegments.push_back(sub);
  Entity backend = MakeSegment(2, "backend", 20, 80);
  backend.parent_id = SegmentId{10};
  backend.annotations = {{"k1", std::string("a")}, {"k1", std::string("b")}, {"k3", true}};
  Entity orphan = MakeIndependent(30, 999, "lost", 50, 60);
  orphan.annotations = {{"k4", std::string("x")}, {"k2", std::string("1")}};
  TraceSummary s = SummarizeDocs({orphan, backend, root});

  const ServiceId api = Svc("api", "AWS::EC2::Instance", "123456789012");
  const ServiceId be = Svc("backend", "");
  ASSERT_EQ(s.annotations.size(), 4u);
  EXPECT_EQ(s.annotations[0].key, "k1");
  ASSERT_EQ(s.annotations[0].values.size(), 2u);
  EXPECT_EQ(s.annotations[0].values[0].value, AnnotationValue(std::string("a")));
  EXPECT_EQ(s.annotations[0].values[0].service_ids, (std::vector<ServiceId>{api, be}));
  EXPECT_EQ(s.annotations[0].values[1].value, AnnotationValue(std::string("b")));
  EXPECT_EQ(s.annotations[0].values[1].service_ids, (std::vector<ServiceId>{be}));
  EXPECT_EQ(s.annotations[1].key, "k2");
  ASSERT_EQ(s.annotations[1].values.size(), 2u);  // number 1 and string "1" differ
  EXPECT_EQ(s.annotations[1].values[0].value, AnnotationValue(1.0));
  EXPECT_EQ(s.annotations[1].values[0].service_ids, (std::vector<ServiceId>{api}));
  EXPECT_EQ(s.annotations[1].values[1].value, AnnotationValue(std::string("1")));
  EXPECT_TRUE(s.annotations[1].values[1].service_ids.empty());
  EXPECT_EQ(s.annotations[2].key, "k3");
  EXPECT_EQ(s.annotations[2].values[0].value, AnnotationValue(true));
  EXPECT_EQ(s.annotations[3].key, "k4");
  EXPECT_TRUE(s.annotations[3].values[0].service_ids.empty());
}

TEST(SummarizeTest, KeepsAtMostFiftyAnnotationKeysInFirstSeenOrder) {
  Entity root = ApiSegment(1, 0, 100);
  for (int i = 0; i < 30; ++i) root.annotations.push_back({"k" + std::to_string(i), 7.0});
  Entity backend = MakeSegment(2, "backend", 10, 90);
  backend.parent_id = SegmentId{1};
  for (int i = 20; i < 60; ++i) backend.annotations.push_back({"k" + std::to_string(i), 7.0});
  TraceSummary s = SummarizeDocs({root, backend});
  ASSERT_EQ(s.annotations.size(), kMaxIndexedAnnotationsPerTrace);
  for (size_t i = 0; i < s.annotations.size(); ++i) {
    EXPECT_EQ(s.annotations[i].key, "k" + std::to_string(i));
  }
  EXPECT_EQ(s.annotations[25].values[0].service_ids.size(), 2u);
  EXPECT_EQ(s.annotations[49].values[0].service_ids, (std::vector<ServiceId>{Svc("backend", "")}));
}

TEST(SummarizeTest, UsersResourcesAndServices) {
  Entity root = ApiSegment(1, 0, 100);
  root.user = "alice";
  root.aws->ec2_instance_id = "i-0abc";
  root.aws->availability_zone = "us-east-1a";
  root.resource_arn = "arn:aws:apigateway:us-east-1::/restapis/x/stages/prod";
  Entity ddb =
      WithAws(MakeSubsegment(10, "DynamoDB", 1, 2), [](AwsInfo& a) { a.table_name = "scores"; });
  ddb.namespace_ = "aws";
  Entity sqs = WithAws(MakeSubsegment(11, "SQS", 3, 4), [](AwsInfo& a) {
    a.queue_url = "https://sqs.us-east-1.amazonaws.com/123456789012/jobs";
  });
  sqs.namespace_ = "aws";
  Entity s3 = MakeSubsegment(12, "S3", 5, 6);
  s3.namespace_ = "aws";
  Entity lambda =
      WithAws(MakeSubsegment(13, "Lambda", 7, 8), [](AwsInfo& a) { a.function_name = "fn"; });
  lambda.namespace_ = "aws";
  Entity http = MakeSubsegment(14, "api.example.com", 9, 10);
  http.namespace_ = "remote";
  Entity traced_call = MakeSubsegment(15, "backend", 11, 50);
  traced_call.namespace_ = "remote";
  Entity local = MakeSubsegment(16, "local-work", 51, 52);
  root.subsegments = {ddb, sqs, s3, lambda, http, traced_call, local};
  Entity backend = MakeSegment(2, "backend", 12, 49);
  backend.parent_id = SegmentId{15};
  backend.user = "alice";
  backend.aws = AwsInfo{};
  backend.aws->ec2_instance_id = "i-0abc";
  backend.aws->availability_zone = "us-east-1b";
  Entity third = MakeSegment(3, "worker", 60, 70);
  third.parent_id = SegmentId{1};
  third.user = "bob";
  TraceSummary s = SummarizeDocs({third, backend, root});

  const ServiceId api = Svc("api", "AWS::EC2::Instance", "123456789012");
  EXPECT_EQ(s.service_ids,
            (std::vector<ServiceId>{api, Svc("scores", "AWS::DynamoDB::Table"),
                                    Svc("jobs", "AWS::SQS::Queue"), Svc("S3", "AWS::S3"),
                                    Svc("fn", "AWS::Lambda"), Svc("api.example.com", "remote"),
                                    Svc("backend", ""), Svc("worker", "")}));
  ASSERT_EQ(s.users.size(), 2u);
  EXPECT_EQ(s.users[0].user_name, "alice");
  EXPECT_EQ(s.users[0].service_ids, (std::vector<ServiceId>{api, Svc("backend", "")}));
  EXPECT_EQ(s.users[1].user_name, "bob");
  EXPECT_EQ(s.users[1].service_ids, (std::vector<ServiceId>{Svc("worker", "")}));
  EXPECT_EQ(s.instance_ids, (std::vector<std::string>{"i-0abc"}));
  EXPECT_EQ(s.availability_zones, (std::vector<std::string>{"us-east-1a", "us-east-1b"}));
  EXPECT_EQ(s.resource_arns,
            (std::vector<std::string>{"arn:aws:apigateway:us-east-1::/restapis/x/stages/prod"}));
}

TEST(InferDownstreamServiceTest, OnlyAwsAndRemoteNamespaces) {
  EXPECT_EQ(InferDownstreamService(MakeSubsegment(1, "local", 0, 1)), std::nullopt);
  Entity ddb = MakeSubsegment(2, "DynamoDB", 0, 1);
  ddb.namespace_ = "aws";  // no table name: the service itself
  EXPECT_EQ(InferDownstreamService(ddb), Svc("DynamoDB", "AWS::DynamoDB"));
  Entity sqs = WithAws(MakeSubsegment(3, "SQS", 0, 1),
                       [](AwsInfo& a) { a.queue_url = "https://q/1/orders/"; });
  sqs.namespace_ = "aws";
  EXPECT_EQ(InferDownstreamService(sqs), Svc("orders", "AWS::SQS::Queue"));
}

// The allocation-free form gives the same service under every rule, and
// Matches tells exactly that service from its neighbours.
TEST(InferDownstreamServiceTest, RefAgreesWithTheServiceId) {
  std::vector<Entity> subs;
  subs.push_back(MakeSubsegment(1, "local", 0, 1));
  auto add = [&](std::string ns, std::function<void(AwsInfo&)> fill, bool sql = false) {
    Entity e = WithAws(MakeSubsegment(subs.size() + 1, "Callee", 0, 1), std::move(fill));
    e.namespace_ = std::move(ns);
    if (sql) e.sql = Sql{};
    subs.push_back(std::move(e));
  };
  add("aws", [](AwsInfo&) {});
  add("aws", [](AwsInfo& a) { a.account_id = "123456789012"; });
  add("aws", [](AwsInfo& a) { a.table_name = "notes"; });
  add("aws", [](AwsInfo& a) { a.queue_url = "orders"; });
  add("aws", [](AwsInfo& a) { a.queue_url = "https://q/1/orders//"; });
  add("aws", [](AwsInfo& a) { a.function_name = "fn"; });
  add("remote", [](AwsInfo&) {});
  add("remote", [](AwsInfo& a) { a.table_name = "ignored"; }, /*sql=*/true);
  for (const Entity& sub : subs) {
    SCOPED_TRACE(sub.id.value);
    const std::optional<ServiceId> id = InferDownstreamService(sub);
    const std::optional<DownstreamServiceRef> ref = InferDownstreamServiceRef(sub);
    ASSERT_EQ(id.has_value(), ref.has_value());
    if (!id) continue;
    EXPECT_EQ(ref->ToServiceId(), *id);
    EXPECT_TRUE(ref->Matches(*id));
    ServiceId other = *id;
    other.type += "x";
    EXPECT_FALSE(ref->Matches(other));
    other = *id;
    other.names.push_back(id->name);
    EXPECT_FALSE(ref->Matches(other));
    other = *id;
    other.account_id += "1";
    EXPECT_FALSE(ref->Matches(other));
  }
  EXPECT_EQ(InferDownstreamService(subs[1])->type, "AWS::Callee");
  EXPECT_FALSE(InferDownstreamServiceRef(subs[1])->TypeEquals("AWS::Calle"));
  EXPECT_FALSE(InferDownstreamServiceRef(subs[1])->TypeEquals("AWS::Calleee"));
  EXPECT_FALSE(InferDownstreamServiceRef(subs[1])->TypeEquals("AWS:xCallee"));
}

}  // namespace
}  // namespace roentgen::xray
