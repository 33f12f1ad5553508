// Span → X-Ray document rules (docs/otlp.md): segment/subsegment choice,
// naming, nesting, ids, times, splitting and rejection. Exact JSON expected.
#include "otlp/translator.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "otlp/otlp_test_util.h"

namespace roentgen::otlp {
namespace {

using nlohmann::json;
using namespace roentgen::otlp::testing;
using pb_trace::Span;

std::vector<json> Docs(const Translation& t) {
  std::vector<json> out;
  for (const auto& d : t.documents) out.push_back(json::parse(d.json));
  return out;
}

TEST(TranslatorTest, ServerSpanBecomesSegmentNamedByServiceName) {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "checkout");
  AddSpan(rs, "53995c3f42cd8ad8", "", Span::SPAN_KIND_SERVER, "GET /cart");
  Translation t = Translate(req, TestOptions());
  ASSERT_EQ(t.documents.size(), 1u);
  EXPECT_EQ(t.total_spans, 1);
  EXPECT_EQ(t.rejected_spans, 0);
  EXPECT_EQ(t.documents[0].id, "53995c3f42cd8ad8");
  EXPECT_EQ(t.documents[0].span_count, 1u);
  EXPECT_EQ(t.documents[0].json,
            R"({"end_time":1700000000.623456,"id":"53995c3f42cd8ad8","name":"checkout",)"
            R"("start_time":1700000000.123456,"trace_id":"1-5759e988-bd862e3fe1be46a994272793"})");
}

TEST(TranslatorTest, ServerSpanWithRemoteParentKeepsParentId) {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "checkout");
  AddSpan(rs, "53995c3f42cd8ad8", "6e0c63257de34c92", Span::SPAN_KIND_SERVER);
  auto docs = Docs(Translate(req, TestOptions()));
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["parent_id"], "6e0c63257de34c92");
  EXPECT_FALSE(docs[0].contains("type"));
}

TEST(TranslatorTest, ConsumerSpanAndRootInternalSpanBecomeSegments) {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "worker");
  AddSpan(rs, "1111111111111111", "6e0c63257de34c92", Span::SPAN_KIND_CONSUMER, "orders process");
  AddSpan(rs, "2222222222222222", "", Span::SPAN_KIND_INTERNAL, "cron");
  auto docs = Docs(Translate(req, TestOptions()));
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0]["name"], "worker");
  EXPECT_EQ(docs[0]["parent_id"], "6e0c63257de34c92");
  EXPECT_FALSE(docs[0].contains("namespace"));
  EXPECT_EQ(docs[1]["name"], "worker");
  EXPECT_FALSE(docs[1].contains("parent_id"));
  EXPECT_EQ(docs[1]["trace_id"], "1-5759e988-bd862e3fe1be46a994272793");
}

TEST(TranslatorTest, SegmentWithoutServiceNameIsNamedBySpanName) {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "");
  AddSpan(rs, "1111111111111111", "", Span::SPAN_KIND_SERVER, "GET /x");
  auto docs = Docs(Translate(req, TestOptions()));
  EXPECT_EQ(docs[0]["name"], "GET /x");
}

