#include "store/block/bloom.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace roentgen::store::block {
namespace {

TEST(BloomTest, NoFalseNegativesAndFalsePositiveRateNearOnePercent) {
  BloomFilterBuilder builder;
  constexpr int kKeys = 20000;
  for (int i = 0; i < kKeys; ++i) builder.Add("key-" + std::to_string(i));
  const std::string bytes = builder.Finish();
  EXPECT_EQ(bytes.size() % kBloomBlockBytes, 0u);
  EXPECT_LE(bytes.size() * 8, kKeys * kBloomBitsPerKey + 256);
  auto filter = BloomFilter::Parse(bytes);
  ASSERT_TRUE(filter.ok());
  for (int i = 0; i < kKeys; ++i) EXPECT_TRUE(filter->MayContain("key-" + std::to_string(i)));
  int false_positives = 0;
  constexpr int kProbes = 200000;
  for (int i = 0; i < kProbes; ++i) false_positives += filter->MayContain("other-" + std::to_string(i));
  const double rate = static_cast<double>(false_positives) / kProbes;
  // A split-block filter at 10 bits a key gives about 1%; 2.5% would mean a
  // broken hash or sizing.
  EXPECT_LT(rate, 0.025) << rate;
  EXPECT_GT(rate, 0.0005) << rate;  // and the filter is not oversized by mistake
}

TEST(BloomTest, SizedByDistinctKeys) {
  // 100 distinct keys added 200 times each: sized for 100, not 20,000.
  BloomFilterBuilder repeated, once;
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 100; ++i) repeated.Add("key-" + std::to_string(i));
  }
  for (int i = 0; i < 100; ++i) once.Add("key-" + std::to_string(i));
  EXPECT_EQ(repeated.key_count(), 20000u);
  const std::string bytes = repeated.Finish();
  EXPECT_EQ(bytes, once.Finish());
  EXPECT_LE(bytes.size() * 8, 100 * kBloomBitsPerKey + 256);
  auto filter = BloomFilter::Parse(bytes);
  ASSERT_TRUE(filter.ok());
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(filter->MayContain("key-" + std::to_string(i)));
}

TEST(BloomTest, KeysSharingARecentSlotAreAllKept) {
  // The builder skips a hash it met lately, remembered by its low bits: two
  // keys with the same low bits, added in turn, each push the other out,
  // and both must still be in the filter.
  std::string first;
  std::string second;
  std::vector<std::string> by_slot(1024);
  for (int i = 0; second.empty(); ++i) {
    std::string key = "key-" + std::to_string(i);
    std::string& slot = by_slot[BloomHash(key) & 1023];
    if (slot.empty()) {
      slot = std::move(key);
    } else {
      first = slot;
      second = std::move(key);
    }
  }
  BloomFilterBuilder alternating;
  for (int round = 0; round < 50; ++round) {
    alternating.Add(first);
    alternating.Add(second);
    alternating.Add(second);
  }
  EXPECT_EQ(alternating.key_count(), 150u);
  BloomFilterBuilder once;
  once.Add(first);
  once.Add(second);
  const std::string bytes = alternating.Finish();
  EXPECT_EQ(bytes, once.Finish());
  auto filter = BloomFilter::Parse(bytes);
  ASSERT_TRUE(filter.ok());
  EXPECT_TRUE(filter->MayContain(first));
  EXPECT_TRUE(filter->MayContain(second));
}

TEST(BloomTest, EmptyFilterContainsNothing) {
  auto filter = BloomFilter::Parse(BloomFilterBuilder().Finish());
  ASSERT_TRUE(filter.ok());
  EXPECT_EQ(filter->block_count(), 1u);
  EXPECT_FALSE(filter->MayContain("anything"));
}

TEST(BloomTest, RejectsPartialBlocks) {
  EXPECT_EQ(BloomFilter::Parse("").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(BloomFilter::Parse(std::string(33, 'x')).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace roentgen::store::block
