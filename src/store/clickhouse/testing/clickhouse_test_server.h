// Tests only: a ClickHouse server of the test's own, started by PID on
// loopback with its data, logs and configuration in one directory, and
// stopped by PID. Never the system's service: the ClickHouse engine's tests
// (and the client's) work against this.
//
// Start writes config.xml and users.xml into the directory (HTTP, native
// and interserver ports chosen free on 127.0.0.1; a user "default" without
// a password and a user "roentgen" with the password kPassword, both from
// loopback only), forks and execs clickhouse-server (/usr/sbin/
// clickhouse-server, or the program that ROENTGEN_CLICKHOUSE_SERVER names)
// and waits until GET /ping answers "Ok." (60 s at most). The server gets
// SIGTERM when the thread that started it ends, so a crashed test leaves no
// server behind: start it from the test's main thread.
//
// The shared server (SharedClickHouseTestServer) is the one a test binary
// starts on first use, in a fresh temp directory, and stops at exit;
// NewTestDatabase gives each test a database of its own on it. The shared
// cluster (SharedClickHouseTestCluster) is two more servers, each a shard of
// a cluster their configs define, for the sharded layout.
//
// Errors: NotFound when clickhouse-server is not installed (naming
// scripts/install-deps.sh --with-tests), Unavailable when it does not come
// up (with the tail of its error log). Not thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/clickhouse/clickhouse_client.h"

namespace roentgen::store::clickhouse::testing {

class ClickHouseTestServer {
 public:
  // The user with a password (users.xml), for tests of authentication.
  static constexpr std::string_view kPasswordUser = "roentgen";
  static constexpr std::string_view kPassword = "s3cret 'pass\\word";

  // Starts a server whose files all live under `dir` (created if missing).
  static Result<std::unique_ptr<ClickHouseTestServer>> Start(const std::filesystem::path& dir);
  // Starts `shards` servers, each under `dir`/shardN (N from 1) with ports
  // of its own, whose configs all define the cluster `cluster`
  // (remote_servers): one shard per server, in order, each of one replica at
  // 127.0.0.1 and the server's native (TCP) port.
  static Result<std::vector<std::unique_ptr<ClickHouseTestServer>>> StartCluster(
      const std::filesystem::path& dir, std::string_view cluster, size_t shards);
  // Stops the server if it runs (SIGTERM, SIGKILL after 20 s).
  ~ClickHouseTestServer();
  ClickHouseTestServer(const ClickHouseTestServer&) = delete;
  ClickHouseTestServer& operator=(const ClickHouseTestServer&) = delete;

  // Stops the server and waits for it to exit; its data stays.
  Status Stop();
  // Ends the server at once (SIGKILL), for when its data is thrown away.
  void Kill();
  // Starts it again, on the same ports and data.
  Status Restart();
  bool running() const { return pid_ > 0; }

  pid_t pid() const { return pid_; }
  uint16_t http_port() const { return http_port_; }
  uint16_t tcp_port() const { return tcp_port_; }
  const std::filesystem::path& dir() const { return dir_; }
  // The URL of `database` on this server, as the user "default".
  ClickHouseUrl Url(std::string database = "default") const;

 private:
  explicit ClickHouseTestServer(std::filesystem::path dir) : dir_(std::move(dir)) {}
  static Status MakeDirs(const std::filesystem::path& dir);
  Status WriteConfig() const;
  // Starts the process with the current config and waits for /ping.
  Status Launch();
  std::string ErrorLogTail() const;

  std::filesystem::path dir_;
  uint16_t http_port_ = 0;
  uint16_t tcp_port_ = 0;
  uint16_t interserver_port_ = 0;
  // XML put into config.xml as it is (a cluster's remote_servers).
  std::string extra_config_;
  pid_t pid_ = -1;
};

// The test binary's one server, started on the first call (in a fresh temp
// directory, removed at exit). The same error on every call when it could
// not start.
Result<ClickHouseTestServer*> SharedClickHouseTestServer();

// Creates a database of its own name on the shared server and returns the
// name, so tests never see each other's tables.
Result<std::string> NewTestDatabase();

// The test binary's one cluster of two servers (StartCluster, the cluster
// kTestCluster), started on the first call, stopped at exit.
inline constexpr std::string_view kTestCluster = "roentgen_test";
Result<std::vector<ClickHouseTestServer*>> SharedClickHouseTestCluster();
// A URL naming every server of `servers` (the cluster kTestCluster) and
// `database`, the first server's first.
ClickHouseUrl ClusterUrl(const std::vector<ClickHouseTestServer*>& servers, std::string database);
// A database name no test of this binary used yet (the store creates it on
// every server).
std::string NewTestDatabaseName();

}  // namespace roentgen::store::clickhouse::testing
