#include "store/clickhouse/clickhouse_schema.h"

#include <fmt/format.h>

#include <charconv>

namespace roentgen::store::clickhouse {
namespace {

// Version 1. Ids are binary (16-byte trace ids, entity ids as numbers), times
// integer microseconds. Every table is a ReplacingMergeTree: a write never
// updates a row, it adds a newer one, and reads pick the newest row of each
// key with argMax over (version, inserted_us) — merges drop the older rows
// later, and keep the same one (the greatest version; on a tie the one
// inserted last, which the store's stamps order the same way).
constexpr const char* kCreateDocuments =
    "CREATE TABLE IF NOT EXISTS {} ("
    " trace_id String,"  // 16 bytes
    " entity_id UInt64,"
    " received_us Int64,"
    " complete UInt8,"      // parsed, and not in progress
    " doc_version UInt64,"  // complete << 62 | received_us: the version kept
    " inserted_us Int64,"   // the writer's stamp: breaks ties of versions
    " raw String"
    ") ENGINE = ReplacingMergeTree(doc_version) ORDER BY (trace_id, entity_id)";

constexpr const char* kCreateTraces =
    "CREATE TABLE IF NOT EXISTS {} ("
    " trace_id String,"
    " start_us Int64,"
    " updated_us Int64,"
    " version UInt64,"  // documents seen << 40 | writer's time: more documents win
    " inserted_us Int64,"
    " created_us Int64,"  // the stamp of the trace's first record (scan snapshots)
    " revision UInt32,"   // the summary's: the next write of the trace takes one more
    " indexed UInt8,"
    " has_duration UInt8, duration_us Int64,"
    " has_response_time UInt8, response_time_us Int64,"
    " fault UInt8, error UInt8, throttle UInt8, partial UInt8,"
    " has_http_status UInt8, http_status Int32,"
    " http_method String, http_url String, http_user_agent String, http_client_ip String,"
    " users Array(String),"
    " node_names Array(String),"  // every name of every trace-graph node
    " annotation_keys Array(String),"
    " annotation_strings Array(String),"  // key, a NUL byte, value: string values
    " record String"                      // record_codec.h: the authority for answers
    ") ENGINE = ReplacingMergeTree(version)"
    " PARTITION BY intDiv(start_us, toInt64(86400000000)) ORDER BY trace_id";

constexpr const char* kCreateConfig =
    "CREATE TABLE IF NOT EXISTS {} ("
    " ns String, key String, value String, deleted UInt8, version UInt64"
    ") ENGINE = ReplacingMergeTree(version) ORDER BY (ns, key)";

const char* const kCreateVersionTable =
    "CREATE TABLE IF NOT EXISTS roentgen_schema_version (version UInt32, applied_us Int64)"
    " ENGINE = MergeTree ORDER BY version";

// A Distributed table over the shards' local tables `table`_local of the
// same database, rows placed by `key`.
std::string CreateDistributed(std::string_view table, std::string_view cluster,
                              std::string_view database, std::string_view key) {
  return fmt::format(
      "CREATE TABLE IF NOT EXISTS {0} AS {0}{1} ENGINE = Distributed({2}, {3}, {0}{1}, {4})", table,
      kShardTableSuffix, cluster, database, key);
}

}  // namespace

const std::vector<Migration>& SchemaMigrations() {
  static const std::vector<Migration> migrations = {
      {1,
       {fmt::format(fmt::runtime(kCreateDocuments), "documents"),
        fmt::format(fmt::runtime(kCreateTraces), "traces"),
        fmt::format(fmt::runtime(kCreateConfig), "config")}},
  };
  return migrations;
}

std::vector<Migration> ShardedSchemaMigrations(std::string_view cluster,
                                               std::string_view database) {
  const std::string suffix(kShardTableSuffix);
  return {
      {1,
       {fmt::format(fmt::runtime(kCreateDocuments), "documents" + suffix),
        fmt::format(fmt::runtime(kCreateTraces), "traces" + suffix),
        fmt::format(fmt::runtime(kCreateConfig), "config" + suffix),
        // Every row of a trace, documents and records, on one shard.
        CreateDistributed("documents", cluster, database, "cityHash64(trace_id)"),
        CreateDistributed("traces", cluster, database, "cityHash64(trace_id)"),
        CreateDistributed("config", cluster, database, "cityHash64(ns, key)")}},
  };
}

Result<uint32_t> ReadSchemaVersion(ClickHouseClient& client) {
  RG_RETURN_IF_ERROR(client.Execute(kCreateVersionTable));
  Result<std::string> answer = client.Query("SELECT max(version) FROM roentgen_schema_version");
  if (!answer.ok()) return answer.status();
  std::string_view text = *answer;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  uint32_t version = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Status::Corruption(
        fmt::format("{}: roentgen_schema_version holds no version number ('{}')",
                    client.url().ToString(), std::string(text)));
  }
  return version;
}

Status MigrateSchema(ClickHouseClient& client, const std::vector<Migration>& migrations) {
  Result<std::string> created =
      client.QueryWithoutDatabase("CREATE DATABASE IF NOT EXISTS " + client.url().database);
  if (!created.ok()) return created.status();
  Result<uint32_t> current = ReadSchemaVersion(client);
  if (!current.ok()) return current.status();
  const uint32_t known = migrations.empty() ? 0 : migrations.back().version;
  if (*current > known) {
    return Status::InvalidArgument(
        fmt::format("{}: the database holds schema version {}, newer than this binary knows ({}): "
                    "upgrade roentgen",
                    client.url().ToString(), *current, known));
  }
  for (const Migration& m : migrations) {
    if (m.version <= *current) continue;
    for (const std::string& statement : m.statements) {
      if (Status s = client.Execute(statement); !s.ok()) {
        return Status(s.code(),
                      fmt::format("schema migration to version {}: {}", m.version, s.message()));
      }
    }
    RG_RETURN_IF_ERROR(client.Execute(fmt::format(
        "INSERT INTO roentgen_schema_version VALUES ({}, toInt64(toUInt64(now()) * 1000000))",
        m.version)));
  }
  return Status::Ok();
}

}  // namespace roentgen::store::clickhouse
