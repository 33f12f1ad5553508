#include "ingest/indexing_policy.h"

#include <gtest/gtest.h>

namespace roentgen::ingest {
namespace {

TEST(IndexingPolicyTest, EveryTraceAtOneHundredPercentNoneAtZero) {
  IndexingPolicy all;
  IndexingPolicy none(0);
  for (int i = 0; i < 1000; ++i) {
    const xray::TraceId id = xray::TraceId::Generate(1'700'000'000);
    EXPECT_TRUE(all.Decide(id));
    EXPECT_FALSE(none.Decide(id));
  }
  EXPECT_EQ(all.decided(), 1000u);
  EXPECT_EQ(all.indexed(), 1000u);
  EXPECT_EQ(none.indexed(), 0u);
}

// 20,000 random ids at 25%: the standard deviation of the share is 0.31
// points, so ±2 points is over six of them.
TEST(IndexingPolicyTest, ThePercentageOfRandomIdsIsIndexed) {
  IndexingPolicy policy(25);
  for (int i = 0; i < 20000; ++i) policy.Decide(xray::TraceId::Generate(1'700'000'000));
  const double share = 100.0 * static_cast<double>(policy.indexed()) / 20000.0;
  EXPECT_NEAR(share, 25.0, 2.0);
}

TEST(IndexingPolicyTest, TheDecisionDependsOnTheIdOnlyNotItsTimeOrTheCaller) {
  IndexingPolicy a(50), b(50);
  for (int i = 0; i < 100; ++i) {
    xray::TraceId id = xray::TraceId::Generate(1'700'000'000);
    const bool first = a.Decide(id);
    EXPECT_EQ(b.Decide(id), first);
    id.bytes[0] ^= 0xff;  // another epoch part: the same random part decides
    EXPECT_EQ(a.Decide(id), first);
  }
}

TEST(IndexingPolicyTest, ALowerPercentageIndexesASubsetOfAHigherOnesTraces) {
  IndexingPolicy low(10), high(60);
  for (int i = 0; i < 2000; ++i) {
    const xray::TraceId id = xray::TraceId::Generate(1'700'000'000);
    if (low.Decide(id)) {
      EXPECT_TRUE(high.Decide(id));
    }
  }
}

TEST(IndexingPolicyTest, PercentagesOutsideTheRangeAreClamped) {
  IndexingPolicy p(150);
  EXPECT_EQ(p.percentage(), 100.0);
  p.SetPercentage(-3);
  EXPECT_EQ(p.percentage(), 0.0);
}

}  // namespace
}  // namespace roentgen::ingest
