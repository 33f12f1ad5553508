// The conformance suite of the Store interface (store/store.h): every engine
// runs the same tests, so the API, the console and the SDKs can rely on the
// contract whatever stores the data. An engine joins by adding itself to
// kEngines; tests of one engine's own internals stay in its own suite
// (rocksdb_store_test.cpp, …).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "store/memory/memory_store.h"
#include "store/rocksdb/rocksdb_store.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace roentgen::store {
namespace {

using testing::Condition;
using testing::kSecond;
using testing::kT0;
using testing::MakeFullRecord;
using testing::MakeRecord;
using testing::MakeTraceId;

struct EngineOptions {
  std::filesystem::path dir;  // the engine's own, empty at first; kept across reopens
  const Clock* clock = nullptr;
  int64_t retention_us = 0;
  int64_t retention_interval_us = 0;
};

struct Engine {
  std::string name;
  bool durable = false;               // a reopen on the same dir keeps everything
  bool background_retention = false;  // deletes by itself what retention_us says
  std::function<Result<std::unique_ptr<Store>>(const EngineOptions&)> open;
};

const Engine kEngines[] = {
    {"RocksDb", true, true,
     [](const EngineOptions& o) -> Result<std::unique_ptr<Store>> {
       RocksDbStoreConfig config;
       config.path = (o.dir / "db").string();
       config.block_cache_bytes = 8 << 20;
       config.sync_writes = false;
       config.clock = o.clock;
       config.retention_us = o.retention_us;
       config.retention_interval_us = o.retention_interval_us;
       return OpenRocksDbStore(config);
     }},
    {"Memory", false, true,
     [](const EngineOptions& o) -> Result<std::unique_ptr<Store>> {
       MemoryStoreConfig config;
       config.clock = o.clock;
       config.retention_us = o.retention_us;
       config.retention_interval_us = o.retention_interval_us;
       return NewMemoryStore(config);
     }},
};

class StoreConformanceTest : public testing::StoreTestBase<::testing::TestWithParam<const Engine*>> {
 protected:
  const Engine& engine() const { return *GetParam(); }

  void Open() override {
    EngineOptions o{dir_, &clock_, retention_us_, retention_interval_us_};
    auto store = engine().open(o);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
};

TEST_P(StoreConformanceTest, DocumentsAreStoredAndReplacedBySameKey) {
  auto trace = MakeTraceId(0x10, 1);
  auto other = MakeTraceId(0x10, 2);
  WriteBatch batch;
  batch.documents = {{trace, xray::SegmentId{1}, 100, "in-progress"},
                     {trace, xray::SegmentId{2}, 101, "second"},
                     {other, xray::SegmentId{1}, 102, "other trace"}};
  ASSERT_TRUE(store_->Write(batch).ok());
  WriteBatch replace;
  replace.documents = {{trace, xray::SegmentId{1}, 200, "complete"}};
  ASSERT_TRUE(store_->Write(replace).ok());

  auto docs = store_->GetDocuments(trace);
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0].entity_id.value, 1u);
  EXPECT_EQ((*docs)[0].received_us, 200);
  EXPECT_EQ((*docs)[0].raw, "complete");
  EXPECT_EQ((*docs)[1].entity_id.value, 2u);
  EXPECT_EQ((*docs)[1].received_us, 101);
  EXPECT_EQ((*docs)[1].raw, "second");
  EXPECT_EQ(store_->GetDocuments(MakeTraceId(0x99))->size(), 0u);
}

