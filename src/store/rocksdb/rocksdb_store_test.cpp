#include "store/rocksdb/rocksdb_store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <thread>

#include "store/rocksdb/rocksdb_options.h"
#include "store/rocksdb/rocksdb_store_test_fixture.h"
#include "store/rocksdb/store_keys.h"
#include "store/store_metrics.h"

namespace roentgen::store {
namespace {

using testing::kSecond;
using testing::kT0;
using testing::MakeFullRecord;
using testing::MakeRecord;
using testing::MakeTraceId;
using testing::RocksDbStoreTest;

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
  EXPECT_GT(unflushed.unflushed_bytes, 0u);  // nothing flushed yet
  EXPECT_GT(unflushed.disk_bytes, 0u);      // the write-ahead log
  EXPECT_FALSE(unflushed.writes_stalled);

  Reopen();  // the log is replayed and flushed into table files
  ASSERT_TRUE(store_->GetTrace(MakeTraceId(0x71, 2)).ok());
  StoreStats flushed = store_->Stats();
  EXPECT_EQ(flushed.traces, 3u);
  EXPECT_EQ(flushed.documents, 3u);
  EXPECT_GT(flushed.read_cache_bytes, 0u);  // the blocks just read
  EXPECT_EQ(flushed.background_jobs + flushed.backlog_bytes, 0u);

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
  auto scanned =
      store_->Scan(Range(kT0, kT0 + 1), [](const TraceRecord&, int64_t) { return true; });
  EXPECT_EQ(scanned.status().code(), StatusCode::kCorruption);
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

}  // namespace
}  // namespace roentgen::store
