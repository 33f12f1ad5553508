// The store on a full disk (a small tmpfs: root only, skipped elsewhere) and
// with damaged files: writes are refused with Unavailable while the disk is
// full and resume by themselves when space returns, reads go on, nothing
// acknowledged is lost; damage is reported (Corruption), never read as data.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/testing/small_disk.h"
#include "common/testing/test_dir.h"
#include "store/rocksdb/rocksdb_store.h"
#include "store/store_test_util.h"

namespace roentgen::store {
namespace {

namespace fs = std::filesystem;
using roentgen::testing::SmallDisk;
using testing::MakeFullRecord;

using testing::kT0;

xray::TraceId TraceNumber(uint32_t n) {
  xray::TraceId id;
  for (size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = static_cast<uint8_t>(n >> (8 * (i % 4)));
  id.bytes[0] = 0x65;
  id.bytes[15] = static_cast<uint8_t>(n * 7 + 1);
  return id;
}

// A document whose bytes do not compress (so table files hold mostly them).
std::string Document(uint32_t n, size_t bytes = 1024) {
  std::mt19937 rng(n);
  std::string doc = "{\"n\":" + std::to_string(n) + ",\"pad\":\"";
  while (doc.size() < bytes) doc.push_back(static_cast<char>('a' + rng() % 26));
  return doc + "\"}";
}

// One trace of one document; `raw` must outlive the Write.
WriteBatch OneTrace(uint32_t n, const std::string& raw) {
  WriteBatch batch;
  const xray::TraceId id = TraceNumber(n);
  batch.documents.push_back(DocumentWrite{id, xray::SegmentId{n + 1ULL}, kT0, raw});
  batch.traces.push_back(MakeFullRecord(id, kT0 + n));
  return batch;
}

class StoreFaultsTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<Store>> Open(const std::string& path) {
    RocksDbStoreConfig config;
    config.path = path;
    config.block_cache_bytes = 8 << 20;
    config.resume_check_interval_us = 20'000;
    return OpenRocksDbStore(config);
  }

  // Every acknowledged trace has its record and exactly its document.
  void ExpectAllThere(Store& store, const std::vector<uint32_t>& acknowledged) {
    for (uint32_t n : acknowledged) {
      Result<TraceRecord> record = store.GetTrace(TraceNumber(n));
      ASSERT_TRUE(record.ok()) << n << ": " << record.status().ToString();
      Result<std::vector<StoredDocument>> docs = store.GetDocuments(TraceNumber(n));
      ASSERT_TRUE(docs.ok()) << n << ": " << docs.status().ToString();
      ASSERT_EQ(docs->size(), 1u) << n;
      EXPECT_EQ(docs->front().raw, Document(n)) << n;
    }
  }
};

TEST_F(StoreFaultsTest, AFullDiskRefusesWritesKeepsReadsAndResumesWhenSpaceReturns) {
  SmallDisk disk(8 << 20);
  if (!disk.mounted()) GTEST_SKIP() << disk.why();
  const std::string path = disk.Path("db");
  auto opened = Open(path);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<Store> store = std::move(*opened);

  std::vector<uint32_t> acknowledged;
  uint32_t next = 0;
  for (; next < 20; ++next) {
    const std::string raw = Document(next);
    ASSERT_TRUE(store->Write(OneTrace(next, raw)).ok());
    acknowledged.push_back(next);
  }
  disk.Fill();
  // The WAL's last page may take a few more; then the disk is full.
  Status refused;
  for (int i = 0; i < 1000 && refused.ok(); ++i, ++next) {
    const std::string raw = Document(next);
    refused = store->Write(OneTrace(next, raw));
    if (refused.ok()) acknowledged.push_back(next);
  }
  ASSERT_EQ(refused.code(), StatusCode::kUnavailable) << refused.ToString();
  EXPECT_NE(refused.message().find("disk is full"), std::string::npos) << refused.message();
  {
    const std::string raw = Document(next);
    EXPECT_EQ(store->Write(OneTrace(next++, raw)).code(), StatusCode::kUnavailable);
  }
  StoreStats stats = store->Stats();
  EXPECT_TRUE(stats.disk_full);
  EXPECT_TRUE(stats.read_only);
  EXPECT_GE(stats.write_errors.disk_full, 2u);
  EXPECT_EQ(stats.write_errors.io_error, 0u);
  ExpectAllThere(*store, acknowledged);  // reads go on

  disk.FreeFill();
  Status resumed = Status::Unavailable("not yet");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!resumed.ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::string raw = Document(next);
    resumed = store->Write(OneTrace(next, raw));
    if (resumed.ok()) acknowledged.push_back(next);
    ++next;
  }
  ASSERT_TRUE(resumed.ok()) << resumed.ToString();
  stats = store->Stats();
  EXPECT_FALSE(stats.disk_full);
  EXPECT_FALSE(stats.read_only);
  ExpectAllThere(*store, acknowledged);