TEST_P(StoreConformanceTest, GetTraceRoundTripsAndReportsNotFound) {
  auto trace = MakeTraceId(0x20, 1);
  Put(MakeFullRecord(trace, kT0));
  auto got = store_->GetTrace(trace);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->summary.start_time_us, kT0);
  EXPECT_EQ(got->summary.revision, 4'000'000'000u);
  EXPECT_EQ(got->graph.nodes.size(), 3u);
  EXPECT_EQ(got->graph.edges[1].to, 2u);
  auto missing = store_->GetTrace(MakeTraceId(0x21));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST_P(StoreConformanceTest, ScanOrdersByTimeThenIdInBothDirections) {
  Put(MakeRecord(MakeTraceId(0x30, 1), kT0 + 3));
  Put(MakeRecord(MakeTraceId(0x30, 2), kT0 + 1));
  Put(MakeRecord(MakeTraceId(0x30, 3), kT0 + 2));
  Put(MakeRecord(MakeTraceId(0x30, 4), kT0 + 2));
  Put(MakeRecord(MakeTraceId(0x30, 5), kT0 - 7));  // before the range
  ScanOptions o = Range(kT0, kT0 + 10);
  EXPECT_EQ(ScanTails(o), (std::vector<int>{1, 4, 3, 2}));
  o.descending = false;
  EXPECT_EQ(ScanTails(o), (std::vector<int>{2, 3, 4, 1}));
  EXPECT_EQ(ScanTails(o, 2), (std::vector<int>{2, 3}));  // callback false stops
}

// A scan reads one snapshot: on_snapshot runs once, before the first
// callback, and what is written from then on is not seen.
TEST_P(StoreConformanceTest, ScanSeesItsSnapshotOnly) {
  Put(MakeRecord(MakeTraceId(0x3c, 1), kT0 + 1));
  Put(MakeRecord(MakeTraceId(0x3c, 2), kT0 + 2));
  ScanOptions o = Range(kT0, kT0 + 10);
  o.descending = false;
  int snapshots = 0;
  o.on_snapshot = [&] {
    ++snapshots;
    Put(MakeRecord(MakeTraceId(0x3c, 3), kT0 + 3));  // after the snapshot
    TraceRecord moved = MakeRecord(MakeTraceId(0x3c, 1), kT0 + 4);
    moved.summary.revision = 2;
    Put(moved);
  };
  EXPECT_EQ(ScanTails(o), (std::vector<int>{1, 2}));
  EXPECT_EQ(snapshots, 1);
  o.on_snapshot = nullptr;
  EXPECT_EQ(ScanTails(o), (std::vector<int>{2, 3, 1}));  // the next scan sees them
}

TEST_P(StoreConformanceTest, ScanAcrossFetchBatchesVisitsEveryTraceOnce) {
  // 250 traces: more than the scan's record batches of 8, 16, 32, 64, 128.
  for (int i = 0; i < 250; ++i) Put(MakeRecord(MakeTraceId(0x3a, i), kT0 + i));
  std::vector<int> expected;
  for (int i = 249; i >= 0; --i) expected.push_back(i);
  EXPECT_EQ(ScanTails(Range(kT0, kT0 + 250)), expected);
  expected.resize(137);
  EXPECT_EQ(ScanTails(Range(kT0, kT0 + 250), 137), expected);
}

TEST_P(StoreConformanceTest, ScanWithoutGraphsGivesSummariesAndEmptyGraphs) {
  Put(MakeFullRecord(MakeTraceId(0x3b, 1), kT0));
  ScanOptions o = Range(kT0, kT0 + 1);
  o.decode_graph = false;
  size_t seen = 0;
  Status s = store_->Scan(o, [&](const TraceRecord& r, int64_t time_us) {
    ++seen;
    EXPECT_EQ(r.summary.id, MakeTraceId(0x3b, 1));
    EXPECT_EQ(r.summary.start_time_us, kT0);
    EXPECT_EQ(time_us, kT0);
    EXPECT_TRUE(r.graph.nodes.empty());
    EXPECT_TRUE(r.graph.edges.empty());
    return true;
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(seen, 1u);
  o.decode_graph = true;
  s = store_->Scan(o, [&](const TraceRecord& r, int64_t) {
    EXPECT_EQ(r.graph.nodes.size(), 3u);
    return true;
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
}

TEST_P(StoreConformanceTest, TimeRangeIsHalfOpen) {
  Put(MakeRecord(MakeTraceId(0x31, 1), kT0));
  Put(MakeRecord(MakeTraceId(0x31, 2), kT0 + 10));
  Put(MakeRecord(MakeTraceId(0x31, 3), -5));  // negative times sort before positive
  EXPECT_EQ(ScanTails(Range(kT0, kT0 + 10)), (std::vector<int>{1}));
  EXPECT_EQ(ScanTails(Range(kT0 + 1, kT0 + 11)), (std::vector<int>{2}));
  EXPECT_EQ(ScanTails(Range(kT0 - 1, kT0)), (std::vector<int>{}));
  EXPECT_EQ(ScanTails(Range(kT0, kT0)), (std::vector<int>{}));
  EXPECT_EQ(ScanTails(Range(-10, 1)), (std::vector<int>{3}));
  EXPECT_EQ(ScanTails(Range(INT64_MIN, INT64_MAX)), (std::vector<int>{2, 1, 3}));
}

TEST_P(StoreConformanceTest, EventRangeUsesUpdateTime) {
  TraceRecord a = MakeRecord(MakeTraceId(0x32, 1), kT0);
  a.summary.updated_us = kT0 + 100;
  TraceRecord b = MakeRecord(MakeTraceId(0x32, 2), kT0 + 50);
  b.summary.updated_us = kT0 + 60;
  Put(a);
  Put(b);
  ScanOptions o = Range(kT0 + 55, kT0 + 101);
  o.time_range_type = TimeRangeType::kEvent;
  EXPECT_EQ(ScanTimes(o), (std::vector<int64_t>{kT0 + 100, kT0 + 60}));
  o.time_range_type = TimeRangeType::kService;  // start time
  EXPECT_EQ(ScanTails(o), (std::vector<int>{}));
  o.start_us = kT0;
  EXPECT_EQ(ScanTails(o), (std::vector<int>{2, 1}));
}

TEST_P(StoreConformanceTest, CursorPaginationVisitsEveryTraceOnce) {
  // 57 traces, several sharing a start time, paged 10 at a time both ways.
  for (int i = 0; i < 57; ++i) {
    Put(MakeRecord(MakeTraceId(0x33, static_cast<uint8_t>(i)), kT0 + (i % 19)));
  }
  for (bool descending : {true, false}) {
    std::vector<int> seen;
    std::optional<ScanCursor> cursor;
    int pages = 0;
    for (;;) {
      ScanOptions o = Range(kT0, kT0 + 100);
      o.descending = descending;
      o.resume_after = cursor;
      size_t n = 0;
      ASSERT_TRUE(store_
                      ->Scan(o,
                             [&](const TraceRecord& r, int64_t t) {
                               seen.push_back(r.summary.id.bytes[15]);
                               cursor = ScanCursor{t, r.summary.id};
                               return ++n < 10;
                             })
                      .ok());
      ++pages;
      if (n < 10) break;
    }
    EXPECT_EQ(pages, 6);
    ASSERT_EQ(seen.size(), 57u);
    std::vector<int> sorted = seen;
    std::sort(sorted.begin(), sorted.end());
    for (int i = 0; i < 57; ++i) EXPECT_EQ(sorted[i], i);
    EXPECT_EQ(seen.front(), descending ? 56 : 0);  // kT0+18: 18, 37, 56; kT0: 0, 19, 38
  }
}

TEST_P(StoreConformanceTest, EveryIndexKindFindsItsTraces) {
  auto id = MakeTraceId(0x40, 1);
  Put(MakeFullRecord(id, kT0));  // annotations, services, users, 503, fault, throttle
  Put(MakeRecord(MakeTraceId(0x40, 2), kT0 + 1));
  ScanOptions o = Range(kT0 - 10, kT0 + 10);
  auto find = [&](IndexCondition c) {
    o.index = c;
    return ScanTails(o);
  };
  const std::vector<int> hit{1}, miss{};
  IndexCondition c;
  c.kind = IndexCondition::Kind::kAnnotationEquals;
  c.key = "customer";
  c.value = std::string("gold");
  EXPECT_EQ(find(c), hit);
  c.value = std::string("5");
  EXPECT_EQ(find(c), hit);
  c.value = 5.0;  // the number 5 is not the string "5"
  EXPECT_EQ(find(c), miss);
  c.key = "retries";
  EXPECT_EQ(find(c), hit);
  c.value = -0.25;
  EXPECT_EQ(find(c), hit);
  c.key = "cached";
  c.value = false;
  EXPECT_EQ(find(c), hit);
  c.value = std::string("false");
  EXPECT_EQ(find(c), miss);

  IndexCondition s;
  s.kind = IndexCondition::Kind::kServiceName;
  s.text = "billing";
  EXPECT_EQ(find(s), hit);
  s.text = "orders-alias";
  EXPECT_EQ(find(s), hit);
  s.text = "orders";
  s.type = "AWS::EC2::Instance";
  EXPECT_EQ(find(s), hit);
  // The type is not indexed: the name's entries are returned and the query
  // evaluator re-checks the type (the Store contract allows over-returning).
  s.type = "AWS::Lambda";
  EXPECT_EQ(find(s), hit);
  s.text = "order";
  s.type = "";
  EXPECT_EQ(find(s), miss);

  IndexCondition u;
  u.kind = IndexCondition::Kind::kUser;
  u.text = "bob";
  EXPECT_EQ(find(u), hit);
  u.text = "carol";
  EXPECT_EQ(find(u), miss);

  IndexCondition h;
  h.kind = IndexCondition::Kind::kHttpStatus;
  h.http_status = 503;
  EXPECT_EQ(find(h), hit);
  h.http_status = 500;
  EXPECT_EQ(find(h), miss);

  IndexCondition f;
  f.kind = IndexCondition::Kind::kFault;
  EXPECT_EQ(find(f), hit);
  f.kind = IndexCondition::Kind::kError;
  EXPECT_EQ(find(f), miss);
  f.kind = IndexCondition::Kind::kThrottle;
  EXPECT_EQ(find(f), hit);

  // The index's entries are still limited by the time range.
  f.kind = IndexCondition::Kind::kFault;
  o.start_us = kT0 + 1;
  EXPECT_EQ(find(f), miss);
}

TEST_P(StoreConformanceTest, IndexScanKeepsOrderAndCursor) {
  for (uint8_t i = 1; i <= 5; ++i) {
    TraceRecord r = MakeRecord(MakeTraceId(0x41, i), kT0 + 10 - i);
    r.summary.has_error = i != 3;
    Put(r);
  }
  ScanOptions o = Range(kT0, kT0 + 100);
  o.index = Condition(IndexCondition::Kind::kError);
  EXPECT_EQ(ScanTails(o), (std::vector<int>{1, 2, 4, 5}));
  o.descending = false;
  EXPECT_EQ(ScanTails(o), (std::vector<int>{5, 4, 2, 1}));
  o.resume_after = ScanCursor{kT0 + 6, MakeTraceId(0x41, 4)};
  EXPECT_EQ(ScanTails(o), (std::vector<int>{2, 1}));
  o.descending = true;
  EXPECT_EQ(ScanTails(o), (std::vector<int>{5}));
}

TEST_P(StoreConformanceTest, ChangedRecordDropsStaleIndexEntries) {
  auto id = MakeTraceId(0x50, 1);
  TraceRecord r = MakeRecord(id, kT0);
  r.summary.annotations = {{"stage", {{std::string("old"), {}}}}};
  r.summary.has_fault = true;
  Put(r);
  r.summary.annotations = {{"stage", {{std::string("new"), {}}}}};
  r.summary.has_fault = false;
  r.summary.start_time_us = kT0 - 5;  // an earlier segment arrived
  r.summary.updated_us = kT0 + 1;
  Put(r);

  ScanOptions o = Range(kT0 - 100, kT0 + 100);
  IndexCondition c = Condition(IndexCondition::Kind::kAnnotationEquals);
  c.key = "stage";
  c.value = std::string("old");
  o.index = c;
  EXPECT_EQ(ScanTails(o), (std::vector<int>{}));
  c.value = std::string("new");
  o.index = c;
  EXPECT_EQ(ScanTails(o), (std::vector<int>{1}));
  o.index = Condition(IndexCondition::Kind::kFault);
  EXPECT_EQ(ScanTails(o), (std::vector<int>{}));
  o.index.reset();
  EXPECT_EQ(ScanTimes(o), (std::vector<int64_t>{kT0 - 5}));  // the old time entry is gone
  o.time_range_type = TimeRangeType::kEvent;
  EXPECT_EQ(ScanTimes(o), (std::vector<int64_t>{kT0 + 1}));
}

TEST_P(StoreConformanceTest, SameTraceTwiceInOneBatchKeepsTheLast) {
  auto id = MakeTraceId(0x51, 1);
  WriteBatch batch;
  batch.traces.push_back(MakeRecord(id, kT0));
  batch.traces.push_back(MakeRecord(id, kT0 + 7));
  ASSERT_TRUE(store_->Write(batch).ok());
  EXPECT_EQ(store_->GetTrace(id)->summary.start_time_us, kT0 + 7);
  EXPECT_EQ(ScanTails(Range(kT0, kT0 + 100)), (std::vector<int>{1}));
}

TEST_P(StoreConformanceTest, ConcurrentWritersKeepIndexesConsistent) {
  // Four threads rewrite the same traces; afterwards each trace has exactly the
  // index entries of its final record.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int round = 0; round < 50; ++round) {
        WriteBatch batch;
        for (uint8_t i = 0; i < 8; ++i) {
          TraceRecord r = MakeRecord(MakeTraceId(0x90, i), kT0 + round * 10 + t);
          r.summary.users = {{"u" + std::to_string(t), {}}};
          batch.traces.push_back(r);
        }
        ASSERT_TRUE(store_->Write(batch).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  size_t time_entries = 0, user_entries = 0;
  ASSERT_TRUE(store_
                  ->Scan(Range(INT64_MIN, INT64_MAX),
                         [&](const TraceRecord&, int64_t) {
                           ++time_entries;
                           return true;
                         })
                  .ok());
  for (int t = 0; t < 4; ++t) {
    ScanOptions o = Range(INT64_MIN, INT64_MAX);
    o.index = Condition(IndexCondition::Kind::kUser, "u" + std::to_string(t));
    ASSERT_TRUE(store_
                    ->Scan(o,
                           [&](const TraceRecord& r, int64_t) {
                             EXPECT_EQ(r.summary.users[0].user_name, "u" + std::to_string(t));
                             ++user_entries;
                             return true;
                           })
                    .ok());
  }
  EXPECT_EQ(time_entries, 8u);
  EXPECT_EQ(user_entries, 8u);
}

TEST_P(StoreConformanceTest, RetentionDeletesOldTracesDocumentsAndIndexes) {
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

TEST_P(StoreConformanceTest, RetentionHandlesManyBatches) {
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

TEST_P(StoreConformanceTest, BackgroundRetentionUsesTheClock) {
  if (!engine().background_retention) GTEST_SKIP() << engine().name << " has no background retention";
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

TEST_P(StoreConformanceTest, ReopenKeepsEverything) {
  if (!engine().durable) GTEST_SKIP() << engine().name << " keeps nothing across a reopen";
  auto id = MakeTraceId(0x70, 1);
  WriteBatch batch;
  batch.documents = {{id, xray::SegmentId{9}, 42, "doc"}};
  batch.traces = {MakeFullRecord(id, kT0)};
  ASSERT_TRUE(store_->Write(batch).ok());
  ASSERT_TRUE(store_->PutConfig("groups", "prod", "filter").ok());
  Reopen();
  EXPECT_EQ(store_->GetTrace(id)->summary.segment_count, 12u);
  auto docs = store_->GetDocuments(id);
  ASSERT_EQ(docs->size(), 1u);
  EXPECT_EQ((*docs)[0].raw, "doc");
  EXPECT_EQ(*store_->GetConfig("groups", "prod"), "filter");
  ScanOptions o = Range(kT0, kT0 + 1);
  o.index = Condition(IndexCondition::Kind::kHttpStatus);
  o.index->http_status = 503;
  EXPECT_EQ(ScanTails(o), (std::vector<int>{1}));
  StoreStats stats = store_->Stats();
  EXPECT_EQ(stats.traces, 1u);
  EXPECT_EQ(stats.documents, 1u);
  EXPECT_GT(stats.disk_bytes, 0u);
}

TEST_P(StoreConformanceTest, ConfigIsKeptByNamespaceAndKey) {
  ASSERT_TRUE(store_->PutConfig("groups", "prod", "filter-a").ok());
  ASSERT_TRUE(store_->PutConfig("groups", "dev", "filter-b").ok());
  ASSERT_TRUE(store_->PutConfig("groupsx", "other", "x").ok());  // a namespace sharing a prefix
  ASSERT_TRUE(store_->PutConfig("sampling", "Default", "rule").ok());
  ASSERT_TRUE(store_->PutConfig("groups", "prod", "filter-c").ok());  // replaced
  EXPECT_EQ(*store_->GetConfig("groups", "prod"), "filter-c");
  auto listed = store_->ListConfig("groups");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::sort(listed->begin(), listed->end());
  EXPECT_EQ(*listed, (std::vector<std::pair<std::string, std::string>>{{"dev", "filter-b"},
                                                                       {"prod", "filter-c"}}));
  EXPECT_EQ(store_->GetConfig("groups", "missing").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->DeleteConfig("groups", "dev").ok());
  EXPECT_EQ(store_->DeleteConfig("groups", "dev").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ListConfig("groups")->size(), 1u);
  EXPECT_EQ(store_->ListConfig("nothing")->size(), 0u);
}

TEST_P(StoreConformanceTest, StatsCountTracesAndDocuments) {
  WriteBatch batch;
  for (uint8_t i = 1; i <= 3; ++i) {
    auto id = MakeTraceId(0x72, i);
    batch.documents.push_back({id, xray::SegmentId{i}, 42, "doc"});
    batch.documents.push_back({id, xray::SegmentId{i + 10u}, 43, "doc"});
    batch.traces.push_back(MakeRecord(id, kT0 + i));
  }
  ASSERT_TRUE(store_->Write(batch).ok());
  // Approximate figures (an engine may estimate them): never more than stored.
  StoreStats stats = store_->Stats();
  EXPECT_LE(stats.traces, 3u);
  EXPECT_LE(stats.documents, 6u);
  EXPECT_FALSE(stats.read_only);
  EXPECT_FALSE(stats.disk_full);
}

// Every engine says when a write is durable, exactly once, and only once the
// write is visible. Both engines here are durable on return, so they say it
// before Write returns; an engine that commits in the background will say it
// later, and this test will wait for it.
TEST_P(StoreConformanceTest, AWriteSaysOnceWhenItIsDurable) {
  WriteBatch batch;
  auto id = MakeTraceId(0x73, 1);
  batch.documents.push_back({id, xray::SegmentId{1}, 42, "doc"});
  batch.traces.push_back(MakeRecord(id, kT0));
  int durable = 0;
  bool visible_when_durable = false;
  batch.on_durable = [&] {
    ++durable;
    visible_when_durable = store_->GetTrace(id).ok();
  };
  ASSERT_TRUE(store_->Write(batch).ok());
  EXPECT_TRUE(store_->GetTrace(id).ok()) << "visible when Write returns";
  EXPECT_EQ(durable, 1);
  EXPECT_TRUE(visible_when_durable);
  // An empty batch, and one without a callback, are fine.
  ASSERT_TRUE(store_->Write(WriteBatch{}).ok());
  batch.on_durable = nullptr;
  ASSERT_TRUE(store_->Write(batch).ok());
  EXPECT_EQ(durable, 1);
}

std::string EngineName(const ::testing::TestParamInfo<const Engine*>& info) {
  return info.param->name;
}

INSTANTIATE_TEST_SUITE_P(Engines, StoreConformanceTest,
                         ::testing::Values(&kEngines[0], &kEngines[1]), EngineName);

}  // namespace
}  // namespace roentgen::store
