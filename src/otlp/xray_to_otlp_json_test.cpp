#include "otlp/xray_to_otlp_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "otlp/otlp_decode.h"
#include "otlp/translator.h"

namespace roentgen::otlp {
namespace {

using nlohmann::json;

const char* kTraceId = "1-5f4b3c2a-1234567890abcdef12345678";

// A segment with an http block, an annotation, metadata, a user, and two
// subsegments: a remote call that faulted with an exception, and an AWS call.
const char* kSegment = R"({
  "name": "checkout", "id": "70de5b6f19ff9a0a", "trace_id": "1-5f4b3c2a-1234567890abcdef12345678",
  "start_time": 1700000000.25, "end_time": 1700000001.5, "origin": "AWS::EC2::Instance",
  "user": "alice", "service": {"version": "1.2.3"},
  "aws": {"account_id": "123456789012", "xray": {"sdk": "X-Ray for Node.js", "sdk_version": "3.12.0"}},
  "http": {"request": {"method": "POST", "url": "https://shop.example/cart", "client_ip": "10.0.0.1"},
           "response": {"status": 502, "content_length": 17}},
  "fault": true,
  "annotations": {"email": "alice@example.com", "items": 3},
  "metadata": {"default": {"cart": {"size": 3}}, "debug": {"step": "pay"}},
  "subsegments": [
    {"name": "payments.example", "id": "0f910026178b71eb", "namespace": "remote",
     "start_time": 1700000000.5, "end_time": 1700000001.25, "fault": true,
     "http": {"request": {"method": "GET", "url": "https://payments.example/pay"},
              "response": {"status": 500}},
     "cause": {"exceptions": [{"id": "1b4d5c21e8a8e1f0", "type": "Error", "message": "upstream down",
                               "stack": [{"label": "pay", "path": "app.js", "line": 12}]}]}},
    {"name": "DynamoDB", "id": "3f910026178b71ec", "namespace": "aws",
     "start_time": 1700000000.3, "end_time": 1700000000.4,
     "aws": {"operation": "GetItem", "region": "us-east-1", "table_name": "carts", "request_id": "R1"},
     "subsegments": [{"name": "marshal", "id": "4f910026178b71ed", "start_time": 1700000000.31,
                      "in_progress": true}]}
  ]
})";

json Span(const OtlpJsonSpan& s) {
  return json::parse(s.document)["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
}
json Resource(const OtlpJsonSpan& s) {
  return json::parse(s.document)["resourceSpans"][0]["resource"];
}
// The value of `key` in an OTLP KeyValue list, or null.
json Attr(const json& list, const std::string& key) {
  for (const json& kv : list) {
    if (kv["key"] == key) return kv["value"];
  }
  return nullptr;
}

xray::TraceId Id() { return *xray::TraceId::Parse(kTraceId); }

TEST(XRayToOtlpJsonTest, EveryEntityBecomesOneSpanDepthFirst) {
  Result<std::vector<OtlpJsonSpan>> spans = XRayDocumentToOtlpJson(Id(), kSegment);
  ASSERT_TRUE(spans.ok()) << spans.status().ToString();
  ASSERT_EQ(spans->size(), 4u);
  EXPECT_EQ((*spans)[0].span_id, "70de5b6f19ff9a0a");
  EXPECT_EQ((*spans)[1].span_id, "0f910026178b71eb");
  EXPECT_EQ((*spans)[2].span_id, "3f910026178b71ec");
  EXPECT_EQ((*spans)[3].span_id, "4f910026178b71ed");
  for (const OtlpJsonSpan& s : *spans) {
    EXPECT_EQ(Span(s)["traceId"], "5f4b3c2a1234567890abcdef12345678");
    EXPECT_EQ(Attr(Resource(s)["attributes"], "service.name")["stringValue"], "checkout");
  }
}

TEST(XRayToOtlpJsonTest, SegmentFieldsBecomeServerSpanAttributesAndResource) {
  std::vector<OtlpJsonSpan> spans = *XRayDocumentToOtlpJson(Id(), kSegment);
  const json segment = Span(spans[0]);
  EXPECT_EQ(segment["kind"], 2);  // SERVER
  EXPECT_FALSE(segment.contains("parentSpanId"));
  EXPECT_EQ(segment["startTimeUnixNano"], "1700000000250000000");
  EXPECT_EQ(segment["endTimeUnixNano"], "1700000001500000000");
  const json& a = segment["attributes"];
  EXPECT_EQ(Attr(a, "http.request.method")["stringValue"], "POST");
  EXPECT_EQ(Attr(a, "url.full")["stringValue"], "https://shop.example/cart");
  EXPECT_EQ(Attr(a, "client.address")["stringValue"], "10.0.0.1");
  EXPECT_EQ(Attr(a, "http.response.status_code")["intValue"], "502");
  EXPECT_EQ(Attr(a, "enduser.id")["stringValue"], "alice");
  EXPECT_EQ(Attr(a, "email")["stringValue"], "alice@example.com");
  EXPECT_EQ(Attr(a, "items")["intValue"], "3");
  EXPECT_EQ(Attr(a, "aws.xray.annotations")["arrayValue"]["values"].size(), 2u);
  EXPECT_EQ(Attr(a, "cart")["kvlistValue"]["values"][0]["key"], "size");
  EXPECT_EQ(Attr(a, "aws.xray.metadata.debug")["kvlistValue"]["values"][0]["value"]["stringValue"],
            "pay");
  EXPECT_EQ(segment["status"]["code"], 2);  // a fault is an error
  const json r = Resource(spans[0])["attributes"];
  EXPECT_EQ(Attr(r, "cloud.platform")["stringValue"], "aws_ec2");
  EXPECT_EQ(Attr(r, "service.version")["stringValue"], "1.2.3");
  EXPECT_EQ(Attr(r, "cloud.account.id")["stringValue"], "123456789012");
  EXPECT_EQ(Attr(r, "telemetry.sdk.name")["stringValue"], "X-Ray for Node.js");
}

TEST(XRayToOtlpJsonTest, SubsegmentsBecomeClientOrInternalSpansUnderTheirParent) {
  std::vector<OtlpJsonSpan> spans = *XRayDocumentToOtlpJson(Id(), kSegment);
  const json remote = Span(spans[1]);
  EXPECT_EQ(remote["kind"], 3);  // CLIENT
  EXPECT_EQ(remote["parentSpanId"], "70de5b6f19ff9a0a");
  ASSERT_EQ(remote["events"].size(), 1u);
  EXPECT_EQ(remote["events"][0]["name"], "exception");
  EXPECT_EQ(Attr(remote["events"][0]["attributes"], "exception.stacktrace")["stringValue"],
            "Error: upstream down\n    at pay (app.js:12)");
  EXPECT_EQ(remote["status"]["message"], "upstream down");
  const json dynamo = Span(spans[2]);
  EXPECT_EQ(dynamo["kind"], 3);
  EXPECT_EQ(Attr(dynamo["attributes"], "rpc.system")["stringValue"], "aws-api");
  EXPECT_EQ(Attr(dynamo["attributes"], "rpc.method")["stringValue"], "GetItem");
  EXPECT_EQ(Attr(dynamo["attributes"], "aws.dynamodb.table_names")["arrayValue"]["values"][0]
                ["stringValue"],
            "carts");
  EXPECT_FALSE(dynamo.contains("status"));
  const json internal = Span(spans[3]);
  EXPECT_EQ(internal["kind"], 1);  // INTERNAL
  EXPECT_EQ(internal["parentSpanId"], "3f910026178b71ec");
  EXPECT_EQ(internal["endTimeUnixNano"], "0");  // in progress
}

TEST(XRayToOtlpJsonTest, IndependentSubsegmentKeepsItsParentAndLinksBecomeSpanLinks) {
  const char* doc = R"({"type": "subsegment", "name": "queue", "id": "5f910026178b71ee",
    "trace_id": "1-5f4b3c2a-1234567890abcdef12345678", "parent_id": "70de5b6f19ff9a0a",
    "start_time": 1700000000.1, "end_time": 1700000000.2,
    "links": [{"trace_id": "1-6a000000-aaaaaaaaaaaaaaaaaaaaaaaa", "id": "1111111111111111",
               "attributes": {"aws.xray.reserved.reference_type": "child"}}]})";
  Result<std::vector<OtlpJsonSpan>> spans = XRayDocumentToOtlpJson(Id(), doc);
  ASSERT_TRUE(spans.ok()) << spans.status().ToString();
  ASSERT_EQ(spans->size(), 1u);
  const json span = Span((*spans)[0]);
  EXPECT_EQ(span["parentSpanId"], "70de5b6f19ff9a0a");
  EXPECT_EQ(Attr(Resource((*spans)[0])["attributes"], "service.name")["stringValue"],
            "unknown_service");
  ASSERT_EQ(span["links"].size(), 1u);
  EXPECT_EQ(span["links"][0]["traceId"], "6a000000aaaaaaaaaaaaaaaaaaaaaaaa");
  EXPECT_EQ(span["links"][0]["spanId"], "1111111111111111");
}

