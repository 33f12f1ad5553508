// MemoryStore: the Store interface held in memory, for tests, the fuzz
// targets and embedding where nothing needs to outlive the process. It keeps
// the contract every engine keeps (store/store.h) and passes the engines'
// conformance suite (store/store_conformance_test.cpp): a scan reads one
// snapshot, orders by (sort time, trace id) and evaluates the filter on every
// trace of its range, and retention deletes a trace's record and documents
// together.
//
// Cost: a scan copies the records of its range under the lock and sorts them,
// so it is O(traces in the store), and has no index; fine for tests and small
// embedded uses, not for production volumes (use RocksDbStore).
//
// Thread safety: every method may be called from any thread; callbacks
// (ScanOptions::on_snapshot, the scan callback) run without the store's lock,
// so they may call the store.
#pragma once

#include <memory>

#include "common/clock.h"
#include "store/store.h"

namespace roentgen::store {

struct MemoryStoreConfig {
  // Traces that started longer ago than this are deleted by a background
  // thread every retention_interval_us (0: never; DeleteOlderThan still works).
  int64_t retention_us = 0;
  int64_t retention_interval_us = 60'000'000;
  const Clock* clock = nullptr;  // System() when null; must outlive the store
};

std::unique_ptr<Store> NewMemoryStore(const MemoryStoreConfig& config = {});

}  // namespace roentgen::store
