// The four insight APIs through the Router, over insights the detector
// opened from rollups fed with a baseline and a fault burst.
#include "insights/insights_api.h"

#include <gtest/gtest.h>

#include <future>

#include "common/clock.h"
#include "insights/detector.h"
#include "insights/test_util.h"
#include "store/memory/memory_store.h"

namespace roentgen::insights {
namespace {

using graph::kMinuteUs;
using nlohmann::json;
using testing::FrontBackTrace;
using testing::kT0;

struct RecordingSink final : InsightSink {
  void OnEvent(const api::Group& group, const Insight& insight,
               const InsightEvent& event) override {
    received.push_back({group.name, insight.id, event.summary});
  }
  struct Item {
    std::string group, id, summary;
  };
  std::vector<Item> received;
};

class InsightsApiTest : public ::testing::Test {
 protected:
  InsightsApiTest()
      : store_(store::NewMemoryStore()),
        groups_(*store_),
        graphs_(*store_, rollups_, groups_),
        clock_(kT0) {
    insights_ = std::move(InsightStore::Open(*store_)).value();
    detector_ = std::make_unique<Detector>(groups_, graphs_, *insights_, metrics_, &sink_,
                                           DetectorConfig{});
    RegisterInsightsApis(router_, *insights_, groups_, graphs_, clock_);
  }

