// The embedded engine: Store on RocksDB (see store.h for the contract and
// docs/storage.md for the on-disk layout).
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "store/store.h"

namespace roentgen::store {

struct RocksDbStoreConfig {
  std::string path;                                     // directory, created if missing
  int64_t retention_us = 30LL * 24 * 3600 * 1'000'000;  // 30 days
  // How often the background thread applies retention (first run one interval
  // after opening).
  int64_t retention_interval_us = 5LL * 60 * 1'000'000;  // 5 minutes
  // Data, index and filter blocks. 128 MB: with 256 MB a sustained ingest of
  // random-prefix trace ids filled it with filter and index blocks and the
  // server peaked at 1,032 MiB RSS (920 MiB with 128 MB); the query benchmark
  // over 1M traces is unchanged (docs/storage.md, "Tuning").
  size_t block_cache_bytes = 128 << 20;
  bool sync_writes = true;  // fsync the WAL on every Write()
  // Flushes and compactions at the lowest CPU priority (RocksDB's
  // CpuPriority::kLow, nice 19). The pools belong to the process's default
  // Env: this lowers them for every store the process opens.
  bool low_priority_background = false;
  // How often a store that stopped writes after a fault (a full disk) checks
  // whether to resume them (docs/storage.md, "Faults").
  int64_t resume_check_interval_us = 1'000'000;
  const Clock* clock = &Clock::System();  // for retention; not owned
  Status Validate() const;
};

Result<std::unique_ptr<Store>> OpenRocksDbStore(const RocksDbStoreConfig& config);

}  // namespace roentgen::store
