#include <gtest/gtest.h>

#include <set>

#include "api/testing/api_fixture.h"
#include "ingest/testing/segments.h"

namespace roentgen::api {
namespace {

using ingest::testing::SegmentIdText;
using ingest::testing::SegmentJson;
using ingest::testing::SubsegmentJson;
using ingest::testing::TraceIdText;
using nlohmann::json;

class ReadTest : public testing::ApiFixture {};

TEST_F(ReadTest, BatchGetTracesEmbedsIndependentSubsegments) {
  PutAll({SegmentJson(TraceIdText(1), SegmentIdText(1), 100.0, 102.5),
          SubsegmentJson(TraceIdText(1), SegmentIdText(2), SegmentIdText(1), 100.5, 101.0)});
  HttpResponse r = Post("/Traces", json{{"TraceIds", {TraceIdText(1), TraceIdText(9)}}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json body = Json(r);
  EXPECT_EQ(body["UnprocessedTraceIds"], json({TraceIdText(9)}));
  ASSERT_EQ(body["Traces"].size(), 1u);
  const json& trace = body["Traces"][0];
  EXPECT_EQ(trace["Id"], TraceIdText(1));
  EXPECT_EQ(trace["Duration"], 2.5);
  EXPECT_EQ(trace["LimitExceeded"], false);
  ASSERT_EQ(trace["Segments"].size(), 1u);
  EXPECT_EQ(trace["Segments"][0]["Id"], SegmentIdText(1));
  const json doc = json::parse(trace["Segments"][0]["Document"].get<std::string>());
  EXPECT_EQ(doc["id"], SegmentIdText(1));
  ASSERT_EQ(doc["subsegments"].size(), 1u);
  EXPECT_EQ(doc["subsegments"][0]["id"], SegmentIdText(2));
}

// Damaged data is an error, never an answer without it.
TEST_F(ReadTest, ACorruptStoreIsAnInternalFailureNamingIt) {
  PutAll({SegmentJson(TraceIdText(1), SegmentIdText(1), 100.0, 102.5)});
  store_.FailReads(Status::Corruption("store corruption detected: block checksum mismatch"));
  HttpResponse r = Post("/Traces", json{{"TraceIds", {TraceIdText(1)}}});
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(Json(r), (json{{"__type", "InternalFailure"},
                           {"message", "store corruption detected: block checksum mismatch"}}));
}

TEST_F(ReadTest, BatchGetTracesErrors) {
  ExpectInvalid(Post("/Traces", json::object()), "TraceIds: required");
  ExpectInvalid(Post("/Traces", json{{"TraceIds",
                                      {TraceIdText(1), TraceIdText(2), TraceIdText(3),
                                       TraceIdText(4), TraceIdText(5), TraceIdText(6)}}}),
                "TraceIds: at most 5 trace ids per call, got 6");
  ExpectInvalid(Post("/Traces", json{{"TraceIds", {1}}}), "TraceIds[0]: must be a string");
  HttpResponse bad_id = Post("/Traces", json{{"TraceIds", {TraceIdText(1), "1-xyz"}}});
  EXPECT_EQ(bad_id.status, 400);
  EXPECT_TRUE(Json(bad_id)["message"].get<std::string>().starts_with("TraceIds[1]: "))
      << bad_id.body;
  ExpectInvalid(
      Post("/Traces", json{{"TraceIds", {TraceIdText(1)}}, {"NextToken", "abc"}}),
      "NextToken: this server returns every requested trace at once and never issues one");
  // An empty list is answered, not rejected.
  HttpResponse empty = Post("/Traces", json{{"TraceIds", json::array()}});
  EXPECT_EQ(empty.body, R"({"Traces":[],"UnprocessedTraceIds":[]})");
}

TEST_F(ReadTest, SummaryHasXRayFieldsAndShapes) {
  const std::string extra =
      R"(,"user":"alice","http":{"request":{"method":"GET","url":"https://api.example.com/x",)"
      R"("user_agent":"curl","client_ip":"10.0.0.1"},"response":{"status":500}},"fault":true,)"
      R"("annotations":{"tier":"gold","n":3,"flag":true})";
  PutAll({SegmentJson(TraceIdText(1), SegmentIdText(1), 1000.0, 1001.25, extra, "api")});
  HttpResponse r = Post("/TraceSummaries", json{{"StartTime", 999}, {"EndTime", 1001}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json body = Json(r);
  ASSERT_EQ(body["TraceSummaries"].size(), 1u);
  const json& s = body["TraceSummaries"][0];
  EXPECT_EQ(s["Id"], TraceIdText(1));
  EXPECT_EQ(s["StartTime"], 1000.0);
  EXPECT_EQ(s["Duration"], 1.25);
  EXPECT_EQ(s["ResponseTime"], 1.25);
  EXPECT_EQ(s["HasFault"], true);
  EXPECT_EQ(s["HasError"], false);
  EXPECT_EQ(s["HasThrottle"], false);
  EXPECT_EQ(s["IsPartial"], false);
  EXPECT_EQ(s["Http"], (json{{"HttpURL", "https://api.example.com/x"},
                             {"HttpStatus", 500},
                             {"HttpMethod", "GET"},
                             {"UserAgent", "curl"},
                             {"ClientIp", "10.0.0.1"}}));
  const json api_service = {{"Name", "api"}, {"Names", {"api"}}};
  EXPECT_EQ(s["Annotations"]["tier"], json::array({{{"AnnotationValue", {{"StringValue", "gold"}}},
                                                    {"ServiceIds", json::array({api_service})}}}));
  EXPECT_EQ(s["Annotations"]["n"][0]["AnnotationValue"], (json{{"NumberValue", 3.0}}));
  EXPECT_EQ(s["Annotations"]["flag"][0]["AnnotationValue"], (json{{"BooleanValue", true}}));
  EXPECT_EQ(s["Users"],
            json::array({{{"UserName", "alice"}, {"ServiceIds", json::array({api_service})}}}));
  EXPECT_EQ(s["ServiceIds"], json::array({api_service}));
  EXPECT_EQ(s["EntryPoint"], api_service);
  EXPECT_EQ(s["Revision"], 1);
  EXPECT_FALSE(s.contains("MatchedEventTime"));
  for (const char* key : {"ResourceARNs", "InstanceIds", "AvailabilityZones", "FaultRootCauses",
                          "ErrorRootCauses", "ResponseTimeRootCauses"}) {
    EXPECT_TRUE(s[key].is_array()) << key;
  }
  EXPECT_EQ(body["TracesProcessedCount"], 1);
  EXPECT_EQ(body["ApproximateTime"], 999.0);
  EXPECT_FALSE(body.contains("NextToken"));
}

TEST_F(ReadTest, PagingReturnsEveryTraceExactlyOnceMostRecentFirst) {
  constexpr int kTraces = 250;
  std::vector<std::string> docs;
  for (int i = 0; i < kTraces; ++i) {
    docs.push_back(SegmentJson(TraceIdText(i + 1), SegmentIdText(i + 1), 5000.0 + i, 5000.5 + i));
  }
  PutAll(docs);
  std::vector<std::string> seen;
  std::optional<std::string> token;
  int pages = 0;
  size_t processed = 0;
  do {
    json request = {{"StartTime", 5000}, {"EndTime", 6000}};
    if (token) request["NextToken"] = *token;
    HttpResponse r = Post("/TraceSummaries", request);
    ASSERT_EQ(r.status, 200) << r.body;
    const json body = Json(r);
    for (const json& s : body["TraceSummaries"]) seen.push_back(s["Id"]);
    processed += body["TracesProcessedCount"].get<size_t>();
    token = body.contains("NextToken") ? std::optional(body["NextToken"].get<std::string>())
                                       : std::nullopt;
    ++pages;
  } while (token && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(processed, 250u);
  ASSERT_EQ(seen.size(), 250u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 250u);
  for (int i = 0; i < kTraces; ++i) EXPECT_EQ(seen[i], TraceIdText(kTraces - i));
}

TEST_F(ReadTest, HalfOpenRangeAndEventTime) {
  PutAll({SegmentJson(TraceIdText(1), SegmentIdText(1), 100.0, 101.0),
          SegmentJson(TraceIdText(2), SegmentIdText(2), 200.0, 201.0)});
  json r = Json(Post("/TraceSummaries", json{{"StartTime", 100}, {"EndTime", 200}}));
  ASSERT_EQ(r["TraceSummaries"].size(), 1u);
  EXPECT_EQ(r["TraceSummaries"][0]["Id"], TraceIdText(1));
  // By Event (update) time, both were updated "now".
  json e =
      Json(Post("/TraceSummaries",
                json{{"StartTime", 0}, {"EndTime", 4102444800.0}, {"TimeRangeType", "Event"}}));
  ASSERT_EQ(e["TraceSummaries"].size(), 2u);
  EXPECT_TRUE(e["TraceSummaries"][0]["MatchedEventTime"].is_number());
}

TEST_F(ReadTest, FilterExpressionSelectsAndBadOnesAreRejected) {
  PutAll({SegmentJson(TraceIdText(1), SegmentIdText(1), 100.0, 101.0,
                      R"(,"annotations":{"tier":"gold"})"),
          SegmentJson(TraceIdText(2), SegmentIdText(2), 100.0, 101.0,
                      R"(,"annotations":{"tier":"silver"})"),
          SegmentJson(TraceIdText(3), SegmentIdText(3), 100.0, 105.0)});
  json gold =
      Json(Post("/TraceSummaries", json{{"StartTime", 0},
                                        {"EndTime", 1000},
                                        {"FilterExpression", R"(annotation.tier = "gold")"}}));
  ASSERT_EQ(gold["TraceSummaries"].size(), 1u);
  EXPECT_EQ(gold["TraceSummaries"][0]["Id"], TraceIdText(1));
  json slow =
      Json(Post("/TraceSummaries",
                json{{"StartTime", 0}, {"EndTime", 1000}, {"FilterExpression", "duration > 2"}}));
  ASSERT_EQ(slow["TraceSummaries"].size(), 1u);
  EXPECT_EQ(slow["TraceSummaries"][0]["Id"], TraceIdText(3));
  HttpResponse bad =
      Post("/TraceSummaries",
           json{{"StartTime", 0}, {"EndTime", 1000}, {"FilterExpression", "duration >"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_TRUE(Json(bad)["message"].get<std::string>().starts_with("FilterExpression: column "))
      << bad.body;
}

TEST_F(ReadTest, SamplingIsDeterministicAndBounded) {
  std::vector<std::string> docs;
  for (int i = 0; i < 60; ++i) {
    docs.push_back(SegmentJson(TraceIdText(i + 1), SegmentIdText(i + 1), 100.0 + i, 101.0 + i));
  }
  PutAll(docs);
  const json request = {{"StartTime", 0},
                        {"EndTime", 1000},
                        {"Sampling", true},
                        {"SamplingStrategy", {{"Name", "FixedRate"}, {"Value", 0.5}}}};
  json a = Json(Post("/TraceSummaries", request));
  json b = Json(Post("/TraceSummaries", request));
  EXPECT_EQ(a["TraceSummaries"], b["TraceSummaries"]);
  EXPECT_LT(a["TraceSummaries"].size(), 60u);
  EXPECT_EQ(a["TracesProcessedCount"], 60);
  json none = Json(
      Post("/TraceSummaries", json{{"StartTime", 0},
                                   {"EndTime", 1000},
                                   {"Sampling", true},
                                   {"SamplingStrategy", {{"Name", "PartialScan"}, {"Value", 0}}}}));
  EXPECT_EQ(none["TraceSummaries"].size(), 0u);
}

TEST_F(ReadTest, GetTraceSummariesErrors) {
  ExpectInvalid(Post("/TraceSummaries", json{{"EndTime", 10}}), "StartTime: required");
  ExpectInvalid(Post("/TraceSummaries", json{{"StartTime", 10}}), "EndTime: required");
  ExpectInvalid(Post("/TraceSummaries", json{{"StartTime", 10}, {"EndTime", 10}}),
                "EndTime: must be after StartTime");
  ExpectInvalid(Post("/TraceSummaries", json{{"StartTime", "soon"}, {"EndTime", 10}}),
                "StartTime: \"soon\" is neither epoch seconds nor an ISO 8601 time like "
                "2024-05-01T12:00:00Z");
  ExpectInvalid(
      Post("/TraceSummaries", json{{"StartTime", 1}, {"EndTime", 10}, {"TimeRangeType", "Day"}}),
      "TimeRangeType: must be TraceId, Event or Service, got \"Day\"");
  ExpectInvalid(Post("/TraceSummaries", json{{"StartTime", 1}, {"EndTime", 10}, {"Sampling", 1}}),
                "Sampling: must be a boolean, got a number");
  ExpectInvalid(
      Post("/TraceSummaries",
           json{{"StartTime", 1}, {"EndTime", 10}, {"SamplingStrategy", {{"Name", "All"}}}}),
      "SamplingStrategy.Name: must be PartialScan or FixedRate, got \"All\"");
  ExpectInvalid(Post("/TraceSummaries",
                     json{{"StartTime", 1}, {"EndTime", 10}, {"SamplingStrategy", {{"Value", 2}}}}),
                "SamplingStrategy.Value: must be between 0 and 1");
  ExpectInvalid(
      Post("/TraceSummaries", json{{"StartTime", 1}, {"EndTime", 10}, {"NextToken", "x"}}),
      "NextToken: not a token this server issued for this query; start again without it");
}

TEST_F(ReadTest, TokenFromAnotherQueryIsRejected) {
  std::vector<std::string> docs;
  for (int i = 0; i < 101; ++i) {
    docs.push_back(SegmentJson(TraceIdText(i + 1), SegmentIdText(i + 1), 100.0 + i, 101.0 + i));
  }
  PutAll(docs);
  json first = Json(Post("/TraceSummaries", json{{"StartTime", 0}, {"EndTime", 1000}}));
  ASSERT_TRUE(first.contains("NextToken"));
  EXPECT_EQ(first["TraceSummaries"].size(), 100u);
  EXPECT_EQ(first["ApproximateTime"], 101.0);  // the oldest trace this page looked at
  ExpectInvalid(Post("/TraceSummaries",
                     json{{"StartTime", 0}, {"EndTime", 999}, {"NextToken", first["NextToken"]}}),
                "NextToken: it was issued for a different query (time range, TimeRangeType, "
                "sampling or FilterExpression changed); start again without it");
  json second =
      Json(Post("/TraceSummaries",
                json{{"StartTime", 0}, {"EndTime", 1000}, {"NextToken", first["NextToken"]}}));
  ASSERT_EQ(second["TraceSummaries"].size(), 1u);
  EXPECT_EQ(second["TraceSummaries"][0]["Id"], TraceIdText(1));
  EXPECT_FALSE(second.contains("NextToken"));
}

}  // namespace
}  // namespace roentgen::api