TEST(TranslatorTest, ClientAndInternalSpansNestUnderTheirSegmentSortedByStart) {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "api");
  auto* client = AddSpan(rs, "3333333333333333", "2222222222222222", Span::SPAN_KIND_CLIENT, "GET");
  Attr(client->mutable_attributes(), "server.address", "inventory.internal");
  client->set_start_time_unix_nano(kStart + 2000);
  auto* internal =
      AddSpan(rs, "2222222222222222", "1111111111111111", Span::SPAN_KIND_INTERNAL, "load cart");
  internal->set_start_time_unix_nano(kStart + 1000);
  auto* producer =
      AddSpan(rs, "4444444444444444", "1111111111111111", Span::SPAN_KIND_PRODUCER, "send");
  Attr(producer->mutable_attributes(), "peer.service", "billing-queue");
  producer->set_start_time_unix_nano(kStart + 500);
  AddSpan(rs, "1111111111111111", "", Span::SPAN_KIND_SERVER, "POST /cart");
  Translation t = Translate(req, TestOptions());
  ASSERT_EQ(t.documents.size(), 1u);
  EXPECT_EQ(t.documents[0].span_count, 4u);
  EXPECT_EQ(json::parse(t.documents[0].json), json::parse(R"({
    "id": "1111111111111111", "name": "api", "trace_id": "1-5759e988-bd862e3fe1be46a994272793",
    "start_time": 1700000000.123456, "end_time": 1700000000.623456,
    "subsegments": [
      {"id": "4444444444444444", "name": "billing-queue", "namespace": "remote",
       "start_time": 1700000000.123457, "end_time": 1700000000.623456,
       "metadata": {"default": {"peer.service": "billing-queue"}}},
      {"id": "2222222222222222", "name": "load cart",
       "start_time": 1700000000.123457, "end_time": 1700000000.623456,
       "subsegments": [
         {"id": "3333333333333333", "name": "inventory.internal", "namespace": "remote",
          "start_time": 1700000000.123458, "end_time": 1700000000.623456,
          "metadata": {"default": {"server.address": "inventory.internal"}}}]}]
  })"));
}

TEST(TranslatorTest, ClientNameFallsBackToUrlHostThenSpanName) {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "api");
  AddSpan(rs, "1111111111111111", "", Span::SPAN_KIND_SERVER);
  auto* a = AddSpan(rs, "2222222222222222", "1111111111111111", Span::SPAN_KIND_CLIENT, "GET");
  Attr(a->mutable_attributes(), "url.full", "https://user@pay.example.com:8443/v1/charge?x=1");
  a->set_start_time_unix_nano(kStart + 1000);
  auto* b = AddSpan(rs, "3333333333333333", "1111111111111111", Span::SPAN_KIND_CLIENT, "db query");
  b->set_start_time_unix_nano(kStart + 2000);
  auto docs = Docs(Translate(req, TestOptions()));
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["subsegments"][0]["name"], "pay.example.com");
  EXPECT_EQ(docs[0]["subsegments"][0]["http"]["request"]["url"],
            "https://user@pay.example.com:8443/v1/charge?x=1");
  EXPECT_EQ(docs[0]["subsegments"][1]["name"], "db query");
  EXPECT_EQ(docs[0]["subsegments"][1]["namespace"], "remote");
}

TEST(TranslatorTest, AwsSdkCallIsAwsNamespaceNamedByService) {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "api");
  AddSpan(rs, "1111111111111111", "", Span::SPAN_KIND_SERVER);
  auto* s = AddSpan(rs, "2222222222222222", "1111111111111111", Span::SPAN_KIND_CLIENT,
                    "DynamoDB.GetItem");
  Attr(s->mutable_attributes(), "rpc.system", "aws-api");
  Attr(s->mutable_attributes(), "rpc.service", "DynamoDB");
  Attr(s->mutable_attributes(), "rpc.method", "GetItem");
  Attr(s->mutable_attributes(), "cloud.region", "eu-west-1");
  Attr(s->mutable_attributes(), "aws.request.id", "R42");
  AttrList(s->mutable_attributes(), "aws.dynamodb.table_names", {"carts"});
  Attr(s->mutable_attributes(), "http.status_code", 200);
  auto docs = Docs(Translate(req, TestOptions()));
  EXPECT_EQ(docs[0]["subsegments"][0], json::parse(R"({
    "id": "2222222222222222", "name": "DynamoDB", "namespace": "aws",
    "start_time": 1700000000.123456, "end_time": 1700000000.623456,
    "aws": {"operation": "GetItem", "region": "eu-west-1", "request_id": "R42", "table_name": "carts"},
    "http": {"response": {"status": 200}},
    "metadata": {"default": {"rpc.system": "aws-api", "rpc.service": "DynamoDB"}}
  })"));
}

