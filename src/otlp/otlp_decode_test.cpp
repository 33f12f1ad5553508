#include "otlp/otlp_decode.h"

#include <gtest/gtest.h>

#include "otlp/otlp_test_util.h"
#include "roentgen/otlp/rpc_status.pb.h"

namespace roentgen::otlp {
namespace {

using namespace roentgen::otlp::testing;
using pb_trace::Span;

constexpr std::string_view kOtlpJson = R"({
  "resourceSpans": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]},
    "scopeSpans": [{
      "scope": {"name": "manual"},
      "spans": [{
        "traceId": "5759E988BD862E3FE1BE46A994272793",
        "spanId": "53995c3f42cd8ad8",
        "parentSpanId": "",
        "name": "GET /cart",
        "kind": 2,
        "startTimeUnixNano": "1700000000123456789",
        "endTimeUnixNano": 1700000000623456000,
        "attributes": [{"key": "http.response.status_code", "value": {"intValue": "503"}}],
        "status": {"code": 2, "message": "down"},
        "links": [{"traceId": "00000000000000000000000000000001", "spanId": "0000000000000002"}],
        "futureField": {"ignored": true}
      }]
    }]
  }]
})";

// The decoded request by value, or the error.
Result<ExportTraceServiceRequest> Decode(std::string_view body, Encoding encoding) {
  ExportTraceServiceRequest request;
  RG_RETURN_IF_ERROR(DecodeRequest(body, encoding, request));
  return request;
}

TEST(OtlpDecodeTest, JsonHexIdsIntegerEnumsAndStringNumbers) {
  Result<ExportTraceServiceRequest> r = Decode(kOtlpJson, Encoding::kJson);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Span& s = r->resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(s.trace_id(), Bytes("5759e988bd862e3fe1be46a994272793"));
  EXPECT_EQ(s.span_id(), Bytes("53995c3f42cd8ad8"));
  EXPECT_EQ(s.parent_span_id(), "");
  EXPECT_EQ(s.kind(), Span::SPAN_KIND_SERVER);
  EXPECT_EQ(s.start_time_unix_nano(), 1700000000123456789ull);
  EXPECT_EQ(s.end_time_unix_nano(), 1700000000623456000ull);
  EXPECT_EQ(s.attributes(0).value().int_value(), 503);
  EXPECT_EQ(s.status().code(), pb_trace::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(s.links(0).span_id(), Bytes("0000000000000002"));
  EXPECT_EQ(r->resource_spans(0).resource().attributes(0).value().string_value(), "checkout");
}

TEST(OtlpDecodeTest, JsonAcceptsSnakeCaseNamesAndEnumNames) {
  Result<ExportTraceServiceRequest> r = Decode(R"({"resource_spans": [{"scope_spans": [{"spans": [
      {"trace_id": "5759e988bd862e3fe1be46a994272793", "span_id": "53995c3f42cd8ad8",
       "parent_span_id": "1111111111111111", "kind": "SPAN_KIND_CLIENT"}]}]}]})",
                                               Encoding::kJson);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Span& s = r->resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(s.parent_span_id(), Bytes("1111111111111111"));
  EXPECT_EQ(s.kind(), Span::SPAN_KIND_CLIENT);
}

TEST(OtlpDecodeTest, JsonErrorsNameTheProblem) {
  auto message = [](std::string_view body) {
    return Decode(body, Encoding::kJson).status().message();
  };
  EXPECT_EQ(message("{not json"), "body is not valid JSON");
  EXPECT_EQ(message("[1]"), "body must be a JSON object");
  EXPECT_EQ(message(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz0"}]}]}]})"),
            "resourceSpans[0].scopeSpans[0].spans[0].traceId: \"xyz0\" is not hex");
  EXPECT_EQ(message(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"abc"}]}]}]})"),
            "resourceSpans[0].scopeSpans[0].spans[0].spanId: \"abc\" is not an even number of hex "
            "digits");
  EXPECT_EQ(message(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":{"x":1}}]}]}]})")
                .rfind("body is not a valid OTLP/JSON ExportTraceServiceRequest: ", 0),
            0u);
  EXPECT_EQ(Decode("{}", Encoding::kJson).ok(), true);
}

