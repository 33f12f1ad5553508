#include "auth/actions.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace roentgen::auth {
namespace {

TEST(ActionsTest, EachRouteHasItsXRayAction) {
  EXPECT_EQ(ActionForPath("/TraceSummaries"), "xray:GetTraceSummaries");
  EXPECT_EQ(ActionForPath("/TraceSegments"), "xray:PutTraceSegments");
  EXPECT_EQ(ActionForPath("/Traces"), "xray:BatchGetTraces");
  EXPECT_EQ(ActionForPath("/TelemetryRecords"), "xray:PutTelemetryRecords");
  EXPECT_EQ(ActionForPath("/ServiceGraph"), "xray:GetServiceGraph");
  EXPECT_EQ(ActionForPath("/TraceGraph"), "xray:GetTraceGraph");
  EXPECT_EQ(ActionForPath("/TimeSeriesServiceStatistics"), "xray:GetTimeSeriesServiceStatistics");
  EXPECT_EQ(ActionForPath("/CreateGroup"), "xray:CreateGroup");
  EXPECT_EQ(ActionForPath("/Groups"), "xray:GetGroups");
  EXPECT_EQ(ActionForPath("/GetSamplingRules"), "xray:GetSamplingRules");
  EXPECT_EQ(ActionForPath("/SamplingTargets"), "xray:GetSamplingTargets");
  EXPECT_EQ(ActionForPath("/v1/traces"), "xray:PutSpans");
  EXPECT_EQ(ActionForPath("/roentgen/TraceAnalytics"), "roentgen:TraceAnalytics");
  EXPECT_EQ(ActionForPath("/roentgen/CreateSessionKeys"), "roentgen:CreateSessionKeys");
  EXPECT_EQ(ActionForPath("/roentgen/"), std::nullopt);
  EXPECT_EQ(ActionForPath("/roentgen/a/b"), std::nullopt);
  EXPECT_EQ(ActionForPath("/tracesummaries"), std::nullopt);
  EXPECT_EQ(ActionForPath("/nothing"), std::nullopt);
}

TEST(ActionsTest, OpenRoutesAreHealthMetricsAndTheConsole) {
  for (const char* path :
       {"/healthz", "/metrics", "/", "/index.html", "/favicon.svg", "/assets/app-1234.js"}) {
    EXPECT_TRUE(IsOpenRoute("GET", path)) << path;
    EXPECT_TRUE(IsOpenRoute("HEAD", path)) << path;
    EXPECT_FALSE(IsOpenRoute("POST", path)) << path;
  }
  EXPECT_FALSE(IsOpenRoute("GET", "/TraceSummaries"));
  EXPECT_FALSE(IsOpenRoute("GET", "/assets"));
  EXPECT_FALSE(IsOpenRoute("GET", "/roentgen/TraceAnalytics"));
}

TEST(ActionsTest, WildcardsMatchAsIamDoes) {
  EXPECT_TRUE(ActionMatches("*", "xray:GetTraceSummaries"));
  EXPECT_TRUE(ActionMatches("xray:*", "xray:GetTraceSummaries"));
  EXPECT_TRUE(ActionMatches("xray:Get*", "xray:GetTraceSummaries"));
  EXPECT_TRUE(ActionMatches("xray:get*", "xray:GetTraceSummaries"));  // case-insensitive
  EXPECT_TRUE(ActionMatches("xray:*Trace*", "xray:BatchGetTraces"));
  EXPECT_TRUE(ActionMatches("xray:GetTraceSummar?es", "xray:GetTraceSummaries"));
  EXPECT_TRUE(ActionMatches("xray:PutTraceSegments", "xray:PutTraceSegments"));
  EXPECT_FALSE(ActionMatches("xray:Get*", "xray:PutTraceSegments"));
  EXPECT_FALSE(ActionMatches("xray:*", "roentgen:TraceAnalytics"));
  EXPECT_FALSE(ActionMatches("xray:PutTraceSegments", "xray:PutTraceSegmentsX"));
  EXPECT_FALSE(ActionMatches("xray:Put", "xray:PutTraceSegments"));

  const std::vector<std::string> writer = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"};
  EXPECT_TRUE(AnyAllows(writer, "xray:PutTelemetryRecords"));
  EXPECT_FALSE(AnyAllows(writer, "xray:GetTraceSummaries"));
  EXPECT_FALSE(AnyAllows({}, "xray:GetTraceSummaries"));
}

TEST(ActionsTest, ValidPatterns) {
  for (const char* ok :
       {"*", "xray:*", "xray:Get*", "roentgen:TraceAnalytics", "xray:PutSpans", "x*:Get*"}) {
    EXPECT_TRUE(IsValidActionPattern(ok)) << ok;
  }
  for (const char* bad : {"", "xray", "xray:", ":Get", "s3:GetObject", "xray:Get Trace",
                          "xray:Get/Trace", "xray::Get"}) {
    EXPECT_FALSE(IsValidActionPattern(bad)) << bad;
  }
}

TEST(ActionsTest, CoverageNeverGrantsMore) {
  EXPECT_TRUE(PatternCovers("*", "xray:*"));
  EXPECT_TRUE(PatternCovers("xray:*", "xray:Get*"));
  EXPECT_TRUE(PatternCovers("xray:*", "xray:PutTraceSegments"));
  EXPECT_TRUE(PatternCovers("xray:Get*", "xray:GetTrace*"));
  EXPECT_TRUE(PatternCovers("xray:PutTraceSegments", "xray:puttracesegments"));
  EXPECT_FALSE(PatternCovers("xray:Get*", "xray:*"));
  EXPECT_FALSE(PatternCovers("xray:*", "*"));
  EXPECT_FALSE(PatternCovers("xray:PutTraceSegments", "xray:Put*"));
  EXPECT_FALSE(PatternCovers("xray:*Summaries", "xray:Get*"));  // unsure: refused
  EXPECT_FALSE(PatternCovers("xray:Get*", "roentgen:Get*"));
}

}  // namespace
}  // namespace roentgen::auth
