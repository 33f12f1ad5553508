#include "common/small_distinct_set.h"

#include <gtest/gtest.h>

#include <vector>

namespace roentgen {
namespace {

std::vector<int> Values(const SmallDistinctSet<int, 2>& set) { return {set.begin(), set.end()}; }

TEST(SmallDistinctSetTest, KeepsDistinctValuesInInsertionOrderPastItsPlaces) {
  SmallDistinctSet<int, 2> set;
  EXPECT_TRUE(set.empty());
  set.insert(7);
  set.insert(3);
  set.insert(7);
  EXPECT_EQ(Values(set), (std::vector<int>{7, 3}));
  set.insert(9);  // past the two in place
  set.insert(3);
  set.insert(1);
  EXPECT_EQ(Values(set), (std::vector<int>{7, 3, 9, 1}));
  EXPECT_EQ(set.size(), 4u);
  EXPECT_TRUE(set.contains(9));
  EXPECT_TRUE(set.contains(7));
  EXPECT_FALSE(set.contains(2));
}

}  // namespace
}  // namespace roentgen
