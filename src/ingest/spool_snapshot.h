// A copy of a spool's directory (ingest/spool.h) for a backup, taken while
// the spool runs (docs/storage.md, "Backup and restore").
//
// What it keeps: every record the spool held, stored or not, when the call
// began, and its checkpoint as it was then. So a record that was durable in
// the spool before the call is either before that checkpoint — stored in the
// store before the call, and in any store copy taken after it — or in the
// copied files, and delivered again when a server opens the copy. The order
// that makes this hold: the checkpoint first (the spool replaces it by
// rename, so the copy is one whole version), then the files; the spool only
// deletes files wholly before its newer checkpoints, whose records were
// stored before they went. A store copy must therefore be taken after this
// returns.
//
// How: the checkpoint and every file but the newest are hard links (the
// spool never changes a file once it has begun the next one), copies where
// linking fails (another filesystem). The newest file, still appended to, is
// copied up to its last whole record that passes its checksum, so the copy
// never ends in a torn record (which its reader would report as damage).
//
// Thread safety: any thread; reads the spool's directory without its locks.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace roentgen::ingest {

struct SpoolSnapshotStats {
  uint64_t files = 0;       // spool files copied (the checkpoint not counted)
  uint64_t bytes = 0;       // their bytes
  bool checkpoint = false;  // the spool had saved a checkpoint
};

// Copies the spool in `spool_dir` into `to`, which must not exist (created,
// mode 0700). A missing `spool_dir` (a server run without that spool) copies
// nothing and creates nothing. Everything written is fsynced. Errors:
// AlreadyExists (`to`), ResourceExhausted (the disk is full), IOError.
Result<SpoolSnapshotStats> SnapshotSpool(const std::string& spool_dir, const std::string& to);

}  // namespace roentgen::ingest