TEST(OtlpDecodeTest, ProtobufRoundTripAndGarbage) {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "checkout");
  AddSpan(rs, "53995c3f42cd8ad8", "", Span::SPAN_KIND_SERVER);
  Result<ExportTraceServiceRequest> r = Decode(req.SerializeAsString(), Encoding::kProtobuf);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->SerializeAsString(), req.SerializeAsString());
  Result<ExportTraceServiceRequest> bad = Decode("\x0a\xff\xff\xff", Encoding::kProtobuf);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "body is not a valid protobuf ExportTraceServiceRequest");
}

TEST(OtlpDecodeTest, ArenaRequestDecodesBothEncodingsLikeTheHeap) {
  ExportTraceServiceRequest req;
  auto* rs = AddResource(req, "checkout");
  AddSpan(rs, "53995c3f42cd8ad8", "", Span::SPAN_KIND_SERVER);
  const std::string body = req.SerializeAsString();
  ArenaRequest from_protobuf(body.size());
  ASSERT_TRUE(DecodeRequest(body, Encoding::kProtobuf, from_protobuf.request()).ok());
  EXPECT_NE(from_protobuf.request().GetArena(), nullptr);
  EXPECT_EQ(from_protobuf.request().SerializeAsString(), body);

  ArenaRequest from_json(kOtlpJson.size());
  ASSERT_TRUE(DecodeRequest(kOtlpJson, Encoding::kJson, from_json.request()).ok());
  Result<ExportTraceServiceRequest> heap = Decode(kOtlpJson, Encoding::kJson);
  ASSERT_TRUE(heap.ok());
  EXPECT_EQ(from_json.request().SerializeAsString(), heap->SerializeAsString());

  ArenaRequest garbage(4);
  EXPECT_EQ(DecodeRequest("\x0a\xff\xff\xff", Encoding::kProtobuf, garbage.request()).code(),
            StatusCode::kInvalidArgument);
}

TEST(OtlpDecodeTest, ContentTypes) {
  EXPECT_EQ(EncodingFromContentType("application/x-protobuf"), Encoding::kProtobuf);
  EXPECT_EQ(EncodingFromContentType("Application/JSON; charset=utf-8"), Encoding::kJson);
  EXPECT_EQ(EncodingFromContentType("text/plain"), std::nullopt);
  EXPECT_EQ(EncodingFromContentType(""), std::nullopt);
  EXPECT_EQ(ContentType(Encoding::kProtobuf), "application/x-protobuf");
}

TEST(OtlpDecodeTest, ResponsesAndErrors) {
  ExportTraceServiceResponse ok;
  EXPECT_EQ(EncodeResponse(ok, Encoding::kJson), "{}");
  EXPECT_EQ(EncodeResponse(ok, Encoding::kProtobuf), "");
  ExportTraceServiceResponse partial;
  partial.mutable_partial_success()->set_rejected_spans(2);
  partial.mutable_partial_success()->set_error_message("2 of 3 spans rejected");
  EXPECT_EQ(EncodeResponse(partial, Encoding::kJson),
            R"({"partialSuccess":{"rejectedSpans":"2","errorMessage":"2 of 3 spans rejected"}})");
  ExportTraceServiceResponse back;
  ASSERT_TRUE(back.ParseFromString(EncodeResponse(partial, Encoding::kProtobuf)));
  EXPECT_EQ(back.partial_success().rejected_spans(), 2);

  EXPECT_EQ(EncodeError(3, "bad body", Encoding::kJson), R"({"code":3,"message":"bad body"})");
  RpcStatus status;
  ASSERT_TRUE(status.ParseFromString(EncodeError(3, "bad body", Encoding::kProtobuf)));
  EXPECT_EQ(status.code(), 3);
  EXPECT_EQ(status.message(), "bad body");
}

}  // namespace
}  // namespace roentgen::otlp
