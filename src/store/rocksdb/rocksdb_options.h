// The embedded store's RocksDB layout and tuning: the column families (by
// name, in open order) and the options each is opened with. Private to
// src/store (rocksdb_store.cpp, tests). See docs/storage.md.
#pragma once

#include <rocksdb/cache.h>
#include <rocksdb/db.h>

#include <array>
#include <cstddef>
#include <memory>
#include <vector>

#include "store/rocksdb/rocksdb_store.h"

namespace roentgen::store::rocks {

// Column families besides RocksDB's "default" (which the store leaves empty).
enum Cf : size_t {
  kDocuments = 0,   // trace id + entity id → document header + raw bytes
  kTraces,          // trace id → encoded TraceRecord
  kTimeIndex,       // ordered start_us + trace id → ""
  kEventIndex,      // ordered updated_us + trace id → ""
  kSecondaryIndex,  // kind + value + ordered start_us + trace id → ""
  kConfig,          // namespace + 0x00 + key → value
  kCfCount,
};

inline constexpr std::array<const char*, kCfCount> kCfNames = {
    "documents", "traces", "time_index", "event_index", "secondary_index", "config"};

rocksdb::DBOptions MakeDbOptions();

// Descriptors for "default" followed by every Cf in enum order; the block-based
// tables of all families share `cache`.
std::vector<rocksdb::ColumnFamilyDescriptor> MakeColumnFamilies(
    const std::shared_ptr<rocksdb::Cache>& cache);

}  // namespace roentgen::store::rocks
