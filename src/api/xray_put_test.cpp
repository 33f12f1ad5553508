#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "api/telemetry_metrics.h"
#include "api/testing/api_fixture.h"
#include "ingest/put_spool.h"
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
  ExpectInvalid(Post("/TraceSegments", std::string(" \n")), "TraceSegmentDocuments: required");
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

// PutTraceSegments through the API spool (ingest/put_spool.h), over a store
// that makes writes durable only when released, as the block engine does.
class SpooledPutTest : public testing::ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    dir_ = (std::filesystem::temp_directory_path() /
            ("roentgen-put-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
  }
  void Open(uint64_t max_bytes) {
    ingest::SpoolConfig config;
    config.name = "api";
    config.dir = dir_;
    config.max_bytes = max_bytes;
    config.file_bytes = std::min<uint64_t>(max_bytes, 64 << 10);
    spool_ = std::make_unique<ingest::PutSpool>(config, *pipeline_, metrics_);
    ASSERT_TRUE(spool_->Open().ok());
    RegisterXRayApi(spooled_, spool_->Sink(), store_, metrics_, query_limits_);
  }
  void TearDown() override {
    store_.HoldDurability(false);
    store_.ReleaseDurable();
    if (spool_) spool_->Stop();
    ApiFixture::TearDown();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::unique_ptr<ingest::PutSpool> spool_;
  Router spooled_;
};

// Answered once applied: the next BatchGetTraces finds the documents, though
// the store has not made them durable yet; the per-document outcomes are
// those of the direct path.
TEST_F(SpooledPutTest, AnsweredOnceAppliedWithTheSameOutcomes) {
  Open(64 << 20);
  store_.HoldDurability(true);
  const std::string good1 = SegmentJson(TraceIdText(1), SegmentIdText(1), 10.0, 11.0);
  const std::string good2 = SegmentJson(TraceIdText(2), SegmentIdText(2), 10.0, 11.0);
  const std::string bad_id =
      R"({"name":"web","id":"00000000000000ab","trace_id":"1-abc","start_time":1,"end_time":2})";
  HttpResponse r = PostTo(spooled_, "/TraceSegments",
                          json{{"TraceSegmentDocuments", {good1, "{", bad_id, good2}}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const json unprocessed = Json(r)["UnprocessedTraceSegments"];
  ASSERT_EQ(unprocessed.size(), 2u) << unprocessed;
  EXPECT_FALSE(unprocessed[0].contains("Id"));
  EXPECT_EQ(unprocessed[0]["ErrorCode"], "MalformedJson");
  EXPECT_EQ(unprocessed[1]["Id"], "00000000000000ab");
  EXPECT_EQ(unprocessed[1]["ErrorCode"], "InvalidId");

  HttpResponse traces = PostTo(spooled_, "/Traces",
                               json{{"TraceIds", {TraceIdText(1), TraceIdText(2)}}}.dump());
  ASSERT_EQ(traces.status, 200) << traces.body;
  EXPECT_EQ(Json(traces)["Traces"].size(), 2u) << traces.body;
  EXPECT_GT(store_.durable_pending(), 0u) << "the store made them durable before the answer";
  EXPECT_EQ(
      metrics_.GetCounter("roentgen_segments_received_total", "", {{"transport", "http"}}).Value(),
      4u);
  EXPECT_EQ(
      metrics_.GetCounter("roentgen_spool_appended_total", "", {{"spool", "api"}}).Value(), 2u);
}

// A full spool: X-Ray's retryable 429, counted as spool_full drops.
TEST_F(SpooledPutTest, AFullSpoolIsThrottled) {
  Open(4096);
  std::vector<std::string> documents;
  for (uint64_t i = 1; i <= 100; ++i) {
    documents.push_back(SegmentJson(TraceIdText(i), SegmentIdText(i), 1.0, 2.0));
  }
  HttpResponse r =
      PostTo(spooled_, "/TraceSegments", json{{"TraceSegmentDocuments", documents}}.dump());
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(Json(r), (json{{"__type", "ThrottledException"},
                           {"message", "the api spool is full; retry later"}}));
  EXPECT_EQ(
      metrics_.GetCounter("roentgen_segments_dropped_total", "", {{"reason", "spool_full"}})
          .Value(),
      100u);
  EXPECT_EQ(store_.document_count(), 0u);
}

// The store's disk is full: the same 503 as without the spool.
TEST_F(SpooledPutTest, AFullStoreDiskIsServiceUnavailable) {
  Open(64 << 20);
  store_.FailWrites(Status::Unavailable("the server's disk is full: writes are refused"));
  HttpResponse r = PostTo(
      spooled_, "/TraceSegments",
      json{{"TraceSegmentDocuments", {SegmentJson(TraceIdText(1), SegmentIdText(1), 1.0, 2.0)}}}
          .dump());
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Json(r), (json{{"__type", "ServiceUnavailableException"},
                           {"message", "the server's disk is full: writes are refused"}}));
  store_.FailWrites(Status::Ok());
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
  // Summed per host, labelled with the Hostname (before the EC2InstanceId).
  const auto count = [&](const char* family, const char* host, const char* kind) {
    return metrics_.GetCounter(family, "", {{"host", host}, {"kind", kind}}).Value();
  };
  EXPECT_EQ(count("roentgen_daemon_segments_total", "host", "received"), 10u);
  EXPECT_EQ(count("roentgen_daemon_segments_total", "host", "sent"), 10u);
  EXPECT_EQ(count("roentgen_daemon_segments_total", "host", "rejected"), 1u);
  EXPECT_EQ(count("roentgen_daemon_segments_total", "host", "spillover"), 0u);
  EXPECT_EQ(count("roentgen_daemon_backend_connection_errors_total", "host", "http_5xx"), 2u);
  EXPECT_EQ(count("roentgen_daemon_backend_connection_errors_total", "host", "timeout"), 0u);

  // No Hostname: the EC2InstanceId, then the ResourceARN, then "(unknown)".
  const json errors = {{"Timestamp", 1700000002},
                       {"SegmentsSpilloverCount", 4},
                       {"BackendConnectionErrors",
                        {{"TimeoutCount", 1},
                         {"ConnectionRefusedCount", 2},
                         {"HTTPCode4XXCount", 3},
                         {"HTTPCode5XXCount", 4},
                         {"UnknownHostCount", 5},
                         {"OtherCount", 6}}}};
  ASSERT_EQ(Post("/TelemetryRecords",
                 json{{"TelemetryRecords", {errors, errors}}, {"EC2InstanceId", "i-0123"}})
                .status,
            200);
  EXPECT_EQ(count("roentgen_daemon_segments_total", "i-0123", "spillover"), 8u);
  const char* kKinds[] = {"timeout",  "connection_refused", "http_4xx",
                          "http_5xx", "unknown_host",       "other"};
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(count("roentgen_daemon_backend_connection_errors_total", "i-0123", kKinds[i]),
              2u * (i + 1))
        << kKinds[i];
  }
  ASSERT_EQ(Post("/TelemetryRecords", json{{"TelemetryRecords", {errors}},
                                           {"ResourceARN", "arn:aws:ecs:task/1"},
                                           {"Hostname", ""}})
                .status,
            200);
  EXPECT_EQ(count("roentgen_daemon_segments_total", "arn:aws:ecs:task/1", "spillover"), 4u);
  ASSERT_EQ(Post("/TelemetryRecords", json{{"TelemetryRecords", {errors}}}).status, 200);
  EXPECT_EQ(count("roentgen_daemon_segments_total", "(unknown)", "spillover"), 4u);
  EXPECT_EQ(metrics_.GetCounter("roentgen_telemetry_records_total", "").Value(), 6u);
  const std::string text = metrics_.RenderText();
  EXPECT_NE(text.find("roentgen_daemon_segments_total{host=\"i-0123\",kind=\"spillover\"} 8"),
            std::string::npos)
      << text;

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
  ExpectInvalid(Post("/TelemetryRecords", json{{"TelemetryRecords", json::array()},
                                               {"Hostname", std::string(256, 'h')}}),
                "Hostname: at most 255 characters");
  ExpectInvalid(Post("/TelemetryRecords", json{{"TelemetryRecords", json::array()},
                                               {"EC2InstanceId", std::string(21, 'i')}}),
                "EC2InstanceId: at most 20 characters");
  ExpectInvalid(
      Post("/TelemetryRecords",
           json{{"TelemetryRecords", {{{"Timestamp", 1}, {"SegmentsSentCount", 2147483648}}}}}),
      "TelemetryRecords[0].SegmentsSentCount: at most 2147483647");
}

TEST(DaemonTelemetryTest, HostsPastTheLimitShareTheOtherLabel) {
  MetricsRegistry metrics;
  DaemonTelemetry telemetry(metrics, /*max_hosts=*/2);
  TelemetryCounts counts;
  counts.records = 3;
  counts.segments = {5, 4, 0, 1};
  counts.errors = {0, 0, 0, 0, 0, 7};
  telemetry.Record("a", counts);
  telemetry.Record("b", counts);
  telemetry.Record("c", counts);  // past the limit: under "(other)"
  telemetry.Record("d", counts);
  telemetry.Record("a", counts);  // known hosts keep their label
  const auto sent = [&](const char* host) {
    return metrics
        .GetCounter("roentgen_daemon_segments_total", "", {{"host", host}, {"kind", "sent"}})
        .Value();
  };
  EXPECT_EQ(sent("a"), 8u);
  EXPECT_EQ(sent("b"), 4u);
  EXPECT_EQ(sent("(other)"), 8u);
  EXPECT_EQ(metrics.GetCounter("roentgen_telemetry_hosts_overflow_total", "").Value(), 6u);
  EXPECT_EQ(metrics.GetCounter("roentgen_telemetry_records_total", "").Value(), 15u);
  EXPECT_EQ(metrics
                .GetCounter("roentgen_daemon_backend_connection_errors_total", "",
                            {{"host", "(other)"}, {"kind", "other"}})
                .Value(),
            14u);
  const std::string text = metrics.RenderText();
  EXPECT_EQ(text.find("host=\"c\""), std::string::npos) << text;
  EXPECT_EQ(text.find("host=\"d\""), std::string::npos) << text;
}

}  // namespace
}  // namespace roentgen::api