  // And after a restart.
  store.reset();
  opened = Open(path);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ExpectAllThere(**opened, acknowledged);
  // RocksDB's messages go to the server's log: no LOG file on the full disk.
  EXPECT_FALSE(fs::exists(fs::path(path) / "LOG"));
}

TEST_F(StoreFaultsTest, OpeningOnAFullDiskExplainsItself) {
  SmallDisk disk(4 << 20);
  if (!disk.mounted()) GTEST_SKIP() << disk.why();
  const std::string path = disk.Path("db");
  {
    auto opened = Open(path);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    const std::string raw = Document(1);
    ASSERT_TRUE((*opened)->Write(OneTrace(1, raw)).ok());
  }
  disk.Fill();
  for (const std::string& dir : {path, disk.Path("fresh")}) {
    auto opened = Open(dir);
    ASSERT_FALSE(opened.ok()) << dir;
    const std::string& message = opened.status().message();
    EXPECT_EQ(opened.status().code(), StatusCode::kIOError) << message;
    EXPECT_NE(message.find("cannot open the store in " + dir), std::string::npos) << message;
    EXPECT_NE(message.find("the disk is full"), std::string::npos) << message;
    EXPECT_NE(message.find(" free of 4.0 MiB"), std::string::npos) << message;
  }
  disk.FreeFill();
  auto opened = Open(path);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ExpectAllThere(**opened, {1});
}

// Damage on a regular disk.
class DamagedStoreTest : public StoreFaultsTest {
 protected:
  std::string path() const { return (dir_ / "db").string(); }

  // Writes `count` traces and closes the store.
  void Fill(uint32_t count) {
    auto opened = Open(path());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    for (uint32_t n = 0; n < count; ++n) {
      const std::string raw = Document(n);
      ASSERT_TRUE((*opened)->Write(OneTrace(n, raw)).ok());
    }
  }
  // The largest file of the store whose name ends with `suffix`.
  fs::path Largest(const std::string& suffix) const {
    fs::path largest;
    for (const auto& entry : fs::directory_iterator(path())) {
      const std::string name = entry.path().filename().string();
      if (!name.ends_with(suffix)) continue;
      if (largest.empty() || entry.file_size() > fs::file_size(largest)) largest = entry.path();
    }
    return largest;
  }
  static void FlipBytes(const fs::path& file, uint64_t offset, size_t count) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    for (size_t i = 0; i < count; ++i) {
      f.seekg(static_cast<std::streamoff>(offset + i));
      const char c = static_cast<char>(f.get() ^ 0x5a);
      f.seekp(static_cast<std::streamoff>(offset + i));
      f.put(c);
    }
  }

  ::roentgen::testing::TestDir test_dir_{"rg-damaged-store"};
  const fs::path dir_ = test_dir_.path();
};

TEST_F(DamagedStoreTest, ADamagedTableFileIsReportedNeverReadAsData) {
  Fill(300);
  {
    auto reopened = Open(path());  // replays the WAL into table files
    ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  }
  const fs::path table = Largest(".sst");
  ASSERT_FALSE(table.empty());
  FlipBytes(table, 2000, 16);  // inside the first data block

  auto opened = Open(path());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Store& store = **opened;
  size_t damaged = 0;
  for (uint32_t n = 0; n < 300; ++n) {
    Result<std::vector<StoredDocument>> docs = store.GetDocuments(TraceNumber(n));
    if (!docs.ok()) {
      EXPECT_EQ(docs.status().code(), StatusCode::kCorruption);
      EXPECT_NE(docs.status().message().find("store corruption detected"), std::string::npos)
          << docs.status().message();
      ++damaged;
      continue;
    }
    ASSERT_EQ(docs->size(), 1u) << n;
    EXPECT_EQ(docs->front().raw, Document(n)) << n;  // never wrong data
  }
  EXPECT_GT(damaged, 0u);
  EXPECT_EQ(store.Stats().read_errors.corruption, damaged);
}

TEST_F(DamagedStoreTest, ADamagedWriteAheadLogRefusesToOpenAndSaysWhatToDo) {
  Fill(60);  // all of it still in the WAL: a clean close does not flush
  const fs::path wal = Largest(".log");
  ASSERT_FALSE(wal.empty());
  FlipBytes(wal, fs::file_size(wal) / 2, 8);

  auto opened = Open(path());
  ASSERT_FALSE(opened.ok()) << "a damaged WAL must not open as if its later writes never were";
  EXPECT_EQ(opened.status().code(), StatusCode::kCorruption);
  const std::string& message = opened.status().message();
  EXPECT_NE(message.find("cannot open the store in " + path()), std::string::npos) << message;
  EXPECT_NE(message.find("damaged"), std::string::npos) << message;
  EXPECT_NE(message.find("restore the data dir from a backup"), std::string::npos) << message;
}

}  // namespace
}  // namespace roentgen::store
