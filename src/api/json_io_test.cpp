#include "api/json_io.h"

#include <gtest/gtest.h>

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
