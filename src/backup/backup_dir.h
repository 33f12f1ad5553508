// A backup directory: what `roentgen backup` writes and `roentgen restore`
// reads (docs/storage.md, "Backup and restore").
//
// Layout: a data dir — the store's files at the top, udp-spool/,
// otlp-spool/ and api-spool/ beside them — plus roentgen-backup.json, the manifest, written
// last (and fsynced, as every file before it): a directory without it is an
// unfinished backup. The manifest names every file with its size and
// SHA-256, so a restore detects a backup damaged in storage:
//
//   {"format": "roentgen-backup 1", "created": "2026-11-25T14:03:12Z",
//    "roentgen": "roentgen 0.1.0", "data_dir": "/var/lib/roentgen",
//    "server_running": true, "bytes": 123456,
//    "files": [{"path": "000012.sst", "bytes": 4280, "sha256": "9f86…"}, …]}
//
// Every file is a copy (never a link into the data dir), mode 0600, in
// directories of mode 0700: the backup holds every trace.
//
// Thread safety: none needed; one backup or restore per call.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace roentgen::backup {

inline constexpr char kManifestName[] = "roentgen-backup.json";

struct BackupInfo {
  std::string roentgen;  // the version that wrote it
  std::string data_dir;  // where it was taken from
  bool server_running = false;
};

struct CopyStats {
  uint64_t files = 0;
  uint64_t bytes = 0;
};

// Whether `to` can take a backup (missing, or an empty directory), to ask
// before a snapshot is taken. Errors: AlreadyExists, IOError.
Status CheckBackupTarget(const std::string& to);

// Copies the snapshot staged in `staged` (backup/staging.h) into `to`, a
// new or empty directory (created with its parents when missing), and
// writes the manifest last. On failure whatever it wrote is removed again.
// Errors: AlreadyExists (`to` is not an empty directory), ResourceExhausted
// (the disk holding `to` is full, or has too little room to begin with),
// PermissionDenied, IOError.
Result<CopyStats> WriteBackup(const std::string& staged, const std::string& to,
                              const BackupInfo& info);

// Copies the backup in `from` into the data dir `data_dir`, a new or empty
// directory, checking each file against the manifest. On failure whatever
// it wrote is removed again. Errors: NotFound (no backup, or one without
// its manifest: unfinished), Corruption (a file missing, or differing from
// the manifest; an unreadable manifest), AlreadyExists (`data_dir` is not
// empty), ResourceExhausted, PermissionDenied, IOError.
Result<CopyStats> RestoreBackup(const std::string& from, const std::string& data_dir);

}  // namespace roentgen::backup
