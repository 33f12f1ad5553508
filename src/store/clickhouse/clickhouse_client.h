// A client of ClickHouse's HTTP interface (https://clickhouse.com/docs/en/interfaces/http),
// the scale-out engine's only connection to its database
// (store/clickhouse/clickhouse_store.h). Works with Debian's ClickHouse 18.16
// and current releases: plain HTTP/1.1 POSTs, the statement in the `query`
// parameter, the data of an INSERT as the request body, the database in the
// `database` parameter, credentials in the X-ClickHouse-User and
// X-ClickHouse-Key headers.
//
// Connections are kept alive and reused (a pool of idle ones); every method
// may be called from any number of threads at once, each call using a
// connection of its own.
//
// Errors name the server and what failed:
//  - Unavailable: the server cannot be reached (refused, reset before an
//    answer, DNS), or answers 503; the call may be retried.
//  - IOError: the exchange failed midway or timed out.
//  - InvalidArgument: ClickHouse refused the statement (syntax, unknown
//    table or column, type mismatch, authentication); the message carries
//    ClickHouse's "Code: N" and its text (ClickHouseErrorCode reads N back).
//  - ResourceExhausted: ClickHouse ran out of memory or disk (codes 241, 243).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace roentgen::store::clickhouse {

// One server's HTTP address.
struct ClickHouseHost {
  std::string host;  // an IPv6 address without its brackets
  uint16_t port = 8123;
};

// Where the data lives: `clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE`
// (port 8123, ClickHouse's HTTP port, by default; user "default" with no
// password by default; an IPv6 host in brackets; %XX escapes in USER and
// PASSWORD, say for an '@' or ':' in them).
//
// A sharded layout (docs/storage.md, "Sharded deployment") names the cluster
// of the servers' `remote_servers` config and lists the HTTP address of
// every server of it, comma-separated:
// `clickhouse://[USER[:PASSWORD]@]HOST[:PORT],HOST[:PORT],…/DATABASE?cluster=NAME`.
// The first is the one queries go to; the store creates the tables on each.
struct ClickHouseUrl {
  std::string host;  // an IPv6 address without its brackets
  uint16_t port = 8123;
  std::string database;
  std::string user = "default";
  std::string password;
  // The cluster, empty for a single server.
  std::string cluster;
  // The cluster's servers after the first (host, port above).
  std::vector<ClickHouseHost> more_hosts;
  // The URL without the password (for logs and errors).
  std::string ToString() const;
  // One URL per server, the first this one's host: each without cluster or
  // more_hosts, with the same database and credentials.
  std::vector<ClickHouseUrl> Servers() const;
};

// Errors: InvalidArgument naming what is wrong (scheme, host, port,
// database missing or not [A-Za-z0-9_]+, a query parameter other than
// cluster=NAME, several hosts without a cluster).
Result<ClickHouseUrl> ParseClickHouseUrl(std::string_view text);

struct ClickHouseClientOptions {
  std::chrono::milliseconds connect_timeout{5000};
  // For the whole exchange of one statement.
  std::chrono::milliseconds query_timeout{60000};
  // Idle connections kept for reuse; more are opened when needed.
  size_t max_idle_connections = 8;
  // ClickHouse settings sent with every statement (as HTTP parameters),
  // say {"insert_distributed_sync", "1"}.
  std::vector<std::pair<std::string, std::string>> settings;
};

class ClickHouseClient {
 public:
  explicit ClickHouseClient(ClickHouseUrl url, ClickHouseClientOptions options = {});
  ~ClickHouseClient();
  ClickHouseClient(const ClickHouseClient&) = delete;
  ClickHouseClient& operator=(const ClickHouseClient&) = delete;

  // Runs one statement in the URL's database and returns the response body:
  // the rows in the statement's FORMAT (TabSeparated when it names none).
  // The server answers once the statement has finished, so a statement that
  // fails after producing rows is an error, never a body cut short.
  Result<std::string> Query(std::string_view sql);
  // Runs a statement whose answer is not needed (DDL, ALTER, …).
  Status Execute(std::string_view sql);
  // Sends `data` as the body of `insert_sql` ("INSERT INTO t FORMAT
  // RowBinary"): the rows are visible to every reader once this returns OK.
  Status Insert(std::string_view insert_sql, std::string_view data);
  // Like Query, but without a database (to create it: CREATE DATABASE).
  Result<std::string> QueryWithoutDatabase(std::string_view sql);

  const ClickHouseUrl& url() const { return url_; }
  // How many connections this client has opened so far (a pool that reuses
  // its connections keeps this small).
  uint64_t connections_opened() const;

 private:
  class Pool;
  // POSTs `body` with `query_param` (when not empty) as the `query`
  // parameter, in the URL's database when `with_database`.
  Result<std::string> Post(std::string_view query_param, std::string_view body, bool with_database);
  ClickHouseUrl url_;
  ClickHouseClientOptions options_;
  std::unique_ptr<Pool> pool_;
};

// ClickHouse's error code in a Status from this client ("Code: 60" → 60);
// nullopt when the error did not come from ClickHouse.
std::optional<int> ClickHouseErrorCode(const Status& status);

// `s` as a ClickHouse string literal: single quotes, with backslash, quote
// and control bytes escaped, so any bytes round-trip.
std::string QuoteString(std::string_view s);

}  // namespace roentgen::store::clickhouse
