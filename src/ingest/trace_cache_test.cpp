#include "ingest/trace_cache.h"

#include <gtest/gtest.h>

namespace roentgen::ingest {
namespace {

xray::TraceId Id(uint8_t n) {
  xray::TraceId id;
  id.bytes[15] = n;
  return id;
}

CachedTrace Cached(uint32_t revision, size_t bytes = 0) {
  CachedTrace trace;
  trace.revision = revision;
  trace.bytes = bytes;
  return trace;
}

TEST(TraceCacheTest, EvictsLeastRecentlyUsedOnlyWhenAsked) {
  TraceCache cache(2, 1 << 20);
  cache.Insert(Id(1), Cached(1));
  cache.Insert(Id(2), Cached(2));
  cache.Insert(Id(3), Cached(3));
  EXPECT_EQ(cache.size(), 3u);            // pointers stay valid until EvictToCapacity
  ASSERT_NE(cache.Find(Id(1)), nullptr);  // 1 becomes most recent; 2 is now oldest
  cache.EvictToCapacity();
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.Find(Id(2)), nullptr);
  ASSERT_NE(cache.Find(Id(1)), nullptr);
  EXPECT_EQ(cache.Find(Id(1))->revision, 1u);
  EXPECT_EQ(cache.Find(Id(3))->revision, 3u);
}

TEST(TraceCacheTest, InsertReplacesAndEraseRemoves) {
  TraceCache cache(4, 1 << 20);
  CachedTrace& first = cache.Insert(Id(1), Cached(1));
  CachedTrace& second = cache.Insert(Id(1), Cached(5));
  EXPECT_EQ(&first, &second);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.Find(Id(1))->revision, 5u);
  cache.Erase(Id(1));
  cache.Erase(Id(9));
  EXPECT_EQ(cache.Find(Id(1)), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(TraceCacheTest, EvictsByEstimatedBytes) {
  TraceCache cache(100, 1000);
  CachedTrace& a = cache.Insert(Id(1), Cached(1, 400));
  cache.Insert(Id(2), Cached(2, 400));
  EXPECT_EQ(cache.bytes(), 800u);
  cache.SetBytes(a, 700);  // trace 1 grew; it is also the least recently used
  EXPECT_EQ(cache.bytes(), 1100u);
  cache.EvictToCapacity();
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.bytes(), 400u);
  EXPECT_EQ(cache.Find(Id(1)), nullptr);
  cache.Erase(Id(2));
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(TraceCacheTest, EstimateCountsTextAndNestedEntities) {
  xray::ReceivedDocument doc;
  doc.doc.raw = std::string(100, 'x');
  doc.doc.entity.subsegments.resize(2);
  doc.doc.entity.subsegments[0].subsegments.resize(1);
  EXPECT_EQ(EstimateBytes(doc), sizeof(xray::ReceivedDocument) + 200 + 3 * sizeof(xray::Entity));
}

}  // namespace
}  // namespace roentgen::ingest
