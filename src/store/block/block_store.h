// BlockStore: the block engine behind the Store interface (store/store.h;
// docs/storage.md, "The block engine: design"). Writes land in in-memory
// heads (head.h), one per shard of the trace-id hash; a background cutter
// seals what is due into immutable block files (summary_columns.h) and
// commits them through the manifest (manifest.h), which is when a write's
// `on_durable` runs. Reads ask the heads first, then the blocks newest to
// oldest; a scan merges both in (sort time, trace id) order and returns each
// trace once (superseded rows are skipped, and a head version hides the row
// it replaces).
//
// On disk, in `dir`:
//  - `blocks/`: block files `NNNNNNNNNNNNNNNNNNNN.blk` (the 20-digit block
//    id), the manifest (`MANIFEST-…`, `CURRENT`). Files there that the
//    manifest does not name (a cut that crashed before its edit) are deleted
//    at open.
//  - `config/`: a RocksDB database for the config objects (namespace · 0x00 ·
//    key → value), every write synced, since config has no spool to replay it.
//
// Writes: a batch is split by shard and applied to each shard's head under
// one engine-level lock, so scans and point reads see all of a batch or none
// of it (writes are serialized; the older versions of late traces are read
// from the blocks before that lock is taken). A batch may carry documents of
// a trace without its record only when the store already holds the trace
// (its record is kept); otherwise it is InvalidArgument.
//
// Retention (DeleteOlderThan, run by a thread of its own when
// BlockStoreOptions::retention_us is set) drops whole blocks older than the cutoff,
// hides the rows of straddling blocks that are older (marked superseded in
// the manifest; compaction reclaims their space once enough of a block is
// superseded), and drops head versions older than the cutoff.
//
// Compaction merges blocks of one level into one block of the next,
// dropping superseded rows, on a thread of its own at the lowest CPU
// priority. It reads its inputs without the store's locks, then commits
// under the cut lock (writes go on) with one manifest edit (the output added, the inputs removed,
// and the output's rows whose input rows were superseded while it ran
// marked superseded) and points the heads' versions that supersede rows of
// the inputs at the rows of the output. The inputs' files are then deleted:
// readers that still hold them read through their open descriptors.
//
// Faults: a cut that fails for lack of space marks the disk full; writes are
// then Unavailable until a later cut succeeds or the heads are empty. A block
// whose bytes are damaged fails reads of it with Corruption.
//
// Reads share decoded block data: each block's trace-id index is decoded on
// the first look-up and kept for the block's life, and decoded columns are
// kept in a bounded LRU (read_cache_bytes), so repeated point reads and scans
// decompress a column once while it stays cached. A point read that misses a
// block costs a bloom probe.
//
// Scans skip blocks by their time range, and by their bloom filters when the
// filter requires an annotation equality, a user or (format version 2
// blocks) a service name. They merge the blocks' rows (for start-time
// ranges, the run of each block's sorted start column that the range covers)
// and the heads' versions lazily in scan order: a block is read only when
// the merge reaches its time range (until then it waits in the merge at the
// bound of its keys), so a page that fills from the newest blocks never
// reads the older ones. When a block is reached, its columns first
// rule out rows: the filter's required condition (ChooseIndex), its required
// numeric comparisons and service names (filter/column_predicates.h: a row
// passes a name when a graph node answers to it) and searchable_only; the
// rows left are decoded a growing run at a time (a first page decodes few;
// graphs only when the caller or the filter needs them) into the storage of
// earlier batches' records, and checked against the whole filter. Rows
// ruled out on the columns are not counted as examined.
//
// Rollups: every block carries the service-graph rollups of its rows
// (rollup_section.h), written by the cut and by compaction;
// LoadRollups() sums the live blocks' and takes the superseded rows back
// out (their rollups saved beside the manifest by SaveRollupCorrections, or
// read from the rows), so a start needs no scan (docs/storage.md,
// "Persisted rollups").
//
// Thread safety: every method may be called from any thread; callbacks
// (on_durable, on_snapshot, the scan callback) run without the store's locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/clock.h"
#include "store/block/head.h"
#include "store/block/manifest.h"
#include "store/store.h"

namespace roentgen::store::block {

struct BlockStoreOptions {
  size_t shards = 2;  // heads, by trace-id hash
  HeadOptions head;
  // How often the cutter looks for due versions (it also wakes when a head
  // passes head.max_bytes; writes wait while one holds twice that).
  int64_t cut_interval_us = 1'000'000;
  // The cut's level: low, because the cut is on the ingest path and
  // compaction re-compresses its output at compaction_zstd_level.
  int zstd_level = 1;
  // Decoded columns kept for reads (summary_columns.h, ColumnCache); the
  // blocks' trace-id indexes (20 bytes a row) are kept besides. Counted in
  // StoreStats::read_cache_bytes.
  uint64_t read_cache_bytes = uint64_t{256} << 20;
  // Cut everything still in the heads when the store is destroyed (best
  // effort). False: un-cut data is left to the spools' replay.
  bool flush_at_close = true;
  ManifestOptions manifest;
  const Clock* clock = nullptr;  // System() when null; must outlive the store

