// The conformance suite of the Store interface (store/store.h): every engine
// runs the same tests, so the API, the console and the SDKs can rely on the
// contract whatever stores the data. An engine joins by adding itself to
// kEngines; tests of one engine's own internals stay in its own suite
// (rocksdb_store_test.cpp, …).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "store/block/block_store.h"
#include "store/clickhouse/clickhouse_store.h"
#include "store/clickhouse/testing/clickhouse_test_server.h"
#include "store/memory/memory_store.h"
#include "store/rocksdb/rocksdb_store.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace roentgen::store {
namespace {

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
  // For an engine that makes writes durable in the background: makes every
  // write so now (null: durable when Write returns).
  std::function<Status(Store&)> make_durable;
};

// The block engine with every write cut into a block before Write returns,
// so that reads meet blocks (and late writes supersede block rows) instead
// of the heads; with `compact`, a compaction round follows each cut.
class FlushingBlockStore final : public Store {
 public:
  FlushingBlockStore(std::unique_ptr<block::BlockStore> inner, bool compact)
      : inner_(std::move(inner)), compact_(compact) {}
  Status Write(WriteBatch batch) override {
    RG_RETURN_IF_ERROR(inner_->Write(std::move(batch)));
    RG_RETURN_IF_ERROR(inner_->Flush());
    if (!compact_) return Status::Ok();
    return inner_->Compact().status();
  }
  Result<std::vector<StoredDocument>> GetDocuments(const xray::TraceId& id) override {
    return inner_->GetDocuments(id);
  }
  Result<TraceRecord> GetTrace(const xray::TraceId& id) override { return inner_->GetTrace(id); }
  Result<ScanProgress> Scan(const ScanOptions& options, const ScanCallback& callback) override {
    return inner_->Scan(options, callback);
  }
  Status PutConfig(std::string_view ns, std::string_view key, std::string_view value) override {
    return inner_->PutConfig(ns, key, value);
  }
  Result<std::string> GetConfig(std::string_view ns, std::string_view key) override {
    return inner_->GetConfig(ns, key);
  }
  Status DeleteConfig(std::string_view ns, std::string_view key) override {
    return inner_->DeleteConfig(ns, key);
  }
  Result<std::vector<std::pair<std::string, std::string>>> ListConfig(
      std::string_view ns) override {
    return inner_->ListConfig(ns);
  }
  Status DeleteOlderThan(int64_t cutoff_us) override { return inner_->DeleteOlderThan(cutoff_us); }
  StoreStats Stats() override { return inner_->Stats(); }
  Status Checkpoint(const std::string& dir) override { return inner_->Checkpoint(dir); }

 private:
  std::unique_ptr<block::BlockStore> inner_;
  const bool compact_;
};

Result<std::unique_ptr<block::BlockStore>> OpenBlockStore(const EngineOptions& o,
                                                          bool compact_in_pairs = false) {
  block::BlockStoreOptions options;
  options.clock = o.clock;  // a fake clock that stands still: nothing is due by time
  options.cut_interval_us = 20'000;
  options.retention_us = o.retention_us;
  options.retention_interval_us = o.retention_interval_us;
  if (compact_in_pairs) {
    options.compaction = false;  // the rounds FlushingBlockStore runs
    options.compaction_fanin = 2;
  }
  return block::BlockStore::Open((o.dir / "block").string(), options);
}

Status FlushBlockStore(Store& store) { return static_cast<block::BlockStore&>(store).Flush(); }

// A database of the shared test server per engine directory: the first open
// of a directory (empty at first) makes a new database and writes its name
// there, so a reopen finds the same data and no two tests share any.
Result<std::unique_ptr<Store>> OpenClickHouseEngine(const EngineOptions& o) {
  Result<clickhouse::testing::ClickHouseTestServer*> server =
      clickhouse::testing::SharedClickHouseTestServer();
  if (!server.ok()) return server.status();
  const std::filesystem::path name_file = o.dir / "clickhouse-database";
  std::string database;
  if (std::ifstream in(name_file); in) {
    std::getline(in, database);
  } else {
    Result<std::string> created = clickhouse::testing::NewTestDatabase();
    if (!created.ok()) return created.status();
    database = *created;
    std::ofstream(name_file) << database << "\n";
  }
  clickhouse::ClickHouseStoreOptions options;
  options.url = (*server)->Url(database);
  options.clock = o.clock;
  options.retention_us = o.retention_us;
  options.retention_interval_us = o.retention_interval_us;
  return clickhouse::OpenClickHouseStore(options);
}

