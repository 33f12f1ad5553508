// The fixture of the RocksDB engine's own tests: a fresh store in a
// temporary directory per test (store_test_util.h's StoreTestBase).
#pragma once

#include <gtest/gtest.h>

#include "store/rocksdb/rocksdb_store.h"
#include "store/store_test_util.h"

namespace roentgen::store::testing {

class RocksDbStoreTest : public StoreTestBase<::testing::Test> {
 protected:
  void Open() override {
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
};

}  // namespace roentgen::store::testing
