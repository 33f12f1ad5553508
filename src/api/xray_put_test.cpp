#include <fmt/format.h>
#include <gtest/gtest.h>

#include "api/testing/api_fixture.h"
#include "ingest/testing/segments.h"

namespace roentgen::api {
namespace {

using ingest::testing::SegmentIdText;
using ingest::testing::SegmentJson;
using ingest::testing::TraceIdText;
using nlohmann::json;

class PutTest : public testing::ApiFixture {};

TEST_F(PutTest, MixedDocumentsReportOnlyTheBadOnesAfterTheGoodAreStored) {
  const std::string good1 = SegmentJson(TraceIdText(1), SegmentIdText(1), 10.0, 11.0);
  const std::string good2 = SegmentJson(TraceIdText(2), SegmentIdText(2), 10.0, 11.0);
  const std::string bad_id =
      R"({"name":"web","id":"00000000000000ab","trace_id":"1-abc","start_time":1,"end_time":2})";
  HttpResponse r =
      Post("/TraceSegments", json{{"TraceSegmentDocuments", {good1, "{", bad_id, good2}}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json body = Json(r);
  ASSERT_EQ(body["UnprocessedTraceSegments"].size(), 2u);
  const json& malformed = body["UnprocessedTraceSegments"][0];
  EXPECT_FALSE(malformed.contains("Id"));
  EXPECT_EQ(malformed["ErrorCode"], "MalformedJson");
  EXPECT_FALSE(malformed["Message"].get<std::string>().empty());
  const json& invalid = body["UnprocessedTraceSegments"][1];
  EXPECT_EQ(invalid["Id"], "00000000000000ab");
  EXPECT_EQ(invalid["ErrorCode"], "InvalidId");
  EXPECT_TRUE(invalid["Message"].get<std::string>().starts_with("trace_id: ")) << invalid;
  // The response was sent only after the commit.
  EXPECT_EQ(store_.document_count(), 2u);
  EXPECT_EQ(
      metrics_.GetCounter("roentgen_segments_received_total", "", {{"transport", "http"}}).Value(),
      4u);
}

// X-Ray's 64 KB per document: the one over it comes back under its Id, the
// rest of the batch is stored, and the limit is counted.
TEST_F(PutTest, ADocumentOver64KBIsReportedUnderItsIdAndTheRestStored) {
  const std::string good = SegmentJson(TraceIdText(1), SegmentIdText(1), 10.0, 11.0);
  std::string big = SegmentJson(TraceIdText(2), SegmentIdText(2), 10.0, 11.0);
  big.insert(1, R"("metadata":{"default":{"blob":")" + std::string(70 * 1024, 'x') + R"("}},)");
  HttpResponse r = Post("/TraceSegments", json{{"TraceSegmentDocuments", {big, good}}});
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 200);
  const json unprocessed = Json(r)["UnprocessedTraceSegments"];
  ASSERT_EQ(unprocessed.size(), 1u) << unprocessed;
  EXPECT_EQ(unprocessed[0]["Id"], SegmentIdText(2));
  EXPECT_EQ(unprocessed[0]["ErrorCode"], "TooLarge");
  EXPECT_EQ(unprocessed[0]["Message"],
            fmt::format("document is {} bytes, over the 65536-byte limit", big.size()));
  EXPECT_EQ(store_.document_count(), 1u);
  EXPECT_EQ(LimitCounter(metrics_, Limit::kDocumentSize).Value(), 1u);
  EXPECT_EQ(
      metrics_.GetCounter("roentgen_segments_rejected_total", "", {{"reason", "TooLarge"}}).Value(),
      1u);
}

TEST_F(PutTest, ArrayOfSubsegmentsIsOneDocument) {
  const std::string array = "[" +
                            ingest::testing::SubsegmentJson(TraceIdText(3), SegmentIdText(5),
                                                            SegmentIdText(4), 1.0, 2.0) +
                            "," +
                            ingest::testing::SubsegmentJson(TraceIdText(3), SegmentIdText(6),
                                                            SegmentIdText(4), 1.0, 2.0) +
                            "]";
  PutAll({array});
  EXPECT_EQ(store_.document_count(), 2u);
}

TEST_F(PutTest, EmptyListIsFine) {
  HttpResponse r = Post("/TraceSegments", std::string(R"({"TraceSegmentDocuments":[]})"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"UnprocessedTraceSegments":[]})");
}

TEST_F(PutTest, MalformedRequestsAreInvalidRequestExceptions) {
  for (const char* body : {"{\"TraceSegmentDocuments\":[", "nope"}) {
    HttpResponse r = Post("/TraceSegments", std::string(body));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(Json(r)["__type"], "InvalidRequestException");
    EXPECT_TRUE(
        Json(r)["message"].get<std::string>().starts_with("request body is not valid JSON: "))
        << r.body;
  }
  ExpectInvalid(Post("/TraceSegments", std::string("{}")), "TraceSegmentDocuments: required");
  ExpectInvalid(Post("/TraceSegments", std::string(R"({"TraceSegmentDocuments":"x"})")),
                "TraceSegmentDocuments: must be an array, got a string");
  ExpectInvalid(Post("/TraceSegments", std::string(R"({"TraceSegmentDocuments":["{}",{}]})")),
                "TraceSegmentDocuments[1]: must be a string holding a segment document");
  ExpectInvalid(Post("/TraceSegments", std::string("[]")),
                "request body must be a JSON object, got an array");
  ExpectInvalid(
      Post("/TraceSegments", json{{"TraceSegmentDocuments", std::vector<std::string>(1001, "{}")}}),
      "TraceSegmentDocuments: at most 1000 documents per request, got 1001");
  EXPECT_EQ(store_.write_calls(), 0u);
  EXPECT_EQ(LimitCounter(metrics_, Limit::kDocumentsPerRequest).Value(), 1u);
}

TEST_F(PutTest, StoreFailureIsAnInternalFailure) {
  store_.FailWrites(Status::IOError("disk on fire"));
  HttpResponse r = Post(
      "/TraceSegments",
      json{{"TraceSegmentDocuments", {SegmentJson(TraceIdText(1), SegmentIdText(1), 1.0, 2.0)}}});
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(Json(r), (json{{"__type", "InternalFailure"}, {"message", "disk on fire"}}));
}

// The store's disk is full: X-Ray's retryable 503, saying so.
TEST_F(PutTest, AFullDiskIsServiceUnavailable) {
  store_.FailWrites(Status::Unavailable("the server's disk is full: writes are refused"));
  HttpResponse r = Post(
      "/TraceSegments",
      json{{"TraceSegmentDocuments", {SegmentJson(TraceIdText(1), SegmentIdText(1), 1.0, 2.0)}}});
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Json(r), (json{{"__type", "ServiceUnavailableException"},
                           {"message", "the server's disk is full: writes are refused"}}));
}

TEST_F(PutTest, StoppedPipelineIsServiceUnavailable) {
  pipeline_->Stop();
  HttpResponse r = Post(
      "/TraceSegments",
      json{{"TraceSegmentDocuments", {SegmentJson(TraceIdText(1), SegmentIdText(1), 1.0, 2.0)}}});
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Json(r)["__type"], "ServiceUnavailableException");
}

TEST_F(PutTest, TelemetryRecordsAreValidatedAndCounted) {
  const json ok = {{"TelemetryRecords",
                    {{{"Timestamp", 1700000000.5},
                      {"SegmentsReceivedCount", 10},
                      {"SegmentsSentCount", 9},
                      {"SegmentsRejectedCount", 1},
                      {"BackendConnectionErrors", {{"TimeoutCount", 0}, {"HTTPCode5XXCount", 2}}}},
                     {{"Timestamp", 1700000001}, {"SegmentsSentCount", 1}}}},
                   {"EC2InstanceId", "i-0123"},
                   {"Hostname", "host"}};
  HttpResponse r = Post("/TelemetryRecords", ok);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{}");
  EXPECT_EQ(metrics_.GetCounter("roentgen_telemetry_records_total", "").Value(), 2u);
  EXPECT_EQ(metrics_.GetCounter("roentgen_daemon_segments_total", "", {{"kind", "sent"}}).Value(),
            10u);
  EXPECT_EQ(
      metrics_.GetCounter("roentgen_daemon_segments_total", "", {{"kind", "rejected"}}).Value(),
      1u);

  ExpectInvalid(Post("/TelemetryRecords", json::object()), "TelemetryRecords: required");
  ExpectInvalid(Post("/TelemetryRecords", json{{"TelemetryRecords", {json::object()}}}),
                "TelemetryRecords[0].Timestamp: required");
  ExpectInvalid(Post("/TelemetryRecords",
                     json{{"TelemetryRecords", {{{"Timestamp", 1}, {"SegmentsSentCount", -1}}}}}),
                "TelemetryRecords[0].SegmentsSentCount: must be a non-negative integer");
  ExpectInvalid(
      Post("/TelemetryRecords",
           json{{"TelemetryRecords",
                 {{{"Timestamp", 1}, {"BackendConnectionErrors", {{"OtherCount", "x"}}}}}}}),
      "TelemetryRecords[0].BackendConnectionErrors.OtherCount: must be a number, got a string");
  ExpectInvalid(
      Post("/TelemetryRecords", json{{"TelemetryRecords", json::array()}, {"Hostname", 3}}),
      "Hostname: must be a string, got a number");
}

}  // namespace
}  // namespace roentgen::api