TEST(TranslatorTest, OrphanSubsegmentBecomesIndependentDocument) {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "api");
  AddSpan(rs, "2222222222222222", "1111111111111111", Span::SPAN_KIND_INTERNAL, "render");
  auto* child =
      AddSpan(rs, "3333333333333333", "2222222222222222", Span::SPAN_KIND_INTERNAL, "template");
  child->set_end_time_unix_nano(0);
  Translation t = Translate(req, TestOptions());
  ASSERT_EQ(t.documents.size(), 1u);
  EXPECT_EQ(json::parse(t.documents[0].json), json::parse(R"({
    "type": "subsegment", "id": "2222222222222222", "parent_id": "1111111111111111",
    "trace_id": "1-5759e988-bd862e3fe1be46a994272793", "name": "render",
    "start_time": 1700000000.123456, "end_time": 1700000000.623456,
    "subsegments": [{"id": "3333333333333333", "name": "template",
                     "start_time": 1700000000.123456, "in_progress": true}]
  })"));
}

TEST(TranslatorTest, ServerSpanUnderClientSpanInSameRequestIsItsOwnSegment) {
  ExportTraceServiceRequest req;
  auto* front = AddResource(req, "front");
  AddSpan(front, "1111111111111111", "", Span::SPAN_KIND_SERVER);
  AddSpan(front, "2222222222222222", "1111111111111111", Span::SPAN_KIND_CLIENT, "GET");
  auto* back = AddResource(req, "back");
  AddSpan(back, "3333333333333333", "2222222222222222", Span::SPAN_KIND_SERVER);
  auto docs = Docs(Translate(req, TestOptions()));
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0]["name"], "front");
  EXPECT_EQ(docs[0]["subsegments"][0]["id"], "2222222222222222");
  EXPECT_EQ(docs[1]["name"], "back");
  EXPECT_EQ(docs[1]["parent_id"], "2222222222222222");
}

TEST(TranslatorTest, SameSpanIdInAnotherTraceDoesNotNest) {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "api");
  AddSpan(rs, "1111111111111111", "", Span::SPAN_KIND_SERVER);
  AddSpan(rs, "2222222222222222", "1111111111111111", Span::SPAN_KIND_CLIENT, "x",
          "00000000000000000000000000000001");
  auto docs = Docs(Translate(req, TestOptions()));
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[1]["type"], "subsegment");
  EXPECT_EQ(docs[1]["trace_id"], "1-00000000-000000000000000000000001");
}

TEST(TranslatorTest, TimesAreTruncatedToMicroseconds) {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "api");
  auto* s = AddSpan(rs, "1111111111111111", "", Span::SPAN_KIND_SERVER);
  s->set_start_time_unix_nano(1700000000000000999ull);
  s->set_end_time_unix_nano(1700000001999999999ull);
  Translation t = Translate(req, TestOptions());
  auto doc = json::parse(t.documents[0].json);
  EXPECT_EQ(doc["start_time"].get<double>(), 1700000000.0);
  EXPECT_EQ(doc["end_time"].get<double>(), 1700000001.999999);
  EXPECT_NE(t.documents[0].json.find(R"("end_time":1700000001.999999)"), std::string::npos);
}

TEST(TranslatorTest, MalformedSpansAreRejectedAndExplained) {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "api");
  AddSpan(rs, "1111111111111111", "", Span::SPAN_KIND_SERVER)->set_trace_id("short");
  AddSpan(rs, "0000000000000000", "", Span::SPAN_KIND_SERVER);
  AddSpan(rs, "3333333333333333", "", Span::SPAN_KIND_SERVER)->set_parent_span_id("abc");
  AddSpan(rs, "4444444444444444", "", Span::SPAN_KIND_SERVER)->set_start_time_unix_nano(0);
  AddSpan(rs, "5555555555555555", "", Span::SPAN_KIND_SERVER)->set_end_time_unix_nano(kStart - 1);
  AddSpan(rs, "6666666666666666", "", Span::SPAN_KIND_SERVER);
  Translation t = Translate(req, TestOptions());
  EXPECT_EQ(t.total_spans, 6);
  EXPECT_EQ(t.rejected_spans, 5);
  ASSERT_EQ(t.documents.size(), 1u);
  EXPECT_EQ(t.documents[0].id, "6666666666666666");
  EXPECT_EQ(t.errors,
            (std::vector<std::string>{
                "span 1111111111111111: trace_id must be 16 bytes, not all zero (got 5 bytes)",
                "span 0000000000000000: span_id must be 8 bytes, not all zero (got 8 bytes)",
                "span 3333333333333333: parent_span_id must be empty or 8 bytes (got 3 bytes)",
                "span 4444444444444444: start_time_unix_nano is missing",
                "span 5555555555555555: end_time_unix_nano is before start_time_unix_nano"}));
}

