// The embedded engine: Store on RocksDB (see store.h for the contract and
// docs/storage.md for the on-disk layout).
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "store/store.h"

namespace roentgen::store {

struct RocksDbStoreConfig {
  std::string path;                        // directory, created if missing
  int64_t retention_us = 30LL * 24 * 3600 * 1'000'000;  // 30 days
  // How often the background thread applies retention (first run one interval
  // after opening).
  int64_t retention_interval_us = 5LL * 60 * 1'000'000;  // 5 minutes
  size_t block_cache_bytes = 256 << 20;
  bool sync_writes = true;                 // fsync the WAL on every Write()
  const Clock* clock = &Clock::System();   // for retention; not owned
  Status Validate() const;
};

Result<std::unique_ptr<Store>> OpenRocksDbStore(const RocksDbStoreConfig& config);

}  // namespace roentgen::store
