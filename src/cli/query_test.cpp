#include "cli/query.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace roentgen::cli {
namespace {

TEST(QueryTest, ParsesEpochAndIsoTimestamps) {
  EXPECT_EQ(*ParseTimestamp("1700000000"), 1700000000.0);
  EXPECT_EQ(*ParseTimestamp("1700000000.25"), 1700000000.25);
  EXPECT_EQ(*ParseTimestamp("2023-11-14T22:13:20Z"), 1700000000.0);
  EXPECT_EQ(*ParseTimestamp("2023-11-14T22:13:20.5Z"), 1700000000.5);
}

TEST(QueryTest, RejectsBadTimestamps) {
  EXPECT_EQ(ParseTimestamp("yesterday").status().message(),
            "\"yesterday\": expected epoch seconds or an ISO 8601 UTC time like "
            "2026-11-25T14:00:00Z");
  EXPECT_EQ(ParseTimestamp("2023-11-14T22:13:20+01:00").status().message(),
            "\"2023-11-14T22:13:20+01:00\": the time must be UTC and end with Z");
  EXPECT_EQ(ParseTimestamp("2023-13-14T22:13:20Z").status().message(),
            "\"2023-13-14T22:13:20Z\": a date or time field is out of range");
}

TEST(QueryTest, FormatsTimestampsInUtcWithMilliseconds) {
  EXPECT_EQ(FormatTimestamp(1700000000.0), "2023-11-14 22:13:20.000");
  EXPECT_EQ(FormatTimestamp(1700000000.1234), "2023-11-14 22:13:20.123");
  EXPECT_EQ(FormatTimestamp(1700000000.9996), "2023-11-14 22:13:21.000");
}

TEST(QueryTest, FormatsASummaryRow) {
  auto summary = nlohmann::json::parse(R"({
    "Id": "1-58406520-a006649127e371903a2de979", "StartTime": 1700000000.5,
    "ResponseTime": 0.25, "HasFault": true, "HasError": false, "HasThrottle": false,
    "Http": {"HttpStatus": 502},
    "Annotations": {
      "email": [{"AnnotationValue": {"StringValue": "alice@example.com"}, "ServiceIds": []}],
      "n": [{"AnnotationValue": {"NumberValue": 3}}, {"AnnotationValue": {"NumberValue": 4.5}}],
      "vip": [{"AnnotationValue": {"BooleanValue": true}}]}})");
  EXPECT_EQ(FormatSummaryRow(summary),
            "1-58406520-a006649127e371903a2de979  2023-11-14 22:13:20.500     0.250s  502 FAULT     "
            "email=alice@example.com n=3|4.5 vip=true");
}

TEST(QueryTest, StatusFallsBackToFlagsAndOk) {
  auto ok = nlohmann::json::parse(R"({"Id": "x", "StartTime": 0})");
  EXPECT_EQ(FormatSummaryRow(ok), "x                                    -                                -  OK            ");
  auto throttled = nlohmann::json::parse(R"({"Id": "y", "HasThrottle": true, "HasError": true})");
  EXPECT_NE(FormatSummaryRow(throttled).find("THROTTLE"), std::string::npos);
}

TEST(QueryTest, UnreachableServerIsExitCode1) {
  QueryConfig config;
  config.server = "127.0.0.1:1";  // nothing listens on port 1
  std::ostringstream out, err;
  EXPECT_EQ(RunQuery(config, out, err), 1);
  EXPECT_NE(err.str().find("cannot reach http://127.0.0.1:1: "), std::string::npos) << err.str();
}

}  // namespace
}  // namespace roentgen::cli
