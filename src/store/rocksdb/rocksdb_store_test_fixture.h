// The fixture of the RocksDB store tests: a fresh store in a temporary
// directory per test, on a fake clock, plus small scan helpers.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "store/rocksdb/rocksdb_store.h"
#include "store/store_test_util.h"

namespace roentgen::store::testing {

inline constexpr int64_t kSecond = 1'000'000;
inline constexpr int64_t kT0 = 1'700'000'000 * kSecond;

inline IndexCondition Condition(IndexCondition::Kind kind, std::string text = "") {
  IndexCondition c;
  c.kind = kind;
  c.text = std::move(text);
  return c;
}

class RocksDbStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("rg_store_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    Open();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Open() {
    RocksDbStoreConfig config;
    config.path = (dir_ / "db").string();
    config.block_cache_bytes = 8 << 20;
    config.sync_writes = false;
    config.clock = &clock_;
    config.retention_us = retention_us_;
    config.retention_interval_us = retention_interval_us_;
    auto store = OpenRocksDbStore(config);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void Reopen() {
    store_.reset();
    Open();
  }

  void Put(const TraceRecord& record) {
    WriteBatch batch;
    batch.traces.push_back(record);
    ASSERT_TRUE(store_->Write(batch).ok());
  }

  // The trace ids a scan visits, in order, as their last byte (tests use
  // MakeTraceId(seed, tail) with distinct tails).
  std::vector<int> ScanTails(const ScanOptions& options, size_t limit = 1000) {
    std::vector<int> tails;
    Status s = store_->Scan(options, [&](const TraceRecord& r, int64_t) {
      tails.push_back(r.summary.id.bytes[15]);
      return tails.size() < limit;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return tails;
  }

  ScanOptions Range(int64_t start, int64_t end) {
    ScanOptions o;
    o.start_us = start;
    o.end_us = end;
    return o;
  }

  std::filesystem::path dir_;
  FakeClock clock_{kT0};
  int64_t retention_us_ = 3600 * kSecond;
  int64_t retention_interval_us_ = 600 * kSecond;
  std::unique_ptr<Store> store_;
};

}  // namespace roentgen::store::testing