  // Retention: with retention_us > 0 a thread of its own runs
  // DeleteOlderThan(now - retention_us) every retention_interval_us, the
  // first one interval after opening (as the RocksDB engine does).
  int64_t retention_us = 0;
  int64_t retention_interval_us = 5LL * 60 * 1'000'000;

  // Compaction (docs/storage.md, "The block engine: design"): a round merges
  // every run of `compaction_fanin` blocks of one level, adjacent in start
  // time, whose files add up to at most `compaction_max_bytes`, into one
  // block of the next level, and rewrites alone any block whose superseded
  // rows reach `compaction_rewrite_superseded` of its rows; superseded rows
  // are dropped and the output is compressed at `compaction_zstd_level`.
  // With `compaction` a low-priority thread runs a round every
  // `compaction_interval_us`; Compact() runs one at any time.
  bool compaction = true;
  int64_t compaction_interval_us = 30'000'000;
  size_t compaction_fanin = 4;
  uint64_t compaction_max_bytes = uint64_t{1} << 30;
  int compaction_zstd_level = 9;
  // Raw bytes of documents per compressed page of the output (a
  // GetDocuments decompresses one page; larger pages compress better: 256
  // KiB take 7% less room than 64 KiB on bench/segment_gen documents, and a
  // page decompresses in well under a millisecond).
  size_t compaction_page_raw_bytes = 256 << 10;
  double compaction_rewrite_superseded = 0.25;
  // Whether compaction merges blocks by columns (block_merge.h: no row
  // decoded into a record, a few bytes a row in memory) when their format
  // is the current one; otherwise, and for blocks of an older format, it
  // decodes every row and writes the output as a cut does. The two write
  // the same rows, columns, documents and sections (a large column's zstd
  // frame may differ by a few bytes); false is for tests and benches that
  // compare them.
  bool compaction_by_columns = true;
  // For tests: runs after a compaction's output file is written and before
  // its manifest edit, without the store's locks; an error abandons that
  // output (its file is deleted) and ends the round with the error.
  std::function<Status(const std::string& output_path)> before_compaction_commit;
  // For tests: runs on the cutting thread after a cut's block file is
  // written and before its manifest edit, with the cut lock held (writes go
  // on); an error abandons the cut (its versions stay in the heads).
  std::function<Status(const std::string& block_path)> before_cut_commit;
  // For tests: runs in Write after it has read the older versions of the
  // batch's traces from the blocks and before it applies the batch, with
  // only the write lock held (a compaction may commit from it).
  std::function<void()> after_write_lookup;
  // For tests: runs on the scanning thread each time a scan first reads a
  // block (its columns), with the block's id; a scan reads a block only
  // when its merge reaches the block's time range.
  std::function<void(uint64_t block_id)> on_scan_block_opened;
};

class BlockStore : public Store {
 public:
  // Opens (creating) the store in `dir`. Errors: InvalidArgument for options
  // out of range (no shards, a compaction fan-in below 2, a compaction
  // interval not positive while compaction is on, a retention interval not
  // positive while retention is on), Corruption (a damaged
  // manifest or block footer), IOError and the errno mapping of common/files.h.
  static Result<std::unique_ptr<BlockStore>> Open(const std::string& dir,
                                                  const BlockStoreOptions& options = {});

  // Cuts everything in the heads now and waits for the blocks to commit (for
  // tests, shutdown and Checkpoint). The first error of a failed cut (its
  // versions stay in the heads).
  virtual Status Flush() = 0;

  // Runs one round of compaction now (see BlockStoreOptions), waiting for a
  // background round in flight first; returns the number of blocks it
  // replaced. Errors: those of reading the inputs and of writing the output
  // or the manifest edit (the store is then as before the failed merge).
  virtual Result<uint64_t> Compact() = 0;

  // Saves the service-graph rollups of the rows superseded so far and not
  // yet saved (rollup_section.h, SavedCorrections), so that the next
  // LoadRollups need not read those rows from their blocks. The compaction
  // thread runs it after each round, and the store at close. Errors: those
  // of reading the rows and of writing the file.
  virtual Status SaveRollupCorrections() = 0;
};

}  // namespace roentgen::store::block
