#include "store/rocksdb/rocksdb_options.h"

#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>

#include <algorithm>

#include "store/rocksdb/rocksdb_log.h"
#include "store/rocksdb/store_keys.h"

namespace roentgen::store::rocks {
namespace {

bool Supported(rocksdb::CompressionType type) {
  static const std::vector<rocksdb::CompressionType> supported =
      rocksdb::GetSupportedCompressions();
  return std::find(supported.begin(), supported.end(), type) != supported.end();
}

// Fast compression for the upper levels, denser ZSTD for the bottom level
// (where most bytes end up and are rewritten least often).
void SetCompression(rocksdb::ColumnFamilyOptions& o) {
  if (Supported(rocksdb::kLZ4Compression)) {
    o.compression = rocksdb::kLZ4Compression;
  } else if (Supported(rocksdb::kSnappyCompression)) {
    o.compression = rocksdb::kSnappyCompression;
  } else {
    o.compression = rocksdb::kNoCompression;
  }
  o.bottommost_compression =
      Supported(rocksdb::kZSTD) ? rocksdb::kZSTD : rocksdb::kDisableCompressionOption;
}

rocksdb::ColumnFamilyOptions MakeCfOptions(Cf cf, const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  SetCompression(o);
  o.level_compaction_dynamic_level_bytes = true;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.format_version = 5;
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;

  switch (cf) {
    case kDocuments:
      // Read by trace-id prefix only: a prefix bloom filter, no whole-key one.
      o.write_buffer_size = 64 << 20;
      o.max_write_buffer_number = 3;
      o.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(keys::kTraceIdBytes));
      o.memtable_prefix_bloom_size_ratio = 0.05;
      table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
      table.whole_key_filtering = false;
      break;
    case kTraces:
      // Point lookups by trace id (writes read the old record; scans fetch).
      o.write_buffer_size = 64 << 20;
      o.max_write_buffer_number = 3;
      table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
      o.memtable_whole_key_filtering = true;
      o.memtable_prefix_bloom_size_ratio = 0.05;
      break;
    case kTimeIndex:
    case kEventIndex:
    case kSecondaryIndex:
      // Range scans only: filters would not be consulted.
      o.write_buffer_size = 32 << 20;
      // Secondary index keys begin with their value, not their time, so each
      // L0 compaction of that index rewrites nearly all of its bottom level.
      // Compacting after 8 flushes instead of 4 halves those rewrites (a
      // 1.5M-segment UDP run: 8.6 s of compaction CPU instead of 15.1 s,
      // docs/benchmarks.md Round 4). The time-ordered indexes, measured with
      // the same setting, just compact less often. A scan merges up to 4 more
      // small L0 files: microseconds against a query's milliseconds.
      o.level0_file_num_compaction_trigger = 8;
      break;
    case kConfig:
    case kCfCount:
      o.write_buffer_size = 4 << 20;
      break;
  }
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return o;
}

}  // namespace

rocksdb::DBOptions MakeDbOptions() {
  rocksdb::DBOptions o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  o.max_background_jobs = 2;
  // Batches from several writer threads share one WAL write and fsync (group
  // commit); pipelining lets the next group's WAL write overlap this group's
  // memtable inserts.
  o.enable_pipelined_write = true;
  o.bytes_per_sync = 1 << 20;
  o.wal_bytes_per_sync = 1 << 20;
  // Several column families share the WAL: force flushes of the small ones so
  // the log does not grow without bound.
  o.max_total_wal_size = 256 << 20;
  // All memtables together (up to 3 × 64 MB per large column family, 3 × 32 MB
  // per index): without a cap a sustained ingest burst fills every one of them
  // and the server's RSS passes 1 GiB; at the cap the largest is flushed.
  o.db_write_buffer_size = 256 << 20;
  // RocksDB's messages go to the server's log: its LOG file writer aborts
  // the process on a write after a full disk (rocksdb_log.h).
  o.info_log = MakeServerLogger();
  // Checksums are checked on every read, and files are checked at open: a
  // damaged file is reported, never read as data (docs/storage.md,
  // "Damaged files").
  o.paranoid_checks = true;
  // Every acknowledged write was synced to the WAL, so a WAL record that fails
  // its checksum before the end of the log is damage, not a crash's torn
  // tail: the store refuses to open and says so, where RocksDB's default
  // (kPointInTimeRecovery) would silently drop every later acknowledged
  // write. An incomplete last record (the write in progress at a crash) is
  // still tolerated.
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  return o;
}

std::vector<rocksdb::ColumnFamilyDescriptor> MakeColumnFamilies(
    const std::shared_ptr<rocksdb::Cache>& cache) {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  cfs.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (size_t i = 0; i < kCfCount; ++i) {
    cfs.emplace_back(kCfNames[i], MakeCfOptions(static_cast<Cf>(i), cache));
  }
  return cfs;
}

}  // namespace roentgen::store::rocks
