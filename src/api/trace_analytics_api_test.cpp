// TraceAnalytics (POST /roentgen/TraceAnalytics) through the Router over the
// in-memory store: request validation, filters and groups, the scan's bounds.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api/testing/api_fixture.h"
#include "ingest/testing/segments.h"

namespace roentgen::api {
namespace {

using ingest::testing::SegmentIdText;
using ingest::testing::SegmentJson;
using ingest::testing::TraceIdText;
using nlohmann::json;

constexpr const char* kPath = "/roentgen/TraceAnalytics";

class TraceAnalyticsApiTest : public testing::ApiFixture {
 protected:
  json Analytics(json request) {
    HttpResponse r = Post(kPath, request);
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r);
  }

  // Trace n: a segment of service `name` starting at `start` s, lasting
  // `seconds`, with `extra` fields.
  static std::string Doc(int n, double start, double seconds, const std::string& extra = "",
                         const std::string& name = "web") {
    return SegmentJson(TraceIdText(n), SegmentIdText(n), start, start + seconds, extra, name);
  }
};

TEST_F(TraceAnalyticsApiTest, AggregatesEveryMatchingTrace) {
  PutAll({
      Doc(1, 1000.0, 0.5,
          R"(,"user":"alice","http":{"request":{"method":"GET","url":"https://x/a"},)"
          R"("response":{"status":200}},"annotations":{"tier":"gold"})"),
      Doc(2, 1001.0, 1.5,
          R"(,"user":"alice","fault":true,"http":{"request":{"method":"POST","url":"https://x/a"},)"
          R"("response":{"status":500}},"annotations":{"tier":"gold"})"),
      Doc(3, 1070.0, 0.25,
          R"(,"user":"bob","error":true,"http":{"response":{"status":404}},)"
          R"("annotations":{"tier":"silver","n":2})",
          "api"),
  });
  const json out = Analytics({{"StartTime", 900}, {"EndTime", 1100}});
  EXPECT_EQ(out["TraceCount"], 3);
  EXPECT_EQ(out["TracesProcessedCount"], 3);
  EXPECT_EQ(out["Complete"], true);
  EXPECT_EQ(out["ScannedFrom"], 900.0);
  EXPECT_EQ(out["Status"],
            (json{{"Ok", 1}, {"Error", 1}, {"Throttle", 0}, {"Fault", 1}, {"Partial", 0}}));
  EXPECT_EQ(out["Users"], (json::array({{{"Value", "alice"}, {"TraceCount", 2}},
                                        {{"Value", "bob"}, {"TraceCount", 1}}})));
  EXPECT_EQ(out["Urls"], (json::array({{{"Value", "https://x/a"}, {"TraceCount", 2}}})));
  EXPECT_EQ(out["HttpStatuses"], (json::array({{{"Value", 200}, {"TraceCount", 1}},
                                               {{"Value", 404}, {"TraceCount", 1}},
                                               {{"Value", 500}, {"TraceCount", 1}}})));
  EXPECT_EQ(
      out["Services"],
      (json::array({{{"Name", "web"}, {"TraceCount", 2}}, {{"Name", "api"}, {"TraceCount", 1}}})));
  ASSERT_EQ(out["Annotations"].size(), 2u);
  EXPECT_EQ(out["Annotations"][0]["Key"], "tier");
  EXPECT_EQ(out["Annotations"][0]["Values"][0],
            (json{{"Value", {{"StringValue", "gold"}}}, {"TraceCount", 2}}));
  EXPECT_EQ(out["Annotations"][1]["Values"][0],
            (json{{"Value", {{"NumberValue", 2.0}}}, {"TraceCount", 1}}));
  EXPECT_EQ(out["ResponseTimeHistogram"], (json::array({{{"Value", 0.25}, {"Count", 1}},
                                                        {{"Value", 0.5}, {"Count", 1}},
                                                        {{"Value", 1.5}, {"Count", 1}}})));
  // 200 s range: the default period is 60 s; 1000 and 1001 share [960, 1020).
  EXPECT_EQ(out["TimeSeries"]["Period"], 60);
  ASSERT_EQ(out["TimeSeries"]["Points"].size(), 2u);
  EXPECT_EQ(out["TimeSeries"]["Points"][0]["Timestamp"], 960.0);
  EXPECT_EQ(out["TimeSeries"]["Points"][0]["Count"], 2);
  EXPECT_EQ(out["TimeSeries"]["Points"][0]["Fault"], 1);
  EXPECT_EQ(out["TimeSeries"]["Points"][0]["TotalResponseTime"], 2.0);
  EXPECT_EQ(out["TimeSeries"]["Points"][1]["Timestamp"], 1020.0);
  EXPECT_EQ(out["TimeSeries"]["Points"][1]["Error"], 1);
}

TEST_F(TraceAnalyticsApiTest, FilterExpressionAndGroupsSelectTheTraces) {
  PutAll({Doc(1, 1000.0, 0.5, R"(,"annotations":{"tier":"gold"})"),
          Doc(2, 1001.0, 3.0, R"(,"annotations":{"tier":"gold"})"),
          Doc(3, 1002.0, 0.5, R"(,"annotations":{"tier":"silver"})"),
          Doc(4, 1003.0, 0.5, R"(,"fault":true)", "api")});
  json out = Analytics(
      {{"StartTime", 900}, {"EndTime", 1100}, {"FilterExpression", R"(annotation.tier = "gold")"}});
  EXPECT_EQ(out["TraceCount"], 2);
  // The in-memory store has no index: it examines every trace of the range.
  // (xray_rocksdb_test.cpp checks that RocksDB's annotation index narrows it.)
  EXPECT_EQ(out["TracesProcessedCount"], 4);
  out =
      Analytics({{"StartTime", 900}, {"EndTime", 1100}, {"FilterExpression", R"(service("api"))"}});
  EXPECT_EQ(out["TraceCount"], 1);
  EXPECT_EQ(out["Status"]["Fault"], 1);

  HttpResponse created = Post(
      "/CreateGroup", json{{"GroupName", "slow-gold"},
                           {"FilterExpression", R"(annotation.tier = "gold" AND duration > 2)"}});
  ASSERT_EQ(created.status, 200) << created.body;
  out = Analytics(
      {{"StartTime", 900}, {"EndTime", 1100}, {"FilterExpression", R"(group.name = "slow-gold")"}});
  EXPECT_EQ(out["TraceCount"], 1);
  EXPECT_EQ(out["DurationHistogram"], (json::array({{{"Value", 3.0}, {"Count", 1}}})));
  // An expression matching everything is no filter at all.
  EXPECT_EQ(
      Analytics({{"StartTime", 900}, {"EndTime", 1100}, {"FilterExpression", "  "}})["TraceCount"],
      4);
}

TEST_F(TraceAnalyticsApiTest, MaxTracesStopsTheScanAtTheMostRecentTraces) {
  std::vector<std::string> docs;
  for (int i = 0; i < 10; ++i) docs.push_back(Doc(i + 1, 1000.0 + i, 0.5));
  PutAll(docs);
  const json out = Analytics({{"StartTime", 900}, {"EndTime", 1100}, {"MaxTraces", 4}});
  EXPECT_EQ(out["TraceCount"], 4);
  EXPECT_EQ(out["TracesProcessedCount"], 4);
  EXPECT_EQ(out["Complete"], false);
  EXPECT_EQ(out["ScannedFrom"], 1006.0);  // 1009, 1008, 1007, 1006 were scanned
  const json all = Analytics({{"StartTime", 900}, {"EndTime", 1100}, {"MaxTraces", 10}});
  EXPECT_EQ(all["Complete"], true);
  EXPECT_EQ(all["ScannedFrom"], 900.0);
  EXPECT_EQ(all["TraceCount"], 10);
}

TEST_F(TraceAnalyticsApiTest, MaxTracesBetweenTracesOfOneTimeClaimsOnlyWhatFollows) {
  PutAll({Doc(1, 1000.0, 0.5), Doc(2, 1005.0, 0.5), Doc(3, 1005.0, 0.5)});
  const json out = Analytics({{"StartTime", 900}, {"EndTime", 1100}, {"MaxTraces", 1}});
  EXPECT_EQ(out["TracesProcessedCount"], 1);
  EXPECT_EQ(out["Complete"], false);
  EXPECT_DOUBLE_EQ(out["ScannedFrom"].get<double>(), 1005.000001);
}

TEST_F(TraceAnalyticsApiTest, PeriodAndLimit) {
  PutAll({Doc(1, 1000.0, 0.5, R"(,"user":"a")"), Doc(2, 1100.0, 0.5, R"(,"user":"b")"),
          Doc(3, 1130.0, 0.5, R"(,"user":"b")")});
  json out = Analytics({{"StartTime", 900}, {"EndTime", 1200}, {"Period", 100}, {"Limit", 1}});
  EXPECT_EQ(out["TimeSeries"]["Period"], 100);
  ASSERT_EQ(out["TimeSeries"]["Points"].size(), 2u);
  EXPECT_EQ(out["TimeSeries"]["Points"][0]["Timestamp"], 1000.0);
  EXPECT_EQ(out["TimeSeries"]["Points"][1]["Timestamp"], 1100.0);
  EXPECT_EQ(out["TimeSeries"]["Points"][1]["Count"], 2);
  EXPECT_EQ(out["Users"], (json::array({{{"Value", "b"}, {"TraceCount", 2}}})));
  EXPECT_EQ(out["OtherUsers"], 1);
  // Default periods: at most ~120 points, rounded up to a whole step.
  const std::vector<std::pair<double, int>> defaults = {
      {3600, 60},          {6 * 3600, 300},     {24 * 3600, 900},        {7 * 86400, 7200},
      {30 * 86400, 21600}, {90 * 86400, 86400}, {365 * 86400, 4 * 86400}};
  for (const auto& [range, period] : defaults) {
    EXPECT_EQ(Analytics({{"StartTime", 1e9}, {"EndTime", 1e9 + range}})["TimeSeries"]["Period"],
              period)
        << range;
  }
}

TEST_F(TraceAnalyticsApiTest, EventTimeBucketsByUpdateTime) {
  PutAll({Doc(1, 1000.0, 0.5)});
  const json out = Analytics({{"StartTime", 0},
                              {"EndTime", 4102444800.0},
                              {"TimeRangeType", "Event"},
                              {"Period", 864000}});
  EXPECT_EQ(out["TraceCount"], 1);
  ASSERT_EQ(out["TimeSeries"]["Points"].size(), 1u);
  // Updated "now", not at its start in 1970.
  EXPECT_GT(out["TimeSeries"]["Points"][0]["Timestamp"].get<double>(), 1.6e9);
}

TEST_F(TraceAnalyticsApiTest, BadRequestsNameTheField) {
  const json range = {{"StartTime", 900}, {"EndTime", 1100}};
  auto with = [&range](const char* key, json value) {
    json r = range;
    r[key] = std::move(value);
    return r;
  };
  ExpectInvalid(Post(kPath, json{{"EndTime", 10}}), "StartTime: required");
  ExpectInvalid(Post(kPath, json{{"StartTime", 10}, {"EndTime", 10}}),
                "EndTime: must be after StartTime");
  ExpectInvalid(Post(kPath, with("TimeRangeType", "Day")),
                "TimeRangeType: must be TraceId, Event or Service, got \"Day\"");
  HttpResponse bad_filter = Post(kPath, with("FilterExpression", "duration >"));
  EXPECT_EQ(bad_filter.status, 400);
  EXPECT_TRUE(
      Json(bad_filter)["message"].get<std::string>().starts_with("FilterExpression: column "))
      << bad_filter.body;
  ExpectInvalid(Post(kPath, with("Limit", 0)), "Limit: must be between 1 and 100, got 0");
  ExpectInvalid(Post(kPath, with("Limit", 101)), "Limit: must be between 1 and 100, got 101");
  ExpectInvalid(Post(kPath, with("Limit", "ten")), "Limit: must be a number, got a string");
  ExpectInvalid(Post(kPath, with("Period", 0)),
                "Period: must be a positive whole number of seconds, got 0");
  ExpectInvalid(Post(kPath, with("Period", -60)),
                "Period: must be a positive whole number of seconds, got -60");
  ExpectInvalid(Post(kPath, with("Period", 1.5)),
                "Period: must be a positive whole number of seconds, got 1.5");
  ExpectInvalid(Post(kPath, json{{"StartTime", 0}, {"EndTime", 86400}, {"Period", 1}}),
                "Period: 1 s over a 86400 s range makes 86400 periods, more than 10000; use at "
                "least 9 s");
  ExpectInvalid(Post(kPath, with("MaxTraces", 0)),
                "MaxTraces: must be between 1 and 150000, got 0");
  ExpectInvalid(Post(kPath, with("MaxTraces", 150001)),
                "MaxTraces: must be between 1 and 150000, got 150001");
  ExpectInvalid(Post(kPath, with("NextToken", "x")),
                "NextToken: this server answers TraceAnalytics in one response and never issues "
                "one");
  ExpectInvalid(Post(kPath, std::string("[1]")),
                "request body must be a JSON object, got an array");
  // Only POST.
  HttpRequest get;
  get.method = "GET";
  get.path = get.target = kPath;
  HttpResponse r;
  router_.Dispatch(get, [&r](HttpResponse response) { r = std::move(response); });
  EXPECT_EQ(r.status, 405);
}

}  // namespace
}  // namespace roentgen::api
