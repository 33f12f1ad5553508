// Insights over one store shared by two processes: each "process" has its own
// group registry, insight store (shared mode), detector and lease over the
// same in-memory store; both read the same traces (one RollupStore stands for
// the shared store's traces, which each server scans). Time is a fake clock
// driven minute by minute; each process's timer tick is TickDetector.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/metrics.h"
#include "insights/detector.h"
#include "insights/insight_store.h"
#include "insights/leader_lease.h"
#include "insights/scheduler.h"
#include "insights/test_util.h"
#include "store/memory/memory_store.h"

namespace roentgen::insights {
namespace {

using graph::kMinuteUs;
using testing::FrontBackTrace;
using testing::kT0;

constexpr int kSharedPerMinute = 100;

struct InsightsProcess {
  InsightsProcess(store::Store& store, const graph::RollupStore& rollups, std::string id)
      : groups(store),
        graphs(store, rollups, groups),
        insights(InsightStore::OpenShared(store)),
        detector(groups, graphs, *insights, metrics, nullptr),
        lease(store, std::move(id), kMinuteUs) {}

  std::vector<Insight> All() {
    Result<std::vector<Insight>> all = insights->Find([](const Insight&) { return true; });
    EXPECT_TRUE(all.ok()) << all.status().ToString();
    return all.ok() ? *all : std::vector<Insight>{};
  }

  api::GroupRegistry groups;
  GroupGraphs graphs;
  MetricsRegistry metrics;
  std::unique_ptr<InsightStore> insights;
  Detector detector;
  LeaderLease lease;
};

class SharedInsightsTest : public ::testing::Test {
 protected:
  SharedInsightsTest() {
    p1_ = std::make_unique<InsightsProcess>(*store_, rollups_, "p1");
    p2_ = std::make_unique<InsightsProcess>(*store_, rollups_, "p2");
    EXPECT_TRUE(p1_->groups
                    .Update(api::kDefaultGroupName, false, std::nullopt,
                            api::InsightsConfiguration{true, false})
                    .ok());
  }

