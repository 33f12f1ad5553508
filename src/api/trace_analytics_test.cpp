// TraceAnalytics (the aggregates) and ScannedFromUs over hand-made summaries.
#include "api/trace_analytics.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace roentgen::api {
namespace {

using nlohmann::json;

constexpr int64_t kSecond = 1'000'000;

xray::TraceSummary Trace(std::optional<int64_t> response_time_us = 100'000) {
  xray::TraceSummary s;
  s.response_time_us = response_time_us;
  s.duration_us = response_time_us;
  return s;
}

xray::TraceSummary WithUsers(std::vector<std::string> users) {
  xray::TraceSummary s = Trace();
  for (std::string& u : users) s.users.push_back({std::move(u), {}});
  return s;
}

xray::TraceSummary WithAnnotation(const std::string& key,
                                  std::vector<xray::AnnotationValue> values) {
  xray::TraceSummary s = Trace();
  xray::TraceAnnotation a{key, {}};
  for (auto& v : values) a.values.push_back({std::move(v), {}});
  s.annotations.push_back(std::move(a));
  return s;
}

json Render(const std::vector<xray::TraceSummary>& traces, TraceAnalyticsConfig config = {},
            int64_t sort_time_us = 0) {
  TraceAnalytics analytics(config);
  for (const xray::TraceSummary& s : traces) analytics.Add(s, sort_time_us);
  EXPECT_EQ(analytics.trace_count(), static_cast<int64_t>(traces.size()));
  return analytics.ToJson();
}

json Values(std::vector<std::pair<json, int64_t>> values) {
  json out = json::array();
  for (auto& [v, n] : values) out.push_back({{"Value", v}, {"TraceCount", n}});
  return out;
}

TEST(TraceAnalyticsTest, StatusPrecedenceCountsEachTraceOnce) {
  std::vector<xray::TraceSummary> traces(7, Trace());
  traces[0].has_fault = traces[0].has_throttle = traces[0].has_error = true;  // fault
  traces[1].has_fault = true;                                                 // fault
  traces[2].has_throttle = traces[2].has_error = true;                        // throttle
  traces[3].has_error = true;                                                 // error
  traces[4].is_partial = true;                                                // ok, partial
  traces[5].is_partial = traces[5].has_error = true;                          // error, partial
  const json out = Render(traces);
  EXPECT_EQ(out["TraceCount"], 7);
  EXPECT_EQ(out["Status"],
            (json{{"Ok", 2}, {"Error", 2}, {"Throttle", 1}, {"Fault", 2}, {"Partial", 2}}));
}

TEST(TraceAnalyticsTest, HistogramsUseTheServiceMapBucketsAndSkipMissingTimes) {
  std::vector<xray::TraceSummary> traces = {Trace(500), Trace(1'500), Trace(1'900),
                                            Trace(1'234'000), Trace(std::nullopt)};
  traces[4].duration_us = 3 * kSecond;  // a duration without a response time
  const json out = Render(traces);
  EXPECT_EQ(out["ResponseTimeHistogram"], (json::array({{{"Value", 0.0}, {"Count", 1}},
                                                        {{"Value", 0.001}, {"Count", 2}},
                                                        {{"Value", 1.23}, {"Count", 1}}})));
  EXPECT_EQ(out["DurationHistogram"], (json::array({{{"Value", 0.0}, {"Count", 1}},
                                                    {{"Value", 0.001}, {"Count", 2}},
                                                    {{"Value", 1.23}, {"Count", 1}},
                                                    {{"Value", 3.0}, {"Count", 1}}})));
}

TEST(TraceAnalyticsTest, TimeSeriesPeriodsAreAlignedToTheEpochAndSparse) {
  TraceAnalyticsConfig config;
  config.period_us = 300 * kSecond;
  TraceAnalytics analytics(config);
  xray::TraceSummary fault = Trace(2 * kSecond);
  fault.has_fault = true;
  xray::TraceSummary error = Trace(std::nullopt);
  error.has_error = true;
  analytics.Add(Trace(250'000), 1000 * kSecond);              // period 900
  analytics.Add(fault, 1199 * kSecond + 999'999);             // period 900
  analytics.Add(error, 1200 * kSecond);                       // period 1200
  analytics.Add(Trace(1'000'000), 3000 * kSecond + 500'000);  // period 3000; 1500..2700 empty
  const json series = analytics.ToJson()["TimeSeries"];
  EXPECT_EQ(series["Period"], 300);
  EXPECT_EQ(series["Points"], (json::array({{{"Timestamp", 900.0},
                                             {"Count", 2},
                                             {"Ok", 1},
                                             {"Error", 0},
                                             {"Throttle", 0},
                                             {"Fault", 1},
                                             {"TotalResponseTime", 2.25}},
                                            {{"Timestamp", 1200.0},
                                             {"Count", 1},
                                             {"Ok", 0},
                                             {"Error", 1},
                                             {"Throttle", 0},
                                             {"Fault", 0},
                                             {"TotalResponseTime", 0.0}},
                                            {{"Timestamp", 3000.0},
                                             {"Count", 1},
                                             {"Ok", 1},
                                             {"Error", 0},
                                             {"Throttle", 0},
                                             {"Fault", 0},
                                             {"TotalResponseTime", 1.0}}})));
}

TEST(TraceAnalyticsTest, TopValuesByTraceCountThenValueUpToTheLimit) {
  std::vector<xray::TraceSummary> traces;
  for (const char* u : {"carol", "alice", "bob", "alice", "dave", "bob", "carol", "alice"}) {
    traces.push_back(WithUsers({u}));
  }
  TraceAnalyticsConfig config;
  config.limit = 2;
  json out = Render(traces, config);
  EXPECT_EQ(out["Users"], Values({{"alice", 3}, {"bob", 2}}));  // bob before carol: a tie
  EXPECT_EQ(out["OtherUsers"], 3);                              // carol 2 + dave 1
  config.limit = 20;
  out = Render(traces, config);
  EXPECT_EQ(out["Users"], Values({{"alice", 3}, {"bob", 2}, {"carol", 2}, {"dave", 1}}));
  EXPECT_EQ(out["OtherUsers"], 0);
}

TEST(TraceAnalyticsTest, ATraceCountsOncePerValue) {
  xray::TraceSummary s = WithUsers({"alice", "alice", "bob"});
  xray::TraceSummary repeat = WithAnnotation("tier", {std::string("gold"), std::string("gold")});
  s.annotations = repeat.annotations;
  s.service_ids = {{"api", {"api"}, "", "AWS::ECS::Container"},
                   {"api", {"api"}, "123456789012", "AWS::ECS::Container"}};  // same name+type
  const json out = Render({s, WithUsers({"alice"})});
  EXPECT_EQ(out["Users"], Values({{"alice", 2}, {"bob", 1}}));
  EXPECT_EQ(out["Annotations"][0]["Values"], Values({{{{"StringValue", "gold"}}, 1}}));
  EXPECT_EQ(out["Services"],
            (json::array({{{"Name", "api"}, {"Type", "AWS::ECS::Container"}, {"TraceCount", 1}}})));
}

TEST(TraceAnalyticsTest, ValuesPastTheCapAreCountedInOther) {
  TraceAnalyticsConfig config;
  config.max_values = 2;
  std::vector<xray::TraceSummary> traces;
  for (const char* u : {"a", "b", "c", "a", "d", "c"}) traces.push_back(WithUsers({u}));
  const json out = Render(traces, config);
  EXPECT_EQ(out["Users"], Values({{"a", 2}, {"b", 1}}));  // the first two values met
  EXPECT_EQ(out["OtherUsers"], 3);                        // c twice, d once: not tracked
}

TEST(TraceAnalyticsTest, AnnotationsOfAllThreeTypes) {
  using V = xray::AnnotationValue;
  std::vector<xray::TraceSummary> traces = {
      WithAnnotation("tier", {V(std::string("gold"))}),
      WithAnnotation("tier", {V(std::string("silver"))}),
      WithAnnotation("tier", {V(std::string("gold"))}),
      WithAnnotation("n", {V(3.0)}),
      WithAnnotation("n", {V(1.5)}),
      WithAnnotation("n", {V(3.0)}),
      WithAnnotation("flag", {V(true)}),
      WithAnnotation("flag", {V(false)}),
      WithAnnotation("zero", {V(0.0)}),
      WithAnnotation("zero", {V(-0.0)}),
  };
  TraceAnalyticsConfig config;
  config.limit = 1;
  const json out = Render(traces, config);
  // Keys by traces, ties by key.
  EXPECT_EQ(out["Annotations"], (json::array({{{"Key", "n"},
                                               {"TraceCount", 3},
                                               {"Values", Values({{{{"NumberValue", 3.0}}, 2}})},
                                               {"OtherValues", 1}},
                                              {{"Key", "tier"},
                                               {"TraceCount", 3},
                                               {"Values", Values({{{{"StringValue", "gold"}}, 2}})},
                                               {"OtherValues", 1}},
                                              {{"Key", "flag"},
                                               {"TraceCount", 2},
                                               {"Values", Values({{{{"BooleanValue", false}}, 1}})},
                                               {"OtherValues", 1}},
                                              {{"Key", "zero"},
                                               {"TraceCount", 2},
                                               {"Values", Values({{{{"NumberValue", 0.0}}, 2}})},
                                               {"OtherValues", 0}}})));
  EXPECT_EQ(out["OtherAnnotations"], 0);
}

TEST(TraceAnalyticsTest, AnnotationKeyAndValueCapsAreCountedInOther) {
  using V = xray::AnnotationValue;
  TraceAnalyticsConfig config;
  config.max_annotation_keys = 2;         // tracked keys
  config.max_annotation_keys_listed = 1;  // listed keys
  config.max_annotation_values = 3;       // values over all keys
  std::vector<xray::TraceSummary> traces = {
      WithAnnotation("a", {V(1.0)}), WithAnnotation("a", {V(2.0)}),
      WithAnnotation("b", {V(1.0)}), WithAnnotation("b", {V(2.0)}),  // past the value budget
      WithAnnotation("a", {V(1.0)}), WithAnnotation("c", {V(1.0)}),  // c: past the key cap
  };
  const json out = Render(traces, config);
  ASSERT_EQ(out["Annotations"].size(), 1u);
  EXPECT_EQ(out["Annotations"][0]["Key"], "a");
  EXPECT_EQ(out["Annotations"][0]["TraceCount"], 3);
  EXPECT_EQ(out["Annotations"][0]["Values"],
            Values({{{{"NumberValue", 1.0}}, 2}, {{{"NumberValue", 2.0}}, 1}}));
  EXPECT_EQ(out["Annotations"][0]["OtherValues"], 0);
  EXPECT_EQ(out["OtherAnnotations"], 3);  // key b (2 traces, unlisted) + key c (untracked)
}

TEST(TraceAnalyticsTest, HttpFieldsAndServices) {
  std::vector<xray::TraceSummary> traces(4, Trace());
  traces[0].http = {"https://x/a", 200, "GET", "", ""};
  traces[1].http = {"https://x/a", 500, "POST", "", ""};
  traces[2].http = {"https://x/b", 200, "GET", "", ""};
  traces[3].service_ids = {{"web", {"web"}, "", ""}, {"db", {"db"}, "", "AWS::DynamoDB::Table"}};
  traces[2].service_ids = {{"web", {"web"}, "", ""}};
  const json out = Render(traces);
  EXPECT_EQ(out["Urls"], Values({{"https://x/a", 2}, {"https://x/b", 1}}));
  EXPECT_EQ(out["HttpMethods"], Values({{"GET", 2}, {"POST", 1}}));
  EXPECT_EQ(out["HttpStatuses"], Values({{200, 2}, {500, 1}}));
  EXPECT_EQ(out["Services"],
            (json::array({{{"Name", "web"}, {"TraceCount", 2}},
                          {{"Name", "db"}, {"Type", "AWS::DynamoDB::Table"}, {"TraceCount", 1}}})));
  for (const char* other : {"OtherUrls", "OtherHttpMethods", "OtherHttpStatuses", "OtherServices",
                            "OtherUsers", "OtherAnnotations"}) {
    EXPECT_EQ(out[other], 0) << other;
  }
}

TEST(TraceAnalyticsTest, RootCausesNameTheLastServiceItsPathAndTheException) {
  xray::RootCauseService api;
  api.name = "api";
  api.type = "AWS::ECS::Container";
  xray::RootCauseEntity call{"DynamoDB", {{"ResourceNotFoundException", "no table"}}, {}, true};
  api.entity_path = {{"api", {}, {}, false}, {"handler", {}, {}, false}, call};
  xray::RootCauseService table;
  table.name = "scores";
  table.type = "AWS::DynamoDB::Table";
  table.inferred = true;
  table.entity_path = {{"scores", {}, {}, true}};
  xray::RootCause fault{{api, table}, true};
  xray::RootCauseService own = api;
  own.entity_path = {{"api", {}, {}, false}, {"handler", {}, {}, false}};
  xray::RootCause slow{{own}, true};

  std::vector<xray::TraceSummary> traces(3, Trace());
  traces[0].fault_root_causes = {fault, fault};  // counted once for the trace
  traces[1].fault_root_causes = {fault};
  traces[1].response_time_root_causes = {slow};
  traces[2].error_root_causes = {slow};
  const json out = Render(traces);
  EXPECT_EQ(out["RootCauses"]["Fault"], (json::array({{{"Service", "scores"},
                                                       {"Type", "AWS::DynamoDB::Table"},
                                                       {"Entity", "scores"},
                                                       {"Exception", "ResourceNotFoundException"},
                                                       {"TraceCount", 2}}})));
  const json api_cause = {{"Service", "api"},
                          {"Type", "AWS::ECS::Container"},
                          {"Entity", "api > handler"},
                          {"TraceCount", 1}};
  EXPECT_EQ(out["RootCauses"]["ResponseTime"], json::array({api_cause}));
  EXPECT_EQ(out["RootCauses"]["Error"], json::array({api_cause}));
  EXPECT_EQ(out["RootCauses"]["OtherFault"], 0);
}

TEST(TraceAnalyticsTest, EmptyShape) {
  const json out = Render({});
  EXPECT_EQ(out["TraceCount"], 0);
  EXPECT_EQ(out["ResponseTimeHistogram"], json::array());
  EXPECT_EQ(out["TimeSeries"], (json{{"Period", 60}, {"Points", json::array()}}));
  for (const char* list :
       {"Annotations", "Users", "Urls", "HttpMethods", "HttpStatuses", "Services"}) {
    EXPECT_EQ(out[list], json::array()) << list;
  }
  EXPECT_EQ(out["RootCauses"]["Fault"], json::array());
}

store::ScanCursor At(int64_t time_us) { return store::ScanCursor{time_us, {}}; }

TEST(ScannedFromTest, WholeRangeWhenNeverStopped) {
  store::ScanProgress progress;
  progress.examined = 3;
  progress.last = At(10);
  EXPECT_EQ(ScannedFromUs(progress, 5), 5);
}

TEST(ScannedFromTest, StoppedScanCoversFromTheOldestExaminedTime) {
  store::ScanProgress progress;
  progress.examined = 2;
  progress.last = At(20);
  progress.stopped_at = At(10);
  EXPECT_EQ(ScannedFromUs(progress, 0), 20);
}

TEST(ScannedFromTest, StopBetweenTracesOfOneTimeClaimsOnlyLaterTimes) {
  store::ScanProgress progress;
  progress.examined = 2;
  progress.last = At(20);
  progress.stopped_at = At(20);  // another trace at 20 was not examined
  EXPECT_EQ(ScannedFromUs(progress, 0), 21);
}

TEST(ScannedFromTest, StopBeforeAnyTraceClaimsNothing) {
  store::ScanProgress progress;
  progress.stopped_at = At(40);
  EXPECT_EQ(ScannedFromUs(progress, 0), 41);
}

}  // namespace
}  // namespace roentgen::api
