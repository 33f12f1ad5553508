#include "store/rocksdb_store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <thread>

#include "store/rocksdb_options.h"
#include "store/rocksdb_store_test_fixture.h"
#include "store/store_keys.h"
#include "store/store_metrics.h"

namespace roentgen::store {
namespace {

using testing::Condition;
using testing::kSecond;
using testing::kT0;
using testing::MakeFullRecord;
using testing::MakeRecord;
using testing::MakeTraceId;
using testing::RocksDbStoreTest;

TEST_F(RocksDbStoreTest, DocumentsAreStoredAndReplacedBySameKey) {
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

TEST_F(RocksDbStoreTest, GetTraceRoundTripsAndReportsNotFound) {
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

TEST_F(RocksDbStoreTest, ScanOrdersByTimeThenIdInBothDirections) {
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
TEST_F(RocksDbStoreTest, ScanSeesItsSnapshotOnly) {
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

TEST_F(RocksDbStoreTest, ScanAcrossFetchBatchesVisitsEveryTraceOnce) {
  // 250 traces: more than the scan's record batches of 8, 16, 32, 64, 128.
  for (int i = 0; i < 250; ++i) Put(MakeRecord(MakeTraceId(0x3a, i), kT0 + i));
  std::vector<int> expected;
  for (int i = 249; i >= 0; --i) expected.push_back(i);
  EXPECT_EQ(ScanTails(Range(kT0, kT0 + 250)), expected);
  expected.resize(137);
  EXPECT_EQ(ScanTails(Range(kT0, kT0 + 250), 137), expected);
}

TEST_F(RocksDbStoreTest, ScanWithoutGraphsGivesSummariesAndEmptyGraphs) {
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

TEST_F(RocksDbStoreTest, TimeRangeIsHalfOpen) {
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

TEST_F(RocksDbStoreTest, EventRangeUsesUpdateTime) {
  TraceRecord a = MakeRecord(MakeTraceId(0x32, 1), kT0);
  a.summary.updated_us = kT0 + 100;
  TraceRecord b = MakeRecord(MakeTraceId(0x32, 2), kT0 + 50);
  b.summary.updated_us = kT0 + 60;
  Put(a);
  Put(b);
  ScanOptions o = Range(kT0 + 55, kT0 + 101);
  o.time_range_type = TimeRangeType::kEvent;
  std::vector<int64_t> times;
  ASSERT_TRUE(store_
                  ->Scan(o,
                         [&](const TraceRecord&, int64_t t) {
                           times.push_back(t);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(times, (std::vector<int64_t>{kT0 + 100, kT0 + 60}));
  o.time_range_type = TimeRangeType::kService;  // start time
  EXPECT_EQ(ScanTails(o), (std::vector<int>{}));
  o.start_us = kT0;
  EXPECT_EQ(ScanTails(o), (std::vector<int>{2, 1}));
}

TEST_F(RocksDbStoreTest, CursorPaginationVisitsEveryTraceOnce) {
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

TEST_F(RocksDbStoreTest, EveryIndexKindFindsItsTraces) {
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

TEST_F(RocksDbStoreTest, IndexScanKeepsOrderAndCursor) {
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

TEST_F(RocksDbStoreTest, ChangedRecordDropsStaleIndexEntries) {
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
  std::vector<int64_t> times;
  ASSERT_TRUE(store_
                  ->Scan(o,
                         [&](const TraceRecord&, int64_t t) {
                           times.push_back(t);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(times, (std::vector<int64_t>{kT0 - 5}));  // the old time entry is gone
  o.time_range_type = TimeRangeType::kEvent;
  times.clear();
  ASSERT_TRUE(store_
                  ->Scan(o,
                         [&](const TraceRecord&, int64_t t) {
                           times.push_back(t);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(times, (std::vector<int64_t>{kT0 + 1}));
}

TEST_F(RocksDbStoreTest, SameTraceTwiceInOneBatchKeepsTheLast) {
  auto id = MakeTraceId(0x51, 1);
  WriteBatch batch;
  batch.traces.push_back(MakeRecord(id, kT0));
  batch.traces.push_back(MakeRecord(id, kT0 + 7));
  ASSERT_TRUE(store_->Write(batch).ok());
  EXPECT_EQ(store_->GetTrace(id)->summary.start_time_us, kT0 + 7);
  EXPECT_EQ(ScanTails(Range(kT0, kT0 + 100)), (std::vector<int>{1}));
}

TEST_F(RocksDbStoreTest, ReopenKeepsEverything) {
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

TEST_F(RocksDbStoreTest, StatsShowMemoryDiskAndCountsInMetrics) {
  MetricsRegistry registry;
  StoreMetrics metrics(*store_, registry);
  metrics.Refresh();
  EXPECT_NE(registry.RenderText().find("roentgen_store_traces 0\n"), std::string::npos);

  WriteBatch batch;
  for (int i = 1; i <= 3; ++i) {
    auto id = MakeTraceId(0x71, i);
    batch.documents.push_back({id, xray::SegmentId{static_cast<uint64_t>(i)}, 42, "doc"});
    batch.traces.push_back(MakeFullRecord(id, kT0 + i));
  }
  ASSERT_TRUE(store_->Write(batch).ok());
  StoreStats unflushed = store_->Stats();
  EXPECT_GT(unflushed.memtable_bytes, 0u);  // nothing flushed yet
  EXPECT_GT(unflushed.disk_bytes, 0u);      // the write-ahead log
  EXPECT_FALSE(unflushed.writes_stalled);

  Reopen();  // the log is replayed and flushed into table files
  ASSERT_TRUE(store_->GetTrace(MakeTraceId(0x71, 2)).ok());
  StoreStats flushed = store_->Stats();
  EXPECT_EQ(flushed.traces, 3u);
  EXPECT_EQ(flushed.documents, 3u);
  EXPECT_GT(flushed.block_cache_bytes, 0u);  // the blocks just read
  EXPECT_EQ(flushed.running_compactions + flushed.pending_compaction_bytes, 0u);

  StoreMetrics reopened(*store_, registry);
  reopened.Refresh();
  const std::string text = registry.RenderText();
  EXPECT_NE(text.find("roentgen_store_traces 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("roentgen_store_documents 3\n"), std::string::npos);
  EXPECT_NE(text.find(fmt::format("roentgen_store_disk_bytes {}\n", flushed.disk_bytes)),
            std::string::npos);
  EXPECT_NE(text.find("roentgen_store_writes_stalled 0\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE roentgen_store_block_cache_bytes gauge"), std::string::npos);
}

// Opens the store's database directly, with the store's own options and column
// families, to plant or inspect bytes the Store interface would not write.
// `body` gets the database and a column family's handle by rocks::Cf.
void WithRawDb(
    const std::filesystem::path& path,
    const std::function<void(rocksdb::DB&, std::function<rocksdb::ColumnFamilyHandle*(rocks::Cf)>)>&
        body) {
  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  auto cache = rocksdb::NewLRUCache(1 << 20);
  ASSERT_TRUE(rocksdb::DB::Open(rocks::MakeDbOptions(), path.string(),
                                rocks::MakeColumnFamilies(cache), &handles, &raw)
                  .ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  body(*db, [&](rocks::Cf cf) { return handles[1 + cf]; });
  for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
}

TEST_F(RocksDbStoreTest, GarbageRecordIsCorruption) {
  auto id = MakeTraceId(0x80, 1);
  Put(MakeRecord(id, kT0));
  store_.reset();
  // Overwrite the stored record with bytes that do not decode.
  WithRawDb(dir_ / "db", [&](rocksdb::DB& db, auto cf) {
    ASSERT_TRUE(
        db.Put(rocksdb::WriteOptions(), cf(rocks::kTraces), keys::TraceKey(id), "\x01garbage")
            .ok());
  });
  Open();
  EXPECT_EQ(store_->GetTrace(id).status().code(), StatusCode::kCorruption);
  Status s = store_->Scan(Range(kT0, kT0 + 1), [](const TraceRecord&, int64_t) { return true; });
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  // Writing a good record over it repairs the trace.
  Put(MakeRecord(id, kT0));
  EXPECT_TRUE(store_->GetTrace(id).ok());
}

TEST_F(RocksDbStoreTest, RetiredServiceTypeEntriesAreRemovedAtOpen) {
  auto id = MakeTraceId(0x81, 1);
  Put(MakeFullRecord(id, kT0));
  store_.reset();
  // A store written before service+type entries (kind 0x03) were retired.
  // kind 03 · varstr "api" · varstr "T" · time + trace id.
  const std::string legacy =
      std::string{'\x03', '\x03', 'a', 'p', 'i', '\x01', 'T'} + keys::TimeKey(kT0, id);
  WithRawDb(dir_ / "db", [&](rocksdb::DB& db, auto cf) {
    ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), cf(rocks::kSecondaryIndex), legacy, "").ok());
  });
  Open();
  // Everything else is intact.
  EXPECT_TRUE(store_->GetTrace(id).ok());
  EXPECT_EQ(ScanTails(Range(kT0, kT0 + 1)), (std::vector<int>{1}));
  store_.reset();
  WithRawDb(dir_ / "db", [&](rocksdb::DB& db, auto cf) {
    rocksdb::ColumnFamilyHandle* index = cf(rocks::kSecondaryIndex);
    std::string value;
    EXPECT_TRUE(db.Get(rocksdb::ReadOptions(), index, legacy, &value).IsNotFound());
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), index));
    size_t kept = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      EXPECT_NE(it->key()[0], '\x03');
      ++kept;
    }
    EXPECT_GT(kept, 0u);  // the full record's own service, user, … entries
  });
  Open();
}

TEST_F(RocksDbStoreTest, ConcurrentWritersKeepIndexesConsistent) {
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

}  // namespace
}  // namespace roentgen::store
