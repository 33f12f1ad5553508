#include "api/json_io.h"

#include <gtest/gtest.h>

#include "api/summary_json.h"

namespace roentgen::api {
namespace {

TEST(JsonIoTest, BodyMustBeAnObject) {
  RequestBody body;
  EXPECT_TRUE(body.Parse("").ok());
  EXPECT_TRUE(body.Parse("  {} ").ok());
  EXPECT_EQ(body.Parse("[1]"),
            Status::InvalidArgument("request body must be a JSON object, got an array"));
  Status bad = body.Parse("{\"a\":");
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(bad.message().starts_with("request body is not valid JSON: ")) << bad.message();
}

TEST(JsonIoTest, TypedFieldsNameTheFieldOnError) {
  RequestBody body;
  ASSERT_TRUE(body.Parse(R"({"s":"x","b":true,"n":2.5,"i":7,"nul":null,"a":[1],"o":{}})").ok());
  EXPECT_EQ(**body.String("s"), "x");
  EXPECT_EQ(**body.Bool("b"), true);
  EXPECT_EQ(**body.Number("n"), 2.5);
  EXPECT_EQ(**body.Number("i"), 7.0);
  EXPECT_FALSE(body.String("missing")->has_value());
  EXPECT_FALSE(body.String("nul")->has_value());
  EXPECT_EQ((*body.Array("a"))->size(), 1u);
  EXPECT_TRUE(body.Object("o")->has_value());
  EXPECT_EQ(body.String("n").status(),
            Status::InvalidArgument("n: must be a string, got a number"));
  EXPECT_EQ(body.Bool("s").status(), Status::InvalidArgument("s: must be a boolean, got a string"));
  EXPECT_EQ(body.Array("o").status(),
            Status::InvalidArgument("o: must be an array, got an object"));
  EXPECT_EQ(GetCount(body.root(), "n", "x.n").status(),
            Status::InvalidArgument("x.n: must be a non-negative integer"));
  EXPECT_EQ(**GetCount(body.root(), "i", "i"), 7);
}

TEST(JsonIoTest, EpochSecondsNumbersAndStrings) {
  RequestBody body;
  ASSERT_TRUE(body.Parse(R"({"a":1700000000.123456,"b":1700000000,"c":"1700000000.5",)"
                         R"("d":"2023-11-14T22:13:20Z","e":"2023-11-14T23:13:20.25+01:00",)"
                         R"("f":"yesterday","g":-1,"h":true})")
                  .ok());
  EXPECT_EQ(**body.EpochMicros("a"), 1'700'000'000'123'456);
  EXPECT_EQ(**body.EpochMicros("b"), 1'700'000'000'000'000);
  EXPECT_EQ(**body.EpochMicros("c"), 1'700'000'000'500'000);
  EXPECT_EQ(**body.EpochMicros("d"), 1'700'000'000'000'000);
  EXPECT_EQ(**body.EpochMicros("e"), 1'700'000'000'250'000);
  EXPECT_EQ(body.EpochMicros("f").status(),
            Status::InvalidArgument("f: \"yesterday\" is neither epoch seconds nor an ISO 8601 "
                                    "time like 2024-05-01T12:00:00Z"));
  EXPECT_EQ(body.EpochMicros("g").status(),
            Status::InvalidArgument("g: must be epoch seconds between 0 and 253402300799"));
  EXPECT_EQ(body.EpochMicros("h").status(),
            Status::InvalidArgument(
                "h: must be epoch seconds (a number) or an ISO 8601 string, got a boolean"));
}

TEST(JsonIoTest, IsoTimestampsNeedAZone) {
  EXPECT_EQ(*ParseIsoTimestamp("1970-01-02T00:00:00Z"), 86'400'000'000);
  EXPECT_EQ(*ParseIsoTimestamp("1970-01-01T01:00:00.000001-01:00"), 7'200'000'001);
  EXPECT_FALSE(ParseIsoTimestamp("1970-01-01T00:00:00").ok());
  EXPECT_FALSE(ParseIsoTimestamp("1970-02-30T00:00:00Z").ok());
  EXPECT_FALSE(ParseIsoTimestamp("1970-01-01T00:00:00Zjunk").ok());
}

TEST(JsonIoTest, StatusResponsesUseXRayErrorNames) {
  HttpResponse r = StatusResponse(Status::InvalidArgument("TraceIds: required"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"__type":"InvalidRequestException","message":"TraceIds: required"})");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "x-amzn-ErrorType");
  EXPECT_EQ(r.headers[0].second, "InvalidRequestException");
  EXPECT_EQ(StatusResponse(Status::ResourceExhausted("full")).status, 429);
  EXPECT_EQ(StatusResponse(Status::Unavailable("stopping")).status, 503);
  EXPECT_EQ(StatusResponse(Status::IOError("disk")).status, 500);
}

}  // namespace
}  // namespace roentgen::api

namespace roentgen::api {
namespace {

// GetTraceSummaries writes its summaries' JSON directly; the text must be
// exactly what the json tree of TraceSummaryJson dumps.
TEST(SummaryJsonTest, AppendTraceSummaryJsonWritesWhatTraceSummaryJsonDumps) {
  xray::TraceSummary empty;
  empty.id = xray::TraceId::Generate(1700000000);
  xray::TraceSummary full;
  full.id = xray::TraceId::Generate(1700000001);
  full.start_time_us = 1'700'000'001'250'000;
  full.duration_us = 1'500'000;
  full.response_time_us = 2'000'000;  // a whole number of seconds
  full.has_fault = true;
  full.is_partial = true;
  full.revision = 7;
  full.http = {"https://example.com/a?b=\"c\"", 503, "GET", "agent\t1", "10.0.0.1"};
  const xray::ServiceId api{"api", {"api", "api-alias"}, "123456789012", "AWS::EC2::Instance"};
  const xray::ServiceId db{"db", {"db"}, "", ""};
  full.service_ids = {api, db};
  full.entry_point = api;
  full.annotations = {
      {"tier",
       {{xray::AnnotationValue(std::string("gold")), {api}}, {xray::AnnotationValue(0.1), {db}}}},
      {"ok", {{xray::AnnotationValue(true), {}}}},
      {"z\xc3\xa9ro \x01", {{xray::AnnotationValue(std::string("bad \xff utf-8")), {}}}},
      {"tier", {{xray::AnnotationValue(3.0), {api}}}},  // a repeated key: the last wins
  };
  full.users = {{"ann", {api}}, {"b\"o\\b", {}}};
  full.resource_arns = {"arn:aws:ec2:1"};
  full.instance_ids = {"i-1", "i-2"};
  full.availability_zones = {"eu-west-1a"};
  xray::RootCause fault;
  fault.client_impacting = true;
  fault.services = {{"api",
                     {"api"},
                     "AWS::EC2::Instance",
                     "123456789012",
                     {{"api", {{"Boom", "line 1\nline 2"}}, std::nullopt, false},
                      {"GET /x", {}, std::nullopt, true}},
                     false},
                    {"remote", {"remote"}, "", "", {}, true}};
  full.fault_root_causes = {fault};
  full.error_root_causes = {fault, xray::RootCause{}};
  xray::RootCause slow;
  slow.services = {
      {"db", {"db"}, "", "", {{"db", {}, 0.75, false}, {"q", {}, std::nullopt, true}}, false}};
  full.response_time_root_causes = {slow};
  for (const xray::TraceSummary* s : {&empty, &full}) {
    for (const std::optional<int64_t> matched :
         {std::optional<int64_t>(), std::optional<int64_t>(1'700'000'002'000'001)}) {
      std::string written;
      AppendTraceSummaryJson(written, *s, matched);
      EXPECT_EQ(written, TraceSummaryJson(*s, matched)
                             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
  }
}

}  // namespace
}  // namespace roentgen::api