  // Minute `m` (from kT0) with `faults` of its requests failing in back; the
  // clock then one second after the minute ends.
  void Traffic(int m, int faults) {
    const int64_t start = kT0 + m * kMinuteUs;
    for (int i = 0; i < kSharedPerMinute; ++i) {
      rollups_.Add(FrontBackTrace(start + i * 500'000, i < faults), +1);
    }
    clock_.Set(start + kMinuteUs + 1'000'000);
  }

  // One timer tick of `p` now; whether it evaluated.
  bool Tick(InsightsProcess& p) {
    Result<bool> evaluated = TickDetector(p.detector, &p.lease, clock_.NowMicros());
    EXPECT_TRUE(evaluated.ok()) << evaluated.status().ToString();
    return evaluated.ok() && *evaluated;
  }

  std::unique_ptr<store::Store> store_ = store::NewMemoryStore();
  graph::RollupStore rollups_;
  FakeClock clock_{kT0};
  std::unique_ptr<InsightsProcess> p1_, p2_;
};

TEST_F(SharedInsightsTest, OnlyTheLeaderDetectsAndEveryProcessAnswersItsInsights) {
  int p1_evaluations = 0, p2_evaluations = 0;
  for (int m = 0; m < 80; ++m) {
    Traffic(m, m < 70 ? 1 : 40);  // 1% baseline, then a burst of 40% faults
    p1_evaluations += Tick(*p1_);
    p2_evaluations += Tick(*p2_);
  }
  EXPECT_EQ(p1_evaluations, 80);  // "p1" < "p2"
  EXPECT_EQ(p2_evaluations, 0);
  std::vector<Insight> seen_by_p1 = p1_->All();
  std::vector<Insight> seen_by_p2 = p2_->All();
  ASSERT_EQ(seen_by_p1.size(), 1u);
  ASSERT_EQ(seen_by_p2.size(), 1u);
  EXPECT_EQ(seen_by_p1[0].id, seen_by_p2[0].id);
  EXPECT_EQ(seen_by_p2[0].root_cause.name, "back");
  EXPECT_EQ(seen_by_p2[0].root_cause_impact, (ImpactStatistics{400, 600, 1000}));
  Result<std::optional<Insight>> by_id = p2_->insights->Lookup(seen_by_p1[0].id);
  ASSERT_TRUE(by_id.ok());
  ASSERT_TRUE(by_id->has_value());
  EXPECT_EQ((*by_id)->state, InsightState::kActive);
}

TEST_F(SharedInsightsTest, WhenTheLeadersHeartbeatsStopTheNextProcessTakesOverTheSameInsight) {
  for (int m = 0; m < 73; ++m) {
    Traffic(m, m < 70 ? 1 : 40);
    EXPECT_TRUE(Tick(*p1_));
    EXPECT_FALSE(Tick(*p2_));
  }
  ASSERT_EQ(p2_->All().size(), 1u);
  const std::string id = p2_->All()[0].id;
  // p1 stops without resigning (a crash). p2 waits until p1's last
  // heartbeat is more than kLeaseIntervals intervals old, then detects.
  std::vector<bool> p2_evaluated;
  for (int m = 73; m < 80; ++m) {
    Traffic(m, 40);
    p2_evaluated.push_back(Tick(*p2_));
  }
  // Minutes 73–75: p1's heartbeat is 1–3 intervals old; from 76 on, p2 leads.
  EXPECT_EQ(p2_evaluated, (std::vector<bool>{false, false, false, true, true, true, true}));
  static_assert(kLeaseIntervals == 3);
  // p2 follows the insight p1 opened to its close: still one insight.
  for (int m = 80; m < 100; ++m) {
    Traffic(m, 1);
    EXPECT_TRUE(Tick(*p2_));
  }
  std::vector<Insight> all = p2_->All();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, id);
  EXPECT_EQ(all[0].state, InsightState::kClosed);
  ASSERT_TRUE(all[0].end_time_us.has_value());
  EXPECT_EQ(all[0].root_cause_impact.total_count,
            (*all[0].end_time_us - all[0].start_time_us) / kMinuteUs * kSharedPerMinute);
}

TEST_F(SharedInsightsTest, ALeaderThatStopsCleanlyHandsOverAtTheNextTick) {
  Traffic(0, 1);
  EXPECT_TRUE(Tick(*p1_));
  EXPECT_FALSE(Tick(*p2_));
  ASSERT_TRUE(p1_->lease.Resign().ok());
  Traffic(1, 1);
  EXPECT_TRUE(Tick(*p2_));
}

TEST_F(SharedInsightsTest, ANewProcessWithASmallerIdLeadsAndTheOldLeaderStepsDown) {
  Traffic(0, 1);
  EXPECT_TRUE(Tick(*p2_));  // alone so far
  Traffic(1, 1);
  EXPECT_TRUE(Tick(*p2_));
  EXPECT_TRUE(Tick(*p1_));   // p1 starts: leads at its first beat...
  EXPECT_FALSE(Tick(*p2_));  // ...and p2 steps down at its next.
  // Stale heartbeats are forgotten (deleted) after kForgetIntervals.
  clock_.Advance((kForgetIntervals + 1) * kMinuteUs);
  EXPECT_TRUE(Tick(*p2_));
  auto beats = store_->ListConfig(kLeaseNamespace);
  ASSERT_TRUE(beats.ok());
  ASSERT_EQ(beats->size(), 1u);
  EXPECT_EQ(beats->front().first, "p2");
}

TEST_F(SharedInsightsTest, TwoDetectorsEvaluatingTogetherWriteOneInsight) {
  // An overlap while leadership changes, drawn out: both processes evaluate
  // every boundary, one after the other (each reads what the other wrote).
  for (int m = 0; m < 80; ++m) {
    Traffic(m, m < 70 ? 1 : 40);
    ASSERT_TRUE(p1_->detector.EvaluateAt(clock_.NowMicros()).ok());
    ASSERT_TRUE(p2_->detector.EvaluateAt(clock_.NowMicros()).ok());
  }
  std::vector<Insight> all = p1_->All();
  ASSERT_EQ(all.size(), 1u);
  // The impact is what one detector counts: nothing added twice.
  EXPECT_EQ(all[0].root_cause_impact, (ImpactStatistics{400, 600, 1000}));
  EXPECT_EQ(all[0].start_time_us, kT0 + 70 * kMinuteUs);
}

TEST_F(SharedInsightsTest, DetectorsThatDoNotSeeEachOthersWritesOpenTheSameInsight) {
  // The race inside an overlap: a second detector evaluates before the first
  // one's insight is stored. Modelled by a detector over a store of its own
  // (it never sees p1's writes); what it writes then lands in the shared store.
  std::unique_ptr<store::Store> unseen = store::NewMemoryStore();
  InsightsProcess racer(*unseen, rollups_, "racer");
  ASSERT_TRUE(racer.groups
                  .Update(api::kDefaultGroupName, false, std::nullopt,
                          api::InsightsConfiguration{true, false})
                  .ok());
  for (int m = 0; m < 80; ++m) {
    Traffic(m, m < 70 ? 1 : 40);
    ASSERT_TRUE(p1_->detector.EvaluateAt(clock_.NowMicros()).ok());
    ASSERT_TRUE(racer.detector.EvaluateAt(clock_.NowMicros()).ok());
  }
  std::vector<Insight> raced = racer.All();
  ASSERT_EQ(raced.size(), 1u);
  ASSERT_TRUE(p1_->insights->Put(raced[0]).ok());
  std::vector<Insight> all = p2_->All();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, raced[0].id);
}

TEST(InsightIdForTest, TheSameIncidentGetsTheSameIdAndOthersDiffer) {
  const graph::ServiceKey back{"back", "", ""};
  const std::string id = InsightIdFor("Default", back, kT0, 0);
  EXPECT_EQ(id, InsightIdFor("Default", back, kT0, 0));
  ASSERT_EQ(id.size(), 36u);
  EXPECT_EQ(id[14], '8');  // version 8
  EXPECT_NE(id, InsightIdFor("Default", back, kT0 + kMinuteUs, 0));
  EXPECT_NE(id, InsightIdFor("Other", back, kT0, 0));
  EXPECT_NE(id, InsightIdFor("Default", graph::ServiceKey{"front", "", ""}, kT0, 0));
  EXPECT_NE(id, InsightIdFor("Default", back, kT0, 1));
  // Parts never run into each other.
  EXPECT_NE(InsightIdFor("ab", graph::ServiceKey{"c", "", ""}, kT0, 0),
            InsightIdFor("a", graph::ServiceKey{"bc", "", ""}, kT0, 0));
}

}  // namespace
}  // namespace roentgen::insights
