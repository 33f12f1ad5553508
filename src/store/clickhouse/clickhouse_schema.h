// The scale-out engine's tables in ClickHouse and their versions
// (docs/storage.md, "ClickHouse engine"). The database records the schema
// version it holds in `roentgen_schema_version` (one row per migration
// applied); opening a store applies the migrations the database lacks, in
// order, and refuses a database whose version is newer than this binary
// knows. Every statement works on ClickHouse 18.16 and on current releases.
//
// Thread safety: the functions may run concurrently, from several processes
// too (every statement is idempotent: IF NOT EXISTS).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/clickhouse/clickhouse_client.h"

namespace roentgen::store::clickhouse {

// One step of the schema: the statements that bring version `version` - 1
// to `version`.
struct Migration {
  uint32_t version = 0;
  std::vector<std::string> statements;
};

// The migrations this binary knows, in order (1, 2, …).
const std::vector<Migration>& SchemaMigrations();
inline constexpr uint32_t kSchemaVersion = 2;

// The same migrations for a shard of a sharded layout (docs/storage.md,
// "Sharded deployment"): the tables of SchemaMigrations() under the names
// with kShardTableSuffix (documents_local, …), holding the shard's rows, and
// under the plain names Distributed tables over every shard's of `cluster`,
// placing the rows of a trace by cityHash64(trace_id) and a config object
// by cityHash64(ns, key). Applied on every server of the cluster; each
// records its own version.
std::vector<Migration> ShardedSchemaMigrations(std::string_view cluster, std::string_view database);
inline constexpr std::string_view kShardTableSuffix = "_local";

// The values of `trace_values` (version 2): one row per string annotation
// (kAnnotationValuePrefix, the key, a NUL byte, the value) and per user
// (kUserValuePrefix, the user) of every `traces` row.
inline constexpr std::string_view kAnnotationValuePrefix = "a";
inline constexpr std::string_view kUserValuePrefix = "u";

// The version the database holds (0: none yet, the table is created empty).
Result<uint32_t> ReadSchemaVersion(ClickHouseClient& client);

// Creates the database if missing, then applies `migrations` (in order, each
// recorded once applied) the database lacks. Errors: InvalidArgument when the
// database holds a version past the last of `migrations` (a newer binary
// wrote it), or what the client returns.
Status MigrateSchema(ClickHouseClient& client, const std::vector<Migration>& migrations);

}  // namespace roentgen::store::clickhouse
