// A consistent snapshot of a data dir, staged inside it for a backup
// (docs/storage.md, "Backup and restore").
//
// A data dir holds the store (RocksDB's files) and the spools of records not
// yet stored (udp-spool/, otlp-spool/, api-spool/; src/cli/intake.h). StageBackup
// snapshots the spools first and the store after (ingest/spool_snapshot.h
// says why that order keeps every record that was durable when it began),
// into DATA_DIR/backup-staging/NAME/{udp-spool,otlp-spool,api-spool,store}. On the
// data dir's own filesystem the snapshot is mostly hard links: it is quick
// and costs little room, and the writer of the backup copies from it at its
// own pace while the server goes on (links keep files alive that the store
// or the spools delete meanwhile).
//
// The staging directory belongs to whoever staged it (the server's control
// socket, or `roentgen backup` on a stopped data dir), who removes it when
// the copy is done; RemoveStaging clears what a crash left.
//
// Thread safety: any thread; the store must stay open during StageBackup.
#pragma once

#include <iterator>
#include <string>

#include "common/status.h"
#include "ingest/spool_snapshot.h"
#include "store/store.h"

namespace roentgen::backup {

// Directory names inside a data dir and inside a staged snapshot.
inline constexpr char kStagingDir[] = "backup-staging";
inline constexpr char kStoreDir[] = "store";  // in a snapshot: the store's files
inline constexpr const char* kSpoolDirs[] = {"udp-spool", "otlp-spool",
                                             "api-spool"};  // cli/intake.cpp

struct StagedSnapshot {
  std::string name;  // the directory under DATA_DIR/backup-staging/
  ingest::SpoolSnapshotStats spools[std::size(kSpoolDirs)];  // as kSpoolDirs
};

// Snapshots the data dir `data_dir`, whose store is `store`, into a new
// directory DATA_DIR/backup-staging/NAME. On failure nothing is left behind.
// Errors: the spools' and the store's (Store::Checkpoint), e.g.
// ResourceExhausted when the data dir's disk is full.
Result<StagedSnapshot> StageBackup(const std::string& data_dir, store::Store& store);

// DATA_DIR/backup-staging/NAME.
std::string StagingPath(const std::string& data_dir, const std::string& name);

// Removes one staged snapshot (name given) or all of them (name empty),
// and DATA_DIR/backup-staging once empty. Errors: IOError naming what could
// not be removed.
Status RemoveStaging(const std::string& data_dir, const std::string& name = "");

}  // namespace roentgen::backup
