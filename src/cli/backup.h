// `roentgen backup` and `roentgen restore` (docs/operations.md,
// docs/storage.md "Backup and restore").
//
//   roentgen backup --data-dir D --to DIR
//       A consistent copy of the data dir D in DIR (new or empty). While a
//       server runs on D it is asked, through D/control.sock, for a snapshot
//       (backup/control_socket.h); a stopped data dir is opened here. The
//       copy holds every trace stored and every record waiting in a spool
//       when the backup began.
//   roentgen restore --from DIR --data-dir D
//       Copies the backup in DIR into the new or empty data dir D, checking
//       every file against the backup's manifest, and opens the store to
//       check it; a server then starts on D.
//
// Exit codes: 0 done, 1 failed (the reason on stderr; nothing is left half
// written).
#pragma once

#include <iosfwd>
#include <string>

namespace roentgen::cli {

struct BackupConfig {
  std::string data_dir;
  std::string to;
};

struct RestoreConfig {
  std::string from;
  std::string data_dir;
};

int RunBackup(const BackupConfig& config, std::ostream& out, std::ostream& err);
int RunRestore(const RestoreConfig& config, std::ostream& out, std::ostream& err);

}  // namespace roentgen::cli
