#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "store/rocksdb_store_test_fixture.h"

namespace roentgen::store {
namespace {

using testing::Condition;
using testing::kSecond;
using testing::kT0;
using testing::MakeFullRecord;
using testing::MakeRecord;
using testing::MakeTraceId;
using testing::RocksDbStoreTest;

TEST_F(RocksDbStoreTest, RetentionDeletesOldTracesDocumentsAndIndexes) {
  auto old_id = MakeTraceId(0x60, 1);
  auto new_id = MakeTraceId(0x60, 2);
  WriteBatch batch;
  batch.documents = {{old_id, xray::SegmentId{1}, kT0, "old"},
                     {new_id, xray::SegmentId{1}, kT0, "new"}};
  TraceRecord old_record = MakeFullRecord(old_id, kT0 - 100);
  old_record.summary.updated_us = kT0 + 5;  // updated recently, still started long ago
  batch.traces = {old_record, MakeFullRecord(new_id, kT0)};
  ASSERT_TRUE(store_->Write(batch).ok());

  ASSERT_TRUE(store_->DeleteOlderThan(kT0).ok());
  EXPECT_EQ(store_->GetTrace(old_id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetDocuments(old_id)->size(), 0u);
  EXPECT_TRUE(store_->GetTrace(new_id).ok());
  EXPECT_EQ(store_->GetDocuments(new_id)->size(), 1u);

  ScanOptions o = Range(INT64_MIN, INT64_MAX);
  EXPECT_EQ(ScanTails(o), (std::vector<int>{2}));
  o.time_range_type = TimeRangeType::kEvent;
  EXPECT_EQ(ScanTails(o), (std::vector<int>{2}));
  o.time_range_type = TimeRangeType::kTraceId;
  o.index = Condition(IndexCondition::Kind::kUser, "alice");
  EXPECT_EQ(ScanTails(o), (std::vector<int>{2}));
}

TEST_F(RocksDbStoreTest, RetentionHandlesManyBatches) {
  WriteBatch batch;
  for (int i = 0; i < 2500; ++i) {
    TraceRecord r =
        MakeRecord(MakeTraceId(static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)), kT0 + i);
    batch.traces.push_back(r);
  }
  ASSERT_TRUE(store_->Write(batch).ok());
  ASSERT_TRUE(store_->DeleteOlderThan(kT0 + 2400).ok());
  size_t left = 0;
  ASSERT_TRUE(store_
                  ->Scan(Range(INT64_MIN, INT64_MAX),
                         [&](const TraceRecord& r, int64_t) {
                           EXPECT_GE(r.summary.start_time_us, kT0 + 2400);
                           ++left;
                           return true;
                         })
                  .ok());
  EXPECT_EQ(left, 100u);
}

TEST_F(RocksDbStoreTest, BackgroundRetentionUsesTheClock) {
  retention_us_ = 60 * kSecond;
  retention_interval_us_ = 20'000;  // 20 ms
  Reopen();
  Put(MakeRecord(MakeTraceId(0x61, 1), kT0 - 30 * kSecond));
  Put(MakeRecord(MakeTraceId(0x61, 2), kT0));
  clock_.Advance(45 * kSecond);  // cutoff = kT0 - 15 s: only trace 1 is too old
  for (int i = 0; i < 500 && store_->GetTrace(MakeTraceId(0x61, 1)).ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(store_->GetTrace(MakeTraceId(0x61, 1)).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetTrace(MakeTraceId(0x61, 2)).ok());
}

}  // namespace
}  // namespace roentgen::store