// The sharded layout: a database of the test binary's two-server cluster
// per engine directory (its name kept there as above), the store over
// Distributed tables.
Result<std::unique_ptr<Store>> OpenClickHouseShardedEngine(const EngineOptions& o) {
  Result<std::vector<clickhouse::testing::ClickHouseTestServer*>> servers =
      clickhouse::testing::SharedClickHouseTestCluster();
  if (!servers.ok()) return servers.status();
  const std::filesystem::path name_file = o.dir / "clickhouse-database";
  std::string database;
  if (std::ifstream in(name_file); in) {
    std::getline(in, database);
  } else {
    database = clickhouse::testing::NewTestDatabaseName();
    std::ofstream(name_file) << database << "\n";
  }
  clickhouse::ClickHouseStoreOptions options;
  options.url = clickhouse::testing::ClusterUrl(*servers, database);
  options.clock = o.clock;
  options.retention_us = o.retention_us;
  options.retention_interval_us = o.retention_interval_us;
  return clickhouse::OpenClickHouseStore(options);
}

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
     },
     nullptr},
    {"Memory", false, true,
     [](const EngineOptions& o) -> Result<std::unique_ptr<Store>> {
       MemoryStoreConfig config;
       config.clock = o.clock;
       config.retention_us = o.retention_us;
       config.retention_interval_us = o.retention_interval_us;
       return NewMemoryStore(config);
     },
     nullptr},
    // Writes stay in the heads until the store closes (or a test makes them
    // durable); reads meet the heads.
    {"BlockHead", true, true,
     [](const EngineOptions& o) -> Result<std::unique_ptr<Store>> {
       Result<std::unique_ptr<block::BlockStore>> store = OpenBlockStore(o);
       if (!store.ok()) return store.status();
       return std::unique_ptr<Store>(std::move(*store));
     },
     FlushBlockStore},
    // Every write cut into a block at once; reads meet the blocks.
    {"BlockFlushed", true, true,
     [](const EngineOptions& o) -> Result<std::unique_ptr<Store>> {
       Result<std::unique_ptr<block::BlockStore>> store = OpenBlockStore(o);
       if (!store.ok()) return store.status();
       return std::unique_ptr<Store>(
           std::make_unique<FlushingBlockStore>(std::move(*store), false));
     },
     nullptr},
    // Every write cut, then a compaction round merging blocks two at a time:
    // reads meet compaction outputs of every level.
    {"BlockCompacted", true, true,
     [](const EngineOptions& o) -> Result<std::unique_ptr<Store>> {
       Result<std::unique_ptr<block::BlockStore>> store = OpenBlockStore(o, true);
       if (!store.ok()) return store.status();
       return std::unique_ptr<Store>(
           std::make_unique<FlushingBlockStore>(std::move(*store), true));
     },
     nullptr},
    // The scale-out engine on a clickhouse-server of the test binary's own.
    // On the test binary's own clickhouse-server (a missing server fails
    // the tests, naming scripts/install-deps.sh --with-tests).
    {"ClickHouse", true, true, OpenClickHouseEngine, nullptr},
    // The same over two servers, each a shard (docs/storage.md, "Sharded
    // deployment").
    {"ClickHouseSharded", true, true, OpenClickHouseShardedEngine, nullptr},
};