TEST(XRayToOtlpJsonTest, MalformedDocumentsAreRefused) {
  EXPECT_EQ(XRayDocumentToOtlpJson(Id(), "[1]").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(XRayDocumentToOtlpJson(Id(), "{\"name\": \"x\", \"id\": \"zz\"}").status().code(),
            StatusCode::kInvalidArgument);
}

// What Roentgen exports, Roentgen's own OTLP intake reads back to the same
// entities (ids, names, times, http, annotations, fault).
TEST(XRayToOtlpJsonTest, ExportedSpansTranslateBackToTheSameEntities) {
  std::vector<OtlpJsonSpan> spans = *XRayDocumentToOtlpJson(Id(), kSegment);
  ExportTraceServiceRequest merged;
  for (const OtlpJsonSpan& s : spans) {
    ExportTraceServiceRequest one;
    ASSERT_TRUE(DecodeRequest(s.document, Encoding::kJson, one).ok()) << s.document;
    merged.MergeFrom(one);
  }
  Translation t = Translate(merged);
  ASSERT_EQ(t.rejected_spans, 0) << (t.errors.empty() ? "" : t.errors[0]);
  ASSERT_EQ(t.documents.size(), 1u);
  const json back = json::parse(t.documents[0].json);
  EXPECT_EQ(back["trace_id"], kTraceId);
  EXPECT_EQ(back["id"], "70de5b6f19ff9a0a");
  EXPECT_EQ(back["name"], "checkout");
  EXPECT_DOUBLE_EQ(back["start_time"].get<double>(), 1700000000.25);
  EXPECT_EQ(back["http"]["request"]["method"], "POST");
  EXPECT_EQ(back["http"]["response"]["status"], 502);
  EXPECT_EQ(back["annotations"]["email"], "alice@example.com");
  EXPECT_EQ(back["user"], "alice");
  EXPECT_EQ(back["fault"], true);
  ASSERT_EQ(back["subsegments"].size(), 2u);
  EXPECT_EQ(back["subsegments"][1]["id"], "0f910026178b71eb");  // by start time
  EXPECT_EQ(back["subsegments"][1]["cause"]["exceptions"][0]["message"], "upstream down");
  EXPECT_EQ(back["subsegments"][0]["subsegments"][0]["in_progress"], true);
}

}  // namespace
}  // namespace roentgen::otlp
