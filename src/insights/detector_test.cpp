#include "insights/detector.h"

#include <gtest/gtest.h>

#include <random>

#include "common/clock.h"
#include "insights/test_util.h"
#include "store/memory/memory_store.h"
#include "xray/trace.h"

namespace roentgen::insights {
namespace {

using graph::kMinuteUs;
using testing::FrontBackTrace;

using testing::kT0;
constexpr int kPerMinute = 100;

class DetectorTest : public ::testing::Test {
 protected:
  DetectorTest()
      : store_(store::NewMemoryStore()),
        groups_(*store_),
        graphs_(*store_, rollups_, groups_),
        clock_(kT0) {
    Result<std::unique_ptr<InsightStore>> opened = InsightStore::Open(*store_);
    EXPECT_TRUE(opened.ok());
    insights_ = std::move(*opened);
    detector_ = std::make_unique<Detector>(groups_, graphs_, *insights_, metrics_, nullptr);
  }

  void EnableDefault() {
    ASSERT_TRUE(groups_
                    .Update(api::kDefaultGroupName, false, std::nullopt,
                            api::InsightsConfiguration{true, false})
                    .ok());
  }

  // Minute `m` (from kT0) with `faults` of its requests failing in back,
  // then the evaluation one second after the minute ends.
  void Minute(int m, int faults) {
    const int64_t start = kT0 + m * kMinuteUs;
    for (int i = 0; i < kPerMinute; ++i) {
      rollups_.Add(FrontBackTrace(start + i * 500'000, i < faults), +1);
    }
    clock_.Set(start + kMinuteUs + 1'000'000);
    ASSERT_TRUE(detector_->EvaluateAt(clock_.NowMicros()).ok());
  }

  std::vector<Insight> All() {
    return insights_->Select([](const Insight&) { return true; });
  }

  std::unique_ptr<store::Store> store_;
  api::GroupRegistry groups_;
  graph::RollupStore rollups_;
  GroupGraphs graphs_;
  FakeClock clock_;
  MetricsRegistry metrics_;
  std::unique_ptr<InsightStore> insights_;
  std::unique_ptr<Detector> detector_;
};

TEST_F(DetectorTest, FaultBurstOpensOneInsightNamingTheDownstreamServiceAndClosesAfter) {
  EnableDefault();
  for (int m = 0; m < 70; ++m) Minute(m, 1);  // 1% baseline
  EXPECT_TRUE(All().empty());

  for (int m = 70; m < 80; ++m) Minute(m, 40);  // a burst of 40% faults in back
  std::vector<Insight> all = All();
  ASSERT_EQ(all.size(), 1u);
  const Insight open = all[0];
  EXPECT_EQ(open.state, InsightState::kActive);
  EXPECT_EQ(open.group_name, "Default");
  EXPECT_EQ(open.root_cause.name, "back");
  ASSERT_EQ(open.top_anomalous_services.size(), 2u);
  EXPECT_EQ(open.top_anomalous_services[0].name, "back");
  EXPECT_EQ(open.top_anomalous_services[1].name, "front");
  EXPECT_EQ(open.start_time_us, kT0 + 70 * kMinuteUs);
  EXPECT_FALSE(open.end_time_us.has_value());
  // Minutes 70–79: 100 requests each, 40 faults, in both services.
  EXPECT_EQ(open.root_cause_impact, (ImpactStatistics{400, 600, 1000}));
  EXPECT_EQ(open.client_impact, (ImpactStatistics{400, 600, 1000}));
  ASSERT_FALSE(open.events.empty());
  EXPECT_EQ(open.events[0].top_anomalous_services.size(), 2u);
  EXPECT_EQ(open.id.size(), 36u);

  for (int m = 80; m < 100; ++m) Minute(m, 1);  // back to the baseline
  all = All();
  ASSERT_EQ(all.size(), 1u);
  const Insight closed = all[0];
  EXPECT_EQ(closed.id, open.id);
  EXPECT_EQ(closed.state, InsightState::kClosed);
  ASSERT_TRUE(closed.end_time_us.has_value());
  // The burst leaves the 5-minute window at minute 85; three quiet
  // boundaries later (85, 86, 87 evaluated at the ends of minutes 84–86,
  // i.e. windows ending at 85, 86, 87) it closes.
  EXPECT_GT(*closed.end_time_us, kT0 + 80 * kMinuteUs);
  EXPECT_LE(*closed.end_time_us, kT0 + 90 * kMinuteUs);
  EXPECT_GE(closed.events.size(), 2u);
  EXPECT_NE(closed.events.back().summary.find("closed"), std::string::npos);
  // The statistics cover the insight's minutes, quiet ones included.
  EXPECT_GT(closed.root_cause_impact.total_count, 1000);
  EXPECT_EQ(closed.root_cause_impact.total_count,
            (*closed.end_time_us - closed.start_time_us) / kMinuteUs * kPerMinute);

  // Persisted: a new store reads the same insight back.
  Result<std::unique_ptr<InsightStore>> reopened = InsightStore::Open(*store_);
  ASSERT_TRUE(reopened.ok());
  std::optional<Insight> again = (*reopened)->Get(open.id);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->state, InsightState::kClosed);
  EXPECT_EQ(again->events.size(), closed.events.size());
  EXPECT_EQ(again->root_cause_impact, closed.root_cause_impact);
}

TEST_F(DetectorTest, AnEscalatingAnomalyUpdatesTheSameInsightWithAnEvent) {
  EnableDefault();
  for (int m = 0; m < 70; ++m) Minute(m, 1);
  for (int m = 70; m < 75; ++m) Minute(m, 15);
  std::vector<Insight> all = All();
  ASSERT_EQ(all.size(), 1u);
  const size_t events_before = all[0].events.size();
  const double rate_before = all[0].last_event_rate;
  for (int m = 75; m < 82; ++m) Minute(m, 70);  // the rate more than doubles
  all = All();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state, InsightState::kActive);
  ASSERT_GT(all[0].events.size(), events_before);
  EXPECT_NE(all[0].events.back().summary.find("changed"), std::string::npos)
      << all[0].events.back().summary;
  EXPECT_GE(all[0].last_event_rate, 2 * rate_before);
  EXPECT_EQ(all[0].root_cause.name, "back");
}

// A group with a filter is evaluated over its own traces, scanned from the
// store: the traces it leaves out (tier "batch", failing a lot in the
// baseline) would hide the burst in the unfiltered graph.
TEST_F(DetectorTest, AGroupWithAFilterIsEvaluatedOverItsOwnTraces) {
  api::Group web;
  web.name = "web";
  web.filter_expression = R"(annotation.tier = "web")";
  web.insights = api::InsightsConfiguration{true, false};
  ASSERT_TRUE(groups_.Create(web).ok());
  uint32_t serial = 0;
  auto write_minute = [&](int m, int web_faults, int batch, int batch_faults) {
    store::WriteBatch batch_write;
    const int64_t start = kT0 + m * kMinuteUs;
    auto add = [&](const xray::AssembledTrace& trace) {
      batch_write.traces.push_back({xray::Summarize(trace), graph::DeriveTraceGraph(trace)});
      batch_write.documents.push_back(
          {trace.id, trace.segments[0].id, start, std::string_view("{}")});
      batch_write.documents.push_back(
          {trace.id, trace.segments[1].id, start, std::string_view("{}")});
    };
    for (int i = 0; i < kPerMinute; ++i) {
      add(testing::FrontBackAssembled(start + i * 500'000, i < web_faults, ++serial, "web"));
    }
    for (int i = 0; i < batch; ++i) {
      add(testing::FrontBackAssembled(start + i * 500'000 + 1'000, i < batch_faults, ++serial,
                                      "batch"));
    }
    ASSERT_TRUE(store_->Write(batch_write).ok());
  };
  // The baseline: web at 1%, batch (as many again) at 80%.
  for (int m = 0; m < 70; ++m) write_minute(m, 1, kPerMinute, 80);
  // The burst: web at 40%, no batch traffic.
  for (int m = 70; m < 76; ++m) {
    write_minute(m, 40, 0, 0);
    clock_.Set(kT0 + (m + 1) * kMinuteUs + 1'000'000);
    ASSERT_TRUE(detector_->EvaluateAt(clock_.NowMicros()).ok());
  }
  std::vector<Insight> all = All();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].group_name, "web");
  EXPECT_EQ(all[0].root_cause.name, "back");
  EXPECT_EQ(all[0].start_time_us, kT0 + 70 * kMinuteUs);
  // Only web's requests: 6 minutes of 100, 40 failing.
  EXPECT_EQ(all[0].root_cause_impact, (ImpactStatistics{240, 360, 600}));
  EXPECT_EQ(all[0].client_impact, (ImpactStatistics{240, 360, 600}));
}

TEST_F(DetectorTest, NoiseAtTheBaselineOpensNone) {
  EnableDefault();
  std::mt19937 rng(7);
  std::binomial_distribution<int> noise(kPerMinute, 0.03);
  for (int m = 0; m < 300; ++m) Minute(m, noise(rng));
  EXPECT_TRUE(All().empty());
}

TEST_F(DetectorTest, AGroupWithoutInsightsGetsNone) {
  for (int m = 0; m < 70; ++m) Minute(m, 1);
  for (int m = 70; m < 80; ++m) Minute(m, 60);
  EXPECT_TRUE(All().empty());
}

TEST_F(DetectorTest, DisablingInsightsClosesTheActiveOne) {
  EnableDefault();
  for (int m = 0; m < 70; ++m) Minute(m, 1);
  for (int m = 70; m < 75; ++m) Minute(m, 50);
  ASSERT_EQ(All().size(), 1u);
  ASSERT_TRUE(groups_
                  .Update(api::kDefaultGroupName, false, std::nullopt,
                          api::InsightsConfiguration{false, false})
                  .ok());
  Minute(75, 50);
  std::vector<Insight> all = All();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state, InsightState::kClosed);
}

}  // namespace
}  // namespace roentgen::insights