class StoreConformanceTest
    : public testing::StoreTestBase<::testing::TestWithParam<const Engine*>> {
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
  batch.traces = {MakeRecord(trace, kT0), MakeRecord(other, kT0)};
  ASSERT_TRUE(store_->Write(batch).ok());
  // A document of a stored trace may come without the record, which stays.
  WriteBatch replace;
  replace.documents = {{trace, xray::SegmentId{1}, 200, "complete"}};
  ASSERT_TRUE(store_->Write(replace).ok());
  EXPECT_EQ(store_->GetTrace(trace)->summary.start_time_us, kT0);

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

TEST_P(StoreConformanceTest, ScanReturnsGraphsWhenAskedAndFiltersOnThemAlways) {
  Put(MakeFullRecord(MakeTraceId(0x3b, 1), kT0));
  ScanOptions o = Range(kT0, kT0 + 1);
  o.return_graph = false;
  size_t seen = 0;
  auto s = store_->Scan(o, [&](const TraceRecord& r, int64_t time_us) {
    ++seen;
    EXPECT_EQ(r.summary.id, MakeTraceId(0x3b, 1));
    EXPECT_EQ(r.summary.start_time_us, kT0);
    EXPECT_EQ(r.summary.segment_count, 12u);
    EXPECT_EQ(time_us, kT0);
    return true;
  });
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(seen, 1u);
  // A filter that reads the graph decides on it even when the caller does not
  // want it: orders has faults and calls the Orders table; there is no
  // "payments" node.
  o.filter = testing::Filter(R"(service("orders") { fault })");
  EXPECT_EQ(ScanTails(o), (std::vector<int>{1}));
  o.filter = testing::Filter(R"(edge("orders", "Orders"))");
  EXPECT_EQ(ScanTails(o), (std::vector<int>{1}));
  o.filter = testing::Filter(R"(service("payments"))");
  EXPECT_EQ(ScanTails(o), (std::vector<int>{}));
  o.filter = nullptr;
  o.return_graph = true;
  seen = 0;
  s = store_->Scan(o, [&](const TraceRecord& r, int64_t) {
    ++seen;
    EXPECT_EQ(r.graph.nodes.size(), 3u);
    EXPECT_EQ(r.graph.edges.size(), 2u);
    return true;
  });
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(seen, 1u);
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

// Conditions an engine may answer from an index, and the exact answer when the
// index holds more (a service the summary lists but the graph lacks, a
// service of another type).
TEST_P(StoreConformanceTest, FilterOnIndexableFieldsFindsExactlyItsTraces) {
  Put(MakeFullRecord(MakeTraceId(0x40, 1), kT0));  // annotations, services, users, 503, fault
  Put(MakeRecord(MakeTraceId(0x40, 2), kT0 + 1));
  ScanOptions o = Range(kT0 - 10, kT0 + 10);
  auto find = [&](std::string_view expr) {
    o.filter = testing::Filter(expr);
    return ScanTails(o);
  };
  const std::vector<int> hit{1}, miss{}, other{2};
  EXPECT_EQ(find(R"(annotation.customer = "gold")"), hit);
  EXPECT_EQ(find(R"(annotation.customer = "5")"), hit);
  EXPECT_EQ(find("annotation.customer = 5"), miss);  // the number 5 is not the string "5"
  EXPECT_EQ(find("annotation.retries = 5"), hit);
  EXPECT_EQ(find("annotation.retries = -0.25"), hit);
  EXPECT_EQ(find("annotation.cached = false"), hit);
  EXPECT_EQ(find(R"(annotation.cached = "false")"), miss);

  EXPECT_EQ(find(R"(service("orders"))"), hit);
  EXPECT_EQ(find(R"(service("orders-alias"))"), hit);
  EXPECT_EQ(find(R"(service(id(name: "orders", type: "AWS::EC2::Instance")))"), hit);
  EXPECT_EQ(find(R"(service(id(name: "orders", type: "AWS::Lambda::Function")))"), miss);
  EXPECT_EQ(find(R"(service("order"))"), miss);
  // In the summary's services, not a node of the trace graph.
  EXPECT_EQ(find(R"(service("billing"))"), miss);

  EXPECT_EQ(find(R"(user = "bob")"), hit);
  EXPECT_EQ(find(R"(user = "carol")"), miss);
  EXPECT_EQ(find("http.status = 503"), hit);
  EXPECT_EQ(find("http.status = 500"), miss);
  EXPECT_EQ(find("fault"), hit);
  EXPECT_EQ(find("error"), miss);
  EXPECT_EQ(find("throttle"), hit);
  EXPECT_EQ(find("!fault"), other);
  EXPECT_EQ(find(R"(annotation.customer = "gold" AND error)"), miss);
  EXPECT_EQ(find(R"(annotation.customer = "gold" OR user = "nobody")"), hit);
  EXPECT_EQ(find(""), (std::vector<int>{2, 1}));  // matches everything

  // Still limited by the time range.
  o.start_us = kT0 + 1;
  EXPECT_EQ(find("fault"), miss);
}

TEST_P(StoreConformanceTest, FilteredScanKeepsOrderAndCursor) {
  for (uint8_t i = 1; i <= 5; ++i) {
    TraceRecord r = MakeRecord(MakeTraceId(0x41, i), kT0 + 10 - i);
    r.summary.has_error = i != 3;
    Put(r);
  }
  ScanOptions o = Range(kT0, kT0 + 100);
  o.filter = testing::Filter("error");
  EXPECT_EQ(ScanTails(o), (std::vector<int>{1, 2, 4, 5}));
  o.descending = false;
  EXPECT_EQ(ScanTails(o), (std::vector<int>{5, 4, 2, 1}));
  o.resume_after = ScanCursor{kT0 + 6, MakeTraceId(0x41, 4)};
  EXPECT_EQ(ScanTails(o), (std::vector<int>{2, 1}));
  o.descending = true;
  EXPECT_EQ(ScanTails(o), (std::vector<int>{5}));
  // A cursor at a trace the filter does not match works the same.
  o.resume_after = ScanCursor{kT0 + 7, MakeTraceId(0x41, 3)};
  EXPECT_EQ(ScanTails(o), (std::vector<int>{4, 5}));
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
  o.filter = testing::Filter(R"(annotation.stage = "old")");
  EXPECT_EQ(ScanTails(o), (std::vector<int>{}));
  o.filter = testing::Filter(R"(annotation.stage = "new")");
  EXPECT_EQ(ScanTails(o), (std::vector<int>{1}));
  o.filter = testing::Filter("fault");
  EXPECT_EQ(ScanTails(o), (std::vector<int>{}));
  o.filter = nullptr;
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
    o.filter = testing::Filter("user = \"u" + std::to_string(t) + "\"");
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
  o.filter = testing::Filter(R"(user = "alice")");
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
  if (!engine().background_retention)
    GTEST_SKIP() << engine().name << " has no background retention";
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
  o.filter = testing::Filter("http.status = 503");
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
// write is visible. RocksDB and memory are durable on return, so they say it
// before Write returns; the block engine says it when a block holding the
// write commits, which the test brings about with make_durable.
TEST_P(StoreConformanceTest, AWriteSaysOnceWhenItIsDurable) {
  WriteBatch batch;
  auto id = MakeTraceId(0x73, 1);
  batch.documents.push_back({id, xray::SegmentId{1}, 42, "doc"});
  batch.traces.push_back(MakeRecord(id, kT0));
  std::atomic<int> durable{0};
  std::atomic<bool> visible_when_durable{false};
  batch.on_durable = [&] {
    ++durable;
    visible_when_durable = store_->GetTrace(id).ok();
  };
  ASSERT_TRUE(store_->Write(batch).ok());
  EXPECT_TRUE(store_->GetTrace(id).ok()) << "visible when Write returns";
  if (engine().make_durable) {
    EXPECT_EQ(durable, 0) << "not durable before its block commits";
    ASSERT_TRUE(engine().make_durable(*store_).ok());
  }
  EXPECT_EQ(durable, 1);
  EXPECT_TRUE(visible_when_durable);
  // An empty batch, and one without a callback, are fine.
  ASSERT_TRUE(store_->Write(WriteBatch{}).ok());
  batch.on_durable = nullptr;
  ASSERT_TRUE(store_->Write(batch).ok());
  if (engine().make_durable) {
    ASSERT_TRUE(engine().make_durable(*store_).ok());
  }
  EXPECT_EQ(durable, 1);
}

// A varied set of traces for filtered scans: annotations, users, statuses,
// flags, response times, services in the summary and the graph, some left
// unsearchable by the indexing rule, several sharing a start time.
std::vector<TraceRecord> FilterDataset() {
  std::vector<TraceRecord> records;
  for (int i = 0; i < 60; ++i) {
    TraceRecord r = MakeRecord(MakeTraceId(0xa0, static_cast<uint8_t>(i)), kT0 + (i % 13));
    xray::TraceSummary& s = r.summary;
    s.updated_us = kT0 + 100 + (59 - i) % 17;
    if (i % 3 == 0) s.annotations.push_back({"tier", {{std::string("gold"), {}}}});
    if (i % 3 == 1) s.annotations.push_back({"tier", {{std::string("silver"), {}}}});
    s.annotations.push_back({"n", {{static_cast<double>(i % 5), {}}}});
    s.users = {{"u" + std::to_string(i % 4), {}}};
    s.http.status = i % 3 == 0 ? 200 : i % 3 == 1 ? 500 : 429;
    s.has_fault = i % 4 == 0;
    s.has_error = i % 5 == 0;
    s.has_throttle = i % 7 == 0;
    s.response_time_us = int64_t{i} * 100'000;
    s.indexed = i % 6 != 5;
    s.service_ids = {testing::MakeService("api", "AWS::EC2::Instance")};
    graph::Node api;
    api.id = testing::MakeService("api", "AWS::EC2::Instance");
    api.root = true;
    graph::Observation o;
    o.start_us = s.start_time_us;
    o.fault = s.has_fault;
    o.error = s.has_error;
    api.observations = {o};
    r.graph.nodes = {api};
    if (i % 2 == 0) {
      s.service_ids.push_back(testing::MakeService("db", "AWS::DynamoDB::Table"));
      graph::Node db;
      db.id = testing::MakeService("db", "AWS::DynamoDB::Table");
      db.inferred = true;
      graph::Observation d;
      d.start_us = s.start_time_us;
      d.throttle = i % 4 == 2;
      db.observations = {d};
      r.graph.nodes.push_back(db);
      r.graph.edges = {{0, 1, {d}}};
    }
    records.push_back(std::move(r));
  }
  return records;
}

// What a scan must return, computed from every record: those of the range
// (after the cursor) that pass the options, in the scan's order.
std::vector<int> BruteForce(const std::vector<TraceRecord>& records, const ScanOptions& o) {
  std::vector<std::pair<int64_t, const TraceRecord*>> hits;
  for (const TraceRecord& r : records) {
    const int64_t t =
        o.time_range_type == TimeRangeType::kEvent ? r.summary.updated_us : r.summary.start_time_us;
    if (t < o.start_us || t >= o.end_us) continue;
    if (o.resume_after) {
      const auto key = std::tie(t, r.summary.id);
      const auto cursor = std::tie(o.resume_after->time_us, o.resume_after->trace_id);
      if (o.descending ? !(key < cursor) : !(cursor < key)) continue;
    }
    if (o.searchable_only && !r.summary.indexed) continue;
    if (o.filter && !o.filter->Matches(r)) continue;
    hits.emplace_back(t, &r);
  }
  std::sort(hits.begin(), hits.end(), [&](const auto& a, const auto& b) {
    const auto ka = std::tie(a.first, a.second->summary.id);
    const auto kb = std::tie(b.first, b.second->summary.id);
    return o.descending ? kb < ka : ka < kb;
  });
  std::vector<int> tails;
  for (const auto& hit : hits) tails.push_back(hit.second->summary.id.bytes[15]);
  return tails;
}

constexpr const char* kFilterCases[] = {
    R"(annotation.tier = "gold")",
    "annotation.n = 3",
    R"(service("db"))",
    R"(service("api") { fault })",
    R"(service(id(name: "db", type: "AWS::DynamoDB::Table")) { throttle })",
    R"(edge("api", "db"))",
    "responsetime > 2.5",
    "responsetime >= 1 AND responsetime < 3",
    R"(user = "u1")",
    "http.status = 429",
    "fault",
    "error OR throttle",
    R"(annotation.tier = "gold" OR user = "u2")",
    R"(!(annotation.tier = "silver"))",
    R"(!service("db"))",
    "NOT fault AND NOT error",
    R"((fault OR error) AND !(http.status = 200))",
    R"(annotation.tier = "gold" AND responsetime > 2)",
    R"(user = "u3" AND (throttle OR annotation.n = 1))",
    "inferred",
};

TEST_P(StoreConformanceTest, FilteredScansEqualBruteForceEvaluation) {
  const std::vector<TraceRecord> records = FilterDataset();
  for (const TraceRecord& r : records) Put(r);
  size_t nonempty = 0;
  for (const char* expr : kFilterCases) {
    for (TimeRangeType type : {TimeRangeType::kTraceId, TimeRangeType::kEvent}) {
      for (bool searchable_only : {false, true}) {
        for (bool descending : {true, false}) {
          ScanOptions o = Range(kT0 + 2, kT0 + 200);
          if (type == TimeRangeType::kEvent) o.start_us = kT0 + 105;
          o.time_range_type = type;
          o.filter = testing::Filter(expr);
          o.searchable_only = searchable_only;
          o.descending = descending;
          o.return_graph = false;
          const std::vector<int> expected = BruteForce(records, o);
          if (!expected.empty()) ++nonempty;
          EXPECT_EQ(ScanTails(o), expected)
              << expr << (type == TimeRangeType::kEvent ? " by event time" : "")
              << (searchable_only ? " searchable only" : "")
              << (descending ? " descending" : " ascending");
        }
      }
    }
  }
  // The cases select something (not a comparison of empty answers).
  EXPECT_GE(nonempty, std::size(kFilterCases) * 8 - 4);
}

TEST_P(StoreConformanceTest, SearchableOnlyLeavesOutUnindexedTraces) {
  TraceRecord hidden = MakeRecord(MakeTraceId(0xa1, 1), kT0 + 1);
  hidden.summary.indexed = false;
  hidden.summary.has_fault = true;
  TraceRecord shown = MakeRecord(MakeTraceId(0xa1, 2), kT0 + 2);
  shown.summary.has_fault = true;
  Put(hidden);
  Put(shown);
  ScanOptions o = Range(kT0, kT0 + 10);
  EXPECT_EQ(ScanTails(o), (std::vector<int>{2, 1}));
  o.searchable_only = true;
  EXPECT_EQ(ScanTails(o), (std::vector<int>{2}));
  o.filter = testing::Filter("fault");
  EXPECT_EQ(ScanTails(o), (std::vector<int>{2}));
  o.searchable_only = false;
  EXPECT_EQ(ScanTails(o), (std::vector<int>{2, 1}));
  EXPECT_TRUE(store_->GetTrace(hidden.summary.id).ok());  // still read by id
}

// Pages of a filtered scan, cut both by the callback (a page size) and by
// max_examined, resumed from ScanProgress::last: together they return the
// brute-force answer exactly once, whichever way the scan runs.
TEST_P(StoreConformanceTest, FilteredScanPagesResumeFromTheirProgress) {
  const std::vector<TraceRecord> records = FilterDataset();
  for (const TraceRecord& r : records) Put(r);
  for (const char* expr : {R"(annotation.tier = "gold")", "responsetime > 1.5",
                           R"(service("db") OR fault)", R"(!service("db") AND !fault)"}) {
    for (bool descending : {true, false}) {
      for (uint64_t max_examined : {uint64_t{0}, uint64_t{7}}) {
        ScanOptions o = Range(kT0, kT0 + 100);
        o.filter = testing::Filter(expr);
        o.searchable_only = true;
        o.descending = descending;
        o.max_examined = max_examined;
        const std::vector<int> expected = BruteForce(records, o);
        ASSERT_FALSE(expected.empty()) << expr;
        std::vector<int> got;
        uint64_t examined = 0;
        int pages = 0;
        for (;; ++pages) {
          ASSERT_LT(pages, 100) << expr;
          size_t taken = 0;
          auto progress = store_->Scan(o, [&](const TraceRecord& r, int64_t) {
            if (taken == 3) return false;
            ++taken;
            got.push_back(r.summary.id.bytes[15]);
            return true;
          });
          ASSERT_TRUE(progress.ok()) << progress.status().ToString();
          if (max_examined != 0) {
            EXPECT_LE(progress->examined, max_examined);
          }
          examined += progress->examined;
          if (!progress->stopped_at) break;
          ASSERT_TRUE(progress->last.has_value());
          // The scan stopped after the last trace it went past.
          const auto last = std::tie(progress->last->time_us, progress->last->trace_id);
          const auto stop = std::tie(progress->stopped_at->time_us, progress->stopped_at->trace_id);
          EXPECT_TRUE(descending ? stop < last : last < stop);
          o.resume_after = progress->last;
        }
        EXPECT_EQ(got, expected) << expr << (descending ? " descending" : " ascending")
                                 << " max_examined " << max_examined;
        EXPECT_GT(pages, 0) << expr;
        // Every trace of the range is examined once across the pages, at most.
        EXPECT_LE(examined, 60u);
        EXPECT_GE(examined, expected.size());
      }
    }
  }
}

TEST_P(StoreConformanceTest, ScanProgressSaysWhereTheScanStopped) {
  for (uint8_t i = 1; i <= 6; ++i) {
    TraceRecord r = MakeRecord(MakeTraceId(0xa2, i), kT0 + i);
    r.summary.has_error = i % 2 == 0;  // 2, 4, 6
    Put(r);
  }
  ScanOptions o = Range(kT0, kT0 + 100);
  o.filter = testing::Filter("error");
  auto all = store_->Scan(o, [](const TraceRecord&, int64_t) { return true; });
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(all->stopped_at.has_value());  // the range was exhausted
  // Which non-matching traces an engine looks at is its own business (an index
  // may skip them): the last is the oldest match or a trace after it.
  ASSERT_TRUE(all->last.has_value());
  EXPECT_LE(all->last->time_us, kT0 + 2);
  EXPECT_GE(all->examined, 3u);
  EXPECT_LE(all->examined, 6u);

  // The callback refuses the second match (4): the scan stops at it, having
  // gone past 6 and, depending on the engine, 5.
  int calls = 0;
  auto refused = store_->Scan(o, [&](const TraceRecord&, int64_t) { return ++calls < 2; });
  ASSERT_TRUE(refused.ok());
  ASSERT_TRUE(refused->stopped_at.has_value());
  EXPECT_EQ(refused->stopped_at->trace_id, MakeTraceId(0xa2, 4));
  EXPECT_EQ(refused->stopped_at->time_us, kT0 + 4);
  ASSERT_TRUE(refused->last.has_value());
  EXPECT_GT(refused->last->time_us, kT0 + 4);
  EXPECT_LE(refused->last->time_us, kT0 + 6);
  o.resume_after = refused->last;
  EXPECT_EQ(ScanTails(o), (std::vector<int>{4, 2}));

  // Without a filter every trace is examined and the bound is exact.
  o = Range(kT0, kT0 + 100);
  o.max_examined = 4;
  size_t seen = 0;
  auto bounded = store_->Scan(o, [&](const TraceRecord&, int64_t) { return ++seen > 0; });
  ASSERT_TRUE(bounded.ok());
  EXPECT_EQ(seen, 4u);
  EXPECT_EQ(bounded->examined, 4u);
  EXPECT_EQ(bounded->last->trace_id, MakeTraceId(0xa2, 3));
  ASSERT_TRUE(bounded->stopped_at.has_value());
  EXPECT_EQ(bounded->stopped_at->trace_id, MakeTraceId(0xa2, 2));
  o.max_examined = 6;  // exactly the range: nothing is left, so no stop
  EXPECT_FALSE(store_->Scan(o, [](const TraceRecord&, int64_t) { return true; })->stopped_at);
}

std::string EngineName(const ::testing::TestParamInfo<const Engine*>& info) {
  return info.param->name;
}

INSTANTIATE_TEST_SUITE_P(Engines, StoreConformanceTest,
                         ::testing::Values(&kEngines[0], &kEngines[1], &kEngines[2], &kEngines[3],
                                           &kEngines[4], &kEngines[5], &kEngines[6]),
                         EngineName);

}  // namespace
}  // namespace roentgen::store