TEST(TranslatorTest, OversizeDocumentIsSplitIntoIndependentSubsegments) {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "api");
  AddSpan(rs, "1111111111111111", "", Span::SPAN_KIND_SERVER);
  for (int i = 0; i < 3; ++i) {
    auto* c =
        AddSpan(rs, fmt::format("{:016x}", 0x20 + i), "1111111111111111", Span::SPAN_KIND_INTERNAL);
    c->set_start_time_unix_nano(kStart + static_cast<uint64_t>(i) * 1000);
    Attr(c->mutable_attributes(), "blob", std::string(300, 'x'));
  }
  TranslatorOptions options = TestOptions();
  options.max_document_bytes = 600;
  Translation t = Translate(req, options);
  ASSERT_EQ(t.documents.size(), 4u);
  auto docs = Docs(t);
  EXPECT_FALSE(docs[0].contains("subsegments"));
  for (int i = 1; i < 4; ++i) {
    EXPECT_EQ(docs[i]["type"], "subsegment");
    EXPECT_EQ(docs[i]["parent_id"], "1111111111111111");
    EXPECT_EQ(docs[i]["trace_id"], "1-5759e988-bd862e3fe1be46a994272793");
    EXPECT_EQ(docs[i]["id"], fmt::format("{:016x}", 0x20 + i - 1));
  }
  EXPECT_EQ(t.rejected_spans, 0);

  options.max_document_bytes = 200;  // one child alone no longer fits
  Translation small = Translate(req, options);
  EXPECT_EQ(small.documents.size(), 1u);
  EXPECT_EQ(small.rejected_spans, 3);
  ASSERT_EQ(small.errors.size(), 3u);
  EXPECT_EQ(small.errors[0].rfind("span 0000000000000020: its X-Ray document is ", 0), 0u);
}

TEST(TranslatorTest, NamesAreSanitizedAndTruncated) {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "shop<prod>;v2 ümlaut");
  AddSpan(rs, "1111111111111111", "", Span::SPAN_KIND_SERVER);
  auto* rs2 = AddResource(req, std::string(250, 'a'));
  AddSpan(rs2, "2222222222222222", "", Span::SPAN_KIND_SERVER);
  auto docs = Docs(Translate(req, TestOptions()));
  EXPECT_EQ(docs[0]["name"], "shopprodv2 ümlaut");
  EXPECT_EQ(docs[1]["name"], std::string(200, 'a'));
}

TEST(TranslatorTest, ParentLoopIsCutNotLost) {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "api");
  AddSpan(rs, "1111111111111111", "2222222222222222", Span::SPAN_KIND_INTERNAL);
  AddSpan(rs, "2222222222222222", "1111111111111111", Span::SPAN_KIND_INTERNAL);
  Translation t = Translate(req, TestOptions());
  ASSERT_EQ(t.documents.size(), 1u);
  EXPECT_EQ(t.documents[0].span_count, 2u);
}

TEST(TranslatorTest, XRayTraceIdSplitsAfterEightHexDigits) {
  EXPECT_EQ(XRayTraceId(Bytes("4efaaf4d1e8720b39541901950019ee5")),
            "1-4efaaf4d-1e8720b39541901950019ee5");
}

}  // namespace
}  // namespace roentgen::otlp
