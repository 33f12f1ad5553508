#include "insights/fault_rate_model.h"

#include <gtest/gtest.h>

#include <cmath>

namespace roentgen::insights {
namespace {

TEST(BinomialUpperTail, MatchesClosedForms) {
  EXPECT_DOUBLE_EQ(BinomialUpperTail(0, 10, 0.3), 1.0);
  EXPECT_DOUBLE_EQ(BinomialUpperTail(11, 10, 0.3), 0.0);
  EXPECT_NEAR(BinomialUpperTail(10, 10, 0.5), std::pow(0.5, 10), 1e-15);
  // P(X ≥ 1) = 1 − (1 − p)^n
  EXPECT_NEAR(BinomialUpperTail(1, 20, 0.1), 1 - std::pow(0.9, 20), 1e-12);
  // Below the mean (complement path): P(X ≥ 2 | 4, 0.5) = 11/16.
  EXPECT_NEAR(BinomialUpperTail(2, 4, 0.5), 11.0 / 16, 1e-12);
  // Large n stays finite and tiny far in the tail.
  const double tail = BinomialUpperTail(400, 1000, 0.01);
  EXPECT_GE(tail, 0.0);
  EXPECT_LT(tail, 1e-100);
}

TEST(TestFaultRate, NeedsABaselineACountAnExcessAndSignificance) {
  const FaultRateSample baseline{60, 6000};  // 1%
  EXPECT_TRUE(TestFaultRate(baseline, {200, 500}).opens);
  // A handful of faults is not enough, however unlikely.
  EXPECT_FALSE(TestFaultRate(baseline, {4, 4}).opens);
  // Significant but small: 2.5% against 1% over many requests.
  const FaultRateVerdict small = TestFaultRate(baseline, {250, 10000});
  EXPECT_LT(small.p_value, 1e-4);
  EXPECT_FALSE(small.opens);
  // No baseline yet.
  EXPECT_FALSE(TestFaultRate({0, 10}, {50, 100}).opens);
  // At the baseline rate.
  EXPECT_FALSE(TestFaultRate(baseline, {5, 500}).opens);
  EXPECT_FALSE(TestFaultRate(baseline, {5, 500}).continues);
  // The looser continuation test holds where opening does not.
  const FaultRateVerdict mid = TestFaultRate(baseline, {20, 400});  // 5% against 1%
  EXPECT_FALSE(mid.opens);
  EXPECT_TRUE(mid.continues);
}

}  // namespace
}  // namespace roentgen::insights
