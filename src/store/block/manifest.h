// The block engine's manifest: which block files make up the store, and which
// of their rows a newer version of the same trace has superseded
// (docs/storage.md, "The block engine: design").
//
// Blocks are immutable; the manifest is the one thing that changes. It is an
// append-only log of edits (like leveldb's MANIFEST): an edit adds blocks
// (a cut from a head, a compaction's output), removes blocks (compaction's
// inputs, retention) and marks rows superseded, all at once. Apply() returns
// only once its edit is durable, and only then changes the state readers see,
// so a block is live exactly when a durable edit names it: the engine writes
// and fsyncs a block file first, then applies the edit that adds it, and only
// then lets the spools' checkpoints pass what the block holds.
//
// On disk, in the engine's directory:
//  - `MANIFEST-<20-digit number>`: the 8-byte magic "RGMANIF1", then edits,
//    each framed as length (u32 LE) · crc32(payload) (u32 LE) · crc32 of
//    those 8 bytes (u32 LE) · payload, the payload encoded as in manifest.cpp
//    (a tag per field, numbers by common/coding.h).
//  - `CURRENT`: the name of the live manifest file and a newline, replaced
//    by writing `CURRENT.tmp`, fdatasync, rename and a sync of the directory.
// When the log has grown past `rewrite_after_bytes`, Apply() writes the
// whole state as two edits (the blocks, then their superseded rows) into a
// new file, points CURRENT at it and deletes
// the old file, so opening never replays an unbounded history.
//
// Opening replays the log. A last edit cut short by a crash (a header that
// checks out whose length runs past the end of the file, a payload that fails
// its checksum with nothing after it, zeros to the end of the file) is an
// edit whose Apply() never returned: it is dropped and the file cut back. Damage
// anywhere else, an edit that contradicts the state (a block added twice, a
// row past a block's end), or an unknown field is Corruption naming the file
// and offset: the store refuses to open rather than serve a wrong set of
// blocks.
//
// Thread safety: Apply() and the readers may run on any threads; Apply()
// calls are serialized.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/files.h"
#include "common/mutex.h"
#include "common/status.h"

namespace roentgen::store::block {

// What the engine needs to know about a block without opening it: enough to
// skip it for a time range, to plan compaction and to report sizes.
struct BlockMeta {
  uint64_t id = 0;     // names the file (the engine's choice of name)
  uint64_t rows = 0;   // trace versions in the block
  uint64_t bytes = 0;  // the file's size
  int64_t min_start_us = 0;
  int64_t max_start_us = 0;
  int64_t min_updated_us = 0;
  int64_t max_updated_us = 0;
  uint32_t level = 0;  // 0 for a cut from a head; compaction outputs one more than its inputs
  bool operator==(const BlockMeta&) const = default;
};

struct ManifestEdit {
  std::vector<BlockMeta> added;
  std::vector<uint64_t> removed;  // block ids
  // Rows of live blocks that a newer version of their trace replaces.
  std::map<uint64_t, std::vector<uint32_t>> superseded;
  bool operator==(const ManifestEdit&) const = default;
};

// A live block and its superseded rows (sorted, unique).
struct LiveBlock {
  BlockMeta meta;
  std::vector<uint32_t> superseded;
  bool operator==(const LiveBlock&) const = default;
};

struct ManifestState {
  std::map<uint64_t, LiveBlock> blocks;  // by id
  uint64_t next_block_id = 1;            // above every id ever added (NewBlockId starts here)
  bool operator==(const ManifestState&) const = default;
};

struct ManifestOptions {
  uint64_t rewrite_after_bytes = 4 << 20;
};

class Manifest {
 public:
  // Opens the manifest in `dir` (which must exist), creating an empty one when
  // there is none. Errors: Corruption (as above), IOError and the errno
  // mapping of common/files.h.
  static Result<std::unique_ptr<Manifest>> Open(const std::string& dir,
                                                ManifestOptions options = {});

  // Checks `edit` against the state (InvalidArgument: adding id 0, an id that
  // is live, or an id twice; removing
  // or superseding rows of a block that is not live; a row past its block's
  // end; a block both added and removed), appends it, fdatasyncs, and applies
  // it. Rows of a block added by the same edit may be superseded by it (a
  // compaction's output keeps the marks its inputs gained while it ran;
  // replay applies the additions first). On a write error the file
  // is cut back to its previous end and the state is unchanged; if even that
  // fails, the manifest refuses further edits (IOError) until reopened.
  Status Apply(const ManifestEdit& edit);

  // A new block id, never handed out before (persisted by the edit that adds
  // the block; ids handed out but never added may be handed out again after a
  // restart, which is harmless since no durable edit names them).
  uint64_t NewBlockId();

  ManifestState State() const;
  // The size of the live log file (for tests and metrics).
  uint64_t LogBytes() const;

  // Encoding of one edit's payload (exposed for tests and the fuzz target).
  static std::string EncodeEdit(const ManifestEdit& edit);
  static Result<ManifestEdit> DecodeEdit(std::string_view payload);

 private:
  Manifest(std::string dir, ManifestOptions options);
  Status Rewrite() REQUIRES(mu_);
  Status CheckEdit(const ManifestEdit& edit) const REQUIRES(mu_);

  const std::string dir_;
  const ManifestOptions options_;
  mutable Mutex mu_;
  ManifestState state_ GUARDED_BY(mu_);
  uint64_t file_number_ GUARDED_BY(mu_) = 0;
  UniqueFd fd_ GUARDED_BY(mu_);
  uint64_t log_bytes_ GUARDED_BY(mu_) = 0;
  bool broken_ GUARDED_BY(mu_) = false;
  uint64_t handed_out_ GUARDED_BY(mu_) = 0;  // the highest id NewBlockId returned
};

}  // namespace roentgen::store::block
