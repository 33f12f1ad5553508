#include "graph/histogram.h"

#include <gtest/gtest.h>

namespace roentgen::graph {
namespace {

TEST(HistogramTest, Buckets) {
  EXPECT_EQ(HistogramBucket(-5), 0u);
  EXPECT_EQ(HistogramBucket(0), 0u);
  EXPECT_EQ(HistogramBucket(999), 0u);
  EXPECT_EQ(HistogramBucket(1'000), 1u);
  EXPECT_EQ(HistogramBucket(35'400), 35u);
  EXPECT_EQ(HistogramBucket(999'999), 999u);
  EXPECT_EQ(HistogramBucket(1'000'000), 1'000u);
  EXPECT_EQ(HistogramBucket(1'009'999), 1'000u);
  EXPECT_EQ(HistogramBucket(1'010'000), 1'001u);
  EXPECT_EQ(HistogramBucket(9'999'999), 1'899u);
  EXPECT_EQ(HistogramBucket(10'000'000), 1'900u);
  EXPECT_EQ(HistogramBucket(1'000'000'000'000), kHistogramBuckets - 1);
}

TEST(HistogramTest, LowerBounds) {
  EXPECT_EQ(HistogramBucketLowerUs(0), 0);
  EXPECT_EQ(HistogramBucketLowerUs(35), 35'000);
  EXPECT_EQ(HistogramBucketLowerUs(1'001), 1'010'000);
  EXPECT_EQ(HistogramBucketLowerUs(1'900), 10'000'000);
  EXPECT_EQ(HistogramBucketLowerUs(kHistogramBuckets - 1), 99'900'000'000);
  for (uint32_t b = 0; b < kHistogramBuckets; ++b) {
    ASSERT_EQ(HistogramBucket(HistogramBucketLowerUs(b)), b);
  }
}

TEST(HistogramTest, SignedCountsAndRemoval) {
  SparseHistogram h;
  EXPECT_EQ(h.AddDuration(35'000, 1), 1);
  EXPECT_EQ(h.AddDuration(35'900, 1), 0);
  EXPECT_EQ(h.AddDuration(2'000, 1), 1);
  EXPECT_EQ(h.ToEntries(), (std::vector<HistogramEntry>{{0.002, 1}, {0.035, 2}}));
  EXPECT_EQ(h.AddDuration(2'000, -1), -1);
  EXPECT_EQ(h.ToEntries(), (std::vector<HistogramEntry>{{0.035, 2}}));
  EXPECT_EQ(h.TotalCount(), 2);
}

TEST(HistogramTest, Merge) {
  SparseHistogram a, b;
  a.Add(1, 2);
  a.Add(5, 1);
  b.Add(5, 1);
  b.Add(3, 4);
  a.Merge(b);
  EXPECT_EQ(a.entries(), (std::vector<SparseHistogram::Entry>{{1, 2}, {3, 4}, {5, 2}}));
  a.Merge(b, -1);
  EXPECT_EQ(a.entries(), (std::vector<SparseHistogram::Entry>{{1, 2}, {5, 1}}));
}

TEST(HistogramTest, SumMany) {
  SparseHistogram a, b, c;
  a.Add(1, 2);
  a.Add(5499, 1);
  b.Add(5, 1);
  b.Add(1, 4);
  c.Add(5, -1);
  const SparseHistogram sum = SumHistograms({&a, &b, &c});
  EXPECT_EQ(sum.entries(), (std::vector<SparseHistogram::Entry>{{1, 6}, {5499, 1}}));
  // The scratch space is left clean for the next call.
  EXPECT_EQ(SumHistograms({&b, &b}).entries(),
            (std::vector<SparseHistogram::Entry>{{1, 8}, {5, 2}}));
  EXPECT_EQ(SumHistograms({&a}).entries(), a.entries());
  EXPECT_TRUE(SumHistograms({}).empty());
}

// Dense parts (most buckets of their range touched) and sparse ones are
// summed by different passes: both give what pairwise merges give.
TEST(HistogramTest, SumOfDenseAndSparsePartsEqualsMerges) {
  for (int spread : {1, 3, 40}) {
    std::vector<SparseHistogram> parts(7);
    for (size_t p = 0; p < parts.size(); ++p) {
      for (uint32_t i = 0; i < 300; ++i) {
        const uint32_t bucket = (i * spread + static_cast<uint32_t>(p) * 7) % kHistogramBuckets;
        parts[p].Add(bucket, static_cast<int64_t>(p % 3 == 2 ? -1 : 1) * (1 + i % 5));
      }
    }
    SparseHistogram merged;
    std::vector<const SparseHistogram*> pointers;
    for (const SparseHistogram& part : parts) {
      merged.Merge(part);
      pointers.push_back(&part);
    }
    EXPECT_EQ(SumHistograms(pointers).entries(), merged.entries()) << "spread " << spread;
  }
}

}  // namespace
}  // namespace roentgen::graph
