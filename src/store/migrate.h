// Migration of a data dir from the RocksDB engine to the block engine
// (docs/storage.md, "Migration"; `roentgen migrate`, src/cli/migrate.h).
//
// MigrateRocksDbToBlock copies the RocksDB store at the top of a data dir
// into a block store built beside it, then switches the data dir over:
//
//  1. Takes DATA_DIR/migration.lock (flock) and opens the RocksDB store,
//     whose own LOCK keeps a server out for the whole copy. A
//     DATA_DIR/block-migration/ an interrupted migration left is removed.
//  2. Builds the block store in DATA_DIR/block-migration/ (its `blocks/`
//     and `config/`): every config object, read from the RocksDB config
//     column family (every namespace, so one added later is copied too),
//     then every trace in start-time order: its record (summary with the
//     searchable flag, trace graph) and all its documents (raw bytes,
//     received time), in batches, with the heads cut every
//     `flush_every_bytes` of documents so memory stays bounded. A copy
//     keeps what the RocksDB store holds: its newest version of each trace.
//  3. Checks the block store holds exactly the traces copied, cuts what is
//     left, closes it and syncs its directories.
//  4. Commits: renames block-migration/ to block-migration.done/ and syncs
//     the data dir. Before this rename a crash leaves the RocksDB store as it
//     was (the copy is discarded by the next migration); after it the
//     migration is done and the switch is finished by whoever comes next
//     (FinishMigrationSwitch: the migration itself, `serve`, `backup`).
//  5. Switches (FinishMigrationSwitch): moves RocksDB's files from the top
//     of the data dir into DATA_DIR/rocksdb-before-migration/ (a RocksDB
//     store of its own, untouched: the way back), moves blocks/ and config/
//     up, removes block-migration.done/ and syncs. Every step is a rename
//     and can be repeated, so a crash anywhere in it is finished next time.
//
// The spools (udp-spool/, otlp-spool/, api-spool/) stay where they are: they
// hold documents, not engine data, and each replays what is after its
// checkpoint (not yet durable in the RocksDB store, so not copied) into the
// block store at the next start.
//
// Thread safety: the functions take the migration lock; call them from one
// thread. Errors are Status values naming the data dir and the step.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "store/block/block_store.h"

namespace roentgen::store {

// Names inside a data dir.
inline constexpr char kMigrationBuildDir[] = "block-migration";
inline constexpr char kMigrationDoneDir[] = "block-migration.done";
inline constexpr char kPreMigrationStoreDir[] = "rocksdb-before-migration";
inline constexpr char kMigrationLockFile[] = "migration.lock";

struct MigrationProgress {
  uint64_t traces = 0;  // copied so far
  // RocksDB's estimate of the store's traces; the exact total in the last report.
  uint64_t traces_estimate = 0;
  uint64_t documents = 0;       // copied so far
  uint64_t document_bytes = 0;  // raw bytes of those documents
  uint64_t config_objects = 0;  // copied (all of them are copied first)
  double seconds = 0;           // since the copy began
};

struct MigrationOptions {
  // The new store's options (its directory is chosen by the migration).
  block::BlockStoreOptions block;
  // Raw document bytes written between two cuts of the heads (Flush).
  uint64_t flush_every_bytes = uint64_t{64} << 20;
  // Traces per block-store Write.
  size_t batch_traces = 256;
  // How often on_progress runs during the copy (also once at its end).
  int64_t progress_interval_us = 2'000'000;
  std::function<void(const MigrationProgress&)> on_progress;
  // A line for the operator's log (a discarded interrupted copy, the steps).
  std::function<void(const std::string&)> on_note;
  // Delete DATA_DIR/rocksdb-before-migration/ once the switch is done.
  bool remove_old_store = false;
  // For tests: after every batch written (an error stops the migration
  // there, as a crash would, but cleanly), and right after the commit's
  // rename, before the switch.
  std::function<Status(const MigrationProgress&)> after_batch;
  std::function<Status()> after_commit;
};

struct MigrationResult {
  MigrationProgress progress;
  // DATA_DIR/rocksdb-before-migration, or empty when it was removed.
  std::string old_store_dir;
  // Bytes of the RocksDB store before and of the block store after.
  uint64_t rocksdb_bytes = 0;
  uint64_t block_bytes = 0;
};

// Migrates the RocksDB store of `data_dir` to the block engine (above).
// Errors: InvalidArgument when `data_dir` holds no RocksDB store (or already
// block files); Unavailable when a server or another migration holds it;
// Internal when the copy's check finds a trace missing; the engines' errors
// (ResourceExhausted for a full disk, IOError, Corruption). On any error
// before the commit the RocksDB store is as it was and block-migration/ is
// removed (a crash leaves it for the next migration to remove).
Result<MigrationResult> MigrateRocksDbToBlock(const std::string& data_dir,
                                              const MigrationOptions& options = {});

// Whether a committed migration's switch is pending in `data_dir`
// (block-migration.done/ exists): the data dir then belongs to the block
// engine.
bool MigrationSwitchPending(const std::string& data_dir);

// Finishes the switch of a committed migration (step 5 above); true when
// there was one to finish. Errors: Unavailable when a migration holds the
// lock (it is finishing the switch itself: retry), IOError for a failed rename.
Result<bool> FinishMigrationSwitch(const std::string& data_dir);

}  // namespace roentgen::store
