// The API's limits (limits.h): each refused with X-Ray's error and a message
// naming it, and counted once in roentgen_limits_exceeded_total{limit}.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "api/limits.h"
#include "api/testing/api_fixture.h"
#include "ingest/testing/segments.h"

namespace roentgen::api {
namespace {

using ingest::testing::TraceIdText;
using nlohmann::json;

constexpr int64_t kDay = 86400;
constexpr int64_t kLimitsT0 = 1'700'000'000;

class LimitsTest : public testing::ApiFixture {
 protected:
  LimitsTest() { query_limits_ = QueryLimits{}; }  // serve's default with a 30d retention
  uint64_t Count(Limit limit) { return LimitCounter(metrics_, limit).Value(); }
};

TEST(ApiLimitsTest, LabelsAreDistinctAndTheRangeMessageNamesTheOption) {
  MetricsRegistry metrics;
  std::vector<std::string> labels;
  for (size_t i = 0; i < kLimitCount; ++i) {
    const std::string label(LimitLabel(static_cast<Limit>(i)));
    EXPECT_NE(label, "unknown");
    EXPECT_EQ(std::count(labels.begin(), labels.end(), label), 0) << label;
    labels.push_back(label);
  }
  QueryLimits config;
  EXPECT_TRUE(config.Validate().ok());
  EXPECT_EQ(config.max_range_us, 31 * kDay * 1'000'000);
  ApiLimits limits(config, metrics);
  EXPECT_TRUE(limits.CheckRange(0, 31 * kDay * 1'000'000).ok());
  EXPECT_EQ(limits.CheckRange(0, (40 * kDay + 3600 + 61) * 1'000'000),
            Status::InvalidArgument("EndTime: the time range is 40d1h1m1s, longer than the 31d a "
                                    "query may span (roentgen serve --max-query-range); query "
                                    "shorter ranges"));
  EXPECT_EQ(LimitCounter(metrics, Limit::kQueryRange).Value(), 1u);
  EXPECT_NE(metrics.RenderText().find(R"(roentgen_limits_exceeded_total{limit="query_range"} 1)"),
            std::string::npos);
  config.max_range_us = 1'000'000;
  EXPECT_EQ(config.Validate().code(), StatusCode::kInvalidArgument);
}

TEST_F(LimitsTest, EveryQueryOverTheRangeIsRefusedAndCounted) {
  const json within = {{"StartTime", kLimitsT0 - 31 * kDay}, {"EndTime", kLimitsT0}};
  const json beyond = {{"StartTime", kLimitsT0 - 32 * kDay}, {"EndTime", kLimitsT0}};
  const std::string message =
      "EndTime: the time range is 32d, longer than the 31d a query may span (roentgen serve "
      "--max-query-range); query shorter ranges";
  size_t refused = 0;
  for (const char* path : {"/TraceSummaries", "/roentgen/TraceAnalytics", "/ServiceGraph",
                           "/TimeSeriesServiceStatistics"}) {
    EXPECT_EQ(Post(path, within).status, 200) << path;
    ExpectInvalid(Post(path, beyond), message);
    EXPECT_EQ(Count(Limit::kQueryRange), ++refused) << path;
  }
  // Everything since the epoch, as a script might ask.
  ExpectInvalid(Post("/TraceSummaries", json{{"StartTime", 0}, {"EndTime", kLimitsT0}}),
                "EndTime: the time range is 19675d22h13m20s, longer than the 31d a query may "
                "span (roentgen serve --max-query-range); query shorter ranges");
}

TEST_F(LimitsTest, TraceIdsPerCallAreCounted) {
  std::vector<std::string> six, many;
  for (int i = 1; i <= 6; ++i) six.push_back(TraceIdText(i));
  for (int i = 1; i <= 101; ++i) many.push_back(TraceIdText(i));
  ExpectInvalid(Post("/Traces", json{{"TraceIds", six}}),
                "TraceIds: at most 5 trace ids per call, got 6");
  ExpectInvalid(Post("/TraceGraph", json{{"TraceIds", many}}),
                "TraceIds: at most 100 trace ids per call, got 101");
  EXPECT_EQ(Count(Limit::kTraceIds), 2u);
  six.pop_back();
  EXPECT_EQ(Post("/Traces", json{{"TraceIds", six}}).status, 200);
  EXPECT_EQ(Count(Limit::kTraceIds), 2u);
}

TEST_F(LimitsTest, EntitySelectorExpressionIsAtMostXRaysLength) {
  json request = {{"StartTime", kLimitsT0 - 3600}, {"EndTime", kLimitsT0}};
  // service("aaa…") of exactly 500 characters, then one more.
  request["EntitySelectorExpression"] = "service(\"" + std::string(489, 'a') + "\")";
  EXPECT_EQ(Post("/TimeSeriesServiceStatistics", request).status, 200);
  request["EntitySelectorExpression"] = "service(\"" + std::string(490, 'a') + "\")";
  ExpectInvalid(Post("/TimeSeriesServiceStatistics", request),
                "EntitySelectorExpression: 501 characters, more than X-Ray's 500");
  EXPECT_EQ(Count(Limit::kExpressionLength), 1u);
}

TEST_F(LimitsTest, TraceAnalyticsMaximaAreCountedButNotOtherBadValues) {
  const json range = {{"StartTime", kLimitsT0 - kDay}, {"EndTime", kLimitsT0}};
  auto with = [&range](const char* key, json value) {
    json r = range;
    r[key] = std::move(value);
    return r;
  };
  const char* kPath = "/roentgen/TraceAnalytics";
  ExpectInvalid(Post(kPath, with("MaxTraces", 150001)),
                "MaxTraces: must be between 1 and 150000, got 150001");
  ExpectInvalid(Post(kPath, with("Limit", 101)), "Limit: must be between 1 and 100, got 101");
  ExpectInvalid(Post(kPath, with("Period", 1)),
                "Period: 1 s over a 86400 s range makes 86400 periods, more than 10000; use at "
                "least 9 s");
  EXPECT_EQ(Count(Limit::kAnalyticsMaxTraces), 1u);
  EXPECT_EQ(Count(Limit::kAnalyticsLimit), 1u);
  EXPECT_EQ(Count(Limit::kTimeSeriesPoints), 1u);
  // Below the minimum is a bad value, not a limit.
  ExpectInvalid(Post(kPath, with("MaxTraces", 0)),
                "MaxTraces: must be between 1 and 150000, got 0");
  ExpectInvalid(Post(kPath, with("Limit", 0)), "Limit: must be between 1 and 100, got 0");
  EXPECT_EQ(Count(Limit::kAnalyticsMaxTraces), 1u);
  EXPECT_EQ(Count(Limit::kAnalyticsLimit), 1u);
}

TEST_F(LimitsTest, TelemetryRecordsPerCallAreCounted) {
  json records = json::array();
  for (int i = 0; i < 1001; ++i) records.push_back({{"Timestamp", kLimitsT0}});
  ExpectInvalid(Post("/TelemetryRecords", json{{"TelemetryRecords", records}}),
                "TelemetryRecords: at most 1000 records, got 1001");
  EXPECT_EQ(Count(Limit::kTelemetryRecords), 1u);
}

}  // namespace
}  // namespace roentgen::api
