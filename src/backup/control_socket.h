// The data dir's control socket, DATA_DIR/control.sock: how `roentgen
// backup` asks the server that holds a data dir for a consistent snapshot of
// it (backup/staging.h). A second process cannot open the store while the
// server holds it (RocksDB's LOCK), and the server must not write where the
// operator wants the backup (under systemd it may write only its data dir):
// so the server stages the snapshot inside its data dir, and the backup
// command, running as the operator, copies it out.
//
// Protocol: one connection per backup, lines of text.
//   client: "backup 1"
//   server: "staged NAME" (DATA_DIR/backup-staging/NAME holds the snapshot)
//           or "error MESSAGE"
//   client: copies the snapshot, then "done" if the copy is complete, and
//           closes. The server removes the snapshot when the connection
//           closes, whatever came before, so a client that dies leaves
//           nothing behind. While one backup is staged, other clients get
//           "error" (one at a time).
//
// Who may ask: the socket is created with mode 0600 in the data dir, and the
// peer's uid (SO_PEERCRED) must be the server's or root's: the people who
// can read the data dir's files anyway. Nothing else is served on it.
//
// Metrics: roentgen_backups_total{result="completed"|"failed"} (failed: the
// snapshot could not be staged, or the client left without "done") and
// roentgen_backup_last_completed_seconds (Unix time of the last completed
// backup, 0 before one; alert on its age).
//
// Thread safety: ControlSocket runs one thread of its own (rg-control);
// Start and the destructor from the controlling thread. StagedByServer from
// any thread.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "common/files.h"
#include "common/metrics.h"
#include "common/status.h"
#include "store/store.h"

namespace roentgen::backup {

inline constexpr char kControlSocket[] = "control.sock";

class ControlSocket {
 public:
  // Removes what an earlier run left (a stale socket file, staged
  // snapshots; the caller holds the store, so no other server uses the data
  // dir), binds DATA_DIR/control.sock and serves it. `store` must outlive
  // the ControlSocket. Errors: IOError (the socket cannot be created).
  static Result<std::unique_ptr<ControlSocket>> Start(const std::string& data_dir,
                                                      store::Store& store,
                                                      MetricsRegistry& metrics);
  // Stops serving (a snapshot being staged is finished first), removes a
  // staged snapshot and the socket file.
  ~ControlSocket();
  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;

 private:
  ControlSocket(std::string data_dir, store::Store& store, MetricsRegistry& metrics);
  void Run();
  void Serve(UniqueFd client);  // one backup, until its client closes
  // Answers "error WHY" (after reading the client's request, when it has
  // not been read yet) and closes.
  void Refuse(UniqueFd client, const std::string& why, bool read_request);

  const std::string data_dir_;
  store::Store& store_;
  Counter& completed_;
  Counter& failed_;
  Gauge& last_completed_;
  UniqueFd listen_;
  UniqueFd dir_;  // the data dir, when its socket path is too long to bind directly
  UniqueFd stop_read_, stop_write_;
  std::thread thread_;
};

// A snapshot staged by the server for this process, kept until it is
// destroyed (which closes the connection: the server then removes it).
class StagedByServer {
 public:
  StagedByServer(UniqueFd connection, std::string name)
      : connection_(std::move(connection)), name_(std::move(name)) {}
  const std::string& name() const { return name_; }  // under DATA_DIR/backup-staging/
  // Tells the server the copy is complete (counted as completed).
  void Done();

 private:
  UniqueFd connection_;
  std::string name_;
};

// Asks the server holding `data_dir` to stage a snapshot. nullptr when no
// server answers there (no socket, or a stale one left by a crash).
// Errors: PermissionDenied (the socket belongs to another user: run as the
// server's user or root), Unavailable or the server's refusal (its message:
// another backup is running, the disk is full, …), IOError.
Result<std::unique_ptr<StagedByServer>> RequestSnapshot(const std::string& data_dir);

}  // namespace roentgen::backup