  // 70 minutes at 1% faults, then `burst` minutes at 40%, evaluated each minute.
  void Incident(int burst) {
    for (int m = 0; m < 70 + burst; ++m) {
      const int64_t start = kT0 + m * kMinuteUs;
      const int faults = m < 70 ? 1 : 40;
      for (int i = 0; i < 100; ++i)
        rollups_.Add(FrontBackTrace(start + i * 500'000, i < faults), 1);
      clock_.Set(start + kMinuteUs + 1'000'000);
      ASSERT_TRUE(detector_->EvaluateAt(clock_.NowMicros()).ok());
    }
  }

  api::HttpResponse Post(const std::string& path, const json& body) {
    api::HttpRequest request;
    request.method = "POST";
    request.path = path;
    request.target = path;
    request.body = body.dump();
    std::promise<api::HttpResponse> promise;
    router_.Dispatch(request, [&](api::HttpResponse r) { promise.set_value(std::move(r)); });
    return promise.get_future().get();
  }

  static void ExpectInvalid(const api::HttpResponse& r, const std::string& fragment) {
    EXPECT_EQ(r.status, 400) << r.body;
    const json j = json::parse(r.body);
    EXPECT_EQ(j["__type"], "InvalidRequestException") << r.body;
    EXPECT_NE(j["message"].get<std::string>().find(fragment), std::string::npos) << r.body;
  }

  double Now() const { return static_cast<double>(clock_.NowMicros()) / 1e6; }

  std::unique_ptr<store::Store> store_;
  api::GroupRegistry groups_;
  graph::RollupStore rollups_;
  GroupGraphs graphs_;
  FakeClock clock_;
  MetricsRegistry metrics_;
  RecordingSink sink_;
  std::unique_ptr<InsightStore> insights_;
  std::unique_ptr<Detector> detector_;
  api::Router router_;
};

TEST_F(InsightsApiTest, SummariesInsightEventsAndImpactGraph) {
  ASSERT_TRUE(groups_
                  .Update(api::kDefaultGroupName, false, std::nullopt,
                          api::InsightsConfiguration{true, true})
                  .ok());
  Incident(8);

  api::HttpResponse r =
      Post("/InsightSummaries", {{"StartTime", Now() - 3600}, {"EndTime", Now()}});
  ASSERT_EQ(r.status, 200) << r.body;
  json body = json::parse(r.body);
  ASSERT_EQ(body["InsightSummaries"].size(), 1u) << r.body;
  const json summary = body["InsightSummaries"][0];
  const std::string id = summary["InsightId"];
  EXPECT_EQ(summary["GroupName"], "Default");
  EXPECT_EQ(summary["GroupARN"], "arn:aws:xray:us-east-1:000000000000:group/Default");
  EXPECT_EQ(summary["State"], "ACTIVE");
  EXPECT_EQ(summary["Categories"], json::array({"FAULT"}));
  EXPECT_EQ(summary["RootCauseServiceId"]["Name"], "back");
  EXPECT_EQ(summary["StartTime"], static_cast<double>(kT0 + 70 * kMinuteUs) / 1e6);
  EXPECT_FALSE(summary.contains("EndTime"));
  EXPECT_EQ(summary["LastUpdateTime"], Now());
  EXPECT_EQ(summary["RootCauseServiceRequestImpactStatistics"],
            (json{{"FaultCount", 320}, {"OkCount", 480}, {"TotalCount", 800}}));
  EXPECT_EQ(summary["ClientRequestImpactStatistics"],
            (json{{"FaultCount", 320}, {"OkCount", 480}, {"TotalCount", 800}}));
  ASSERT_EQ(summary["TopAnomalousServices"].size(), 2u);
  EXPECT_EQ(summary["TopAnomalousServices"][0]["ServiceId"]["Name"], "back");
  EXPECT_NE(summary["Summary"].get<std::string>().find("back"), std::string::npos);

  // Filters: by state, by group.
  r = Post("/InsightSummaries",
           {{"StartTime", Now() - 3600}, {"EndTime", Now()}, {"States", {"CLOSED"}}});
  EXPECT_EQ(json::parse(r.body)["InsightSummaries"].size(), 0u) << r.body;
  r = Post("/InsightSummaries",
           {{"StartTime", Now() - 3600},
            {"EndTime", Now()},
            {"GroupARN", "arn:aws:xray:us-east-1:000000000000:group/Default"}});
  EXPECT_EQ(json::parse(r.body)["InsightSummaries"].size(), 1u) << r.body;
  // Before the insight started: none.
  r = Post("/InsightSummaries", {{"StartTime", Now() - 7200}, {"EndTime", Now() - 3600}});
  EXPECT_EQ(json::parse(r.body)["InsightSummaries"].size(), 0u) << r.body;

  r = Post("/Insight", {{"InsightId", id}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json insight = json::parse(r.body)["Insight"];
  EXPECT_EQ(insight["InsightId"], id);
  EXPECT_FALSE(insight.contains("LastUpdateTime"));
  EXPECT_EQ(insight["RootCauseServiceId"], summary["RootCauseServiceId"]);

  r = Post("/InsightEvents", {{"InsightId", id}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json events = json::parse(r.body)["InsightEvents"];
  ASSERT_GE(events.size(), 1u);
  EXPECT_TRUE(events[0].contains("EventTime"));
  EXPECT_TRUE(events[0].contains("ClientRequestImpactStatistics"));
  // Notifications on: the sink saw every event.
  EXPECT_EQ(sink_.received.size(), events.size());
  EXPECT_EQ(sink_.received[0].id, id);

  r = Post("/InsightImpactGraph",
           {{"InsightId", id}, {"StartTime", Now() - 1800}, {"EndTime", Now()}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json graph = json::parse(r.body);
  EXPECT_EQ(graph["InsightId"], id);
  std::map<std::string, json> by_name;
  for (const json& s : graph["Services"])
    by_name[s.value("Name", s["Type"].get<std::string>())] = s;
  ASSERT_EQ(by_name.size(), 3u) << r.body;  // client, front, back
  ASSERT_EQ(by_name["front"]["Edges"].size(), 1u);
  EXPECT_EQ(by_name["front"]["Edges"][0]["ReferenceId"], by_name["back"]["ReferenceId"]);
  EXPECT_EQ(by_name["back"]["Edges"].size(), 0u);
  EXPECT_EQ(by_name["client"]["Edges"][0]["ReferenceId"], by_name["front"]["ReferenceId"]);
}

TEST_F(InsightsApiTest, Errors) {
  ASSERT_TRUE(groups_
                  .Update(api::kDefaultGroupName, false, std::nullopt,
                          api::InsightsConfiguration{true, false})
                  .ok());
  Incident(6);
  EXPECT_TRUE(sink_.received.empty());  // notifications off
  const std::string id =
      json::parse(Post("/InsightSummaries", {{"StartTime", Now() - 3600}, {"EndTime", Now()}})
                      .body)["InsightSummaries"][0]["InsightId"];

  ExpectInvalid(Post("/InsightSummaries", {{"EndTime", Now()}}), "StartTime: required");
  ExpectInvalid(Post("/InsightSummaries", {{"StartTime", Now() - 31 * 86400}, {"EndTime", Now()}}),
                "30 days");
  ExpectInvalid(
      Post("/InsightSummaries",
           {{"StartTime", Now() - 60}, {"EndTime", Now()}, {"States", {"ACTIVE", "CLOSED"}}}),
      "States");
  ExpectInvalid(Post("/InsightSummaries",
                     {{"StartTime", Now() - 60}, {"EndTime", Now()}, {"States", {"OPEN"}}}),
                "ACTIVE or CLOSED");
  ExpectInvalid(Post("/InsightSummaries",
                     {{"StartTime", Now() - 60}, {"EndTime", Now()}, {"GroupName", "nope"}}),
                "GroupName");
  ExpectInvalid(Post("/InsightSummaries",
                     {{"StartTime", Now() - 60}, {"EndTime", Now()}, {"MaxResults", 101}}),
                "MaxResults");
  ExpectInvalid(Post("/InsightSummaries",
                     {{"StartTime", Now() - 60}, {"EndTime", Now()}, {"NextToken", "junk"}}),
                "NextToken");
  ExpectInvalid(Post("/Insight", json::object()), "InsightId: required");
  ExpectInvalid(Post("/Insight", {{"InsightId", "not-a-uuid"}}), "UUID");
  ExpectInvalid(Post("/Insight", {{"InsightId", "6f0d6c3e-1111-4222-8333-444455556666"}}),
                "no insight");
  ExpectInvalid(Post("/InsightEvents", {{"InsightId", id}, {"MaxResults", 51}}), "MaxResults");
  ExpectInvalid(Post("/InsightEvents", {{"InsightId", id}, {"MaxResults", 0}}), "MaxResults");
  ExpectInvalid(Post("/InsightImpactGraph",
                     {{"InsightId", id}, {"StartTime", Now() - 7 * 3600}, {"EndTime", Now()}}),
                "6 hours");
  ExpectInvalid(Post("/InsightImpactGraph", {{"InsightId", id}, {"EndTime", Now()}}),
                "StartTime: required");
}

TEST_F(InsightsApiTest, EventsArePagedNewestFirst) {
  ASSERT_TRUE(groups_
                  .Update(api::kDefaultGroupName, false, std::nullopt,
                          api::InsightsConfiguration{true, false})
                  .ok());
  Incident(6);
  // The burst ends: a close event follows the opening one.
  for (int m = 76; m < 90; ++m) {
    const int64_t start = kT0 + m * kMinuteUs;
    for (int i = 0; i < 100; ++i) rollups_.Add(FrontBackTrace(start + i * 500'000, i < 1), 1);
    clock_.Set(start + kMinuteUs + 1'000'000);
    ASSERT_TRUE(detector_->EvaluateAt(clock_.NowMicros()).ok());
  }
  const json summaries =
      json::parse(Post("/InsightSummaries", {{"StartTime", Now() - 3600}, {"EndTime", Now()}})
                      .body)["InsightSummaries"];
  ASSERT_EQ(summaries.size(), 1u);
  EXPECT_EQ(summaries[0]["State"], "CLOSED");
  EXPECT_TRUE(summaries[0].contains("EndTime"));
  const std::string id = summaries[0]["InsightId"];
  std::vector<json> all;
  json request = {{"InsightId", id}, {"MaxResults", 1}};
  for (int guard = 0; guard < 100; ++guard) {
    const json page = json::parse(Post("/InsightEvents", request).body);
    ASSERT_LE(page["InsightEvents"].size(), 1u);
    for (const json& e : page["InsightEvents"]) all.push_back(e);
    if (!page.contains("NextToken")) break;
    request["NextToken"] = page["NextToken"];
  }
  ASSERT_GE(all.size(), 2u);
  EXPECT_NE(all.front()["Summary"].get<std::string>().find("closed"), std::string::npos);
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_GE(all[i - 1]["EventTime"].get<double>(), all[i]["EventTime"].get<double>());
  }
}

}  // namespace
}  // namespace roentgen::insights
