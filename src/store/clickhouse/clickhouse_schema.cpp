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
//
// `documents` and `traces` are read by trace id, a few traces at a time
// (point reads, the writes' read-backs, a scan page's records), and
// ClickHouse reads whole granules: granules of 256 rows rather than the
// default 8,192 make a page of 32 records read 32 small granules (about 4 ms
// instead of 30 at 300,000 traces). Databases whose tables were created
// with the default granularity answer the same, slower.
constexpr const char* kCreateDocuments =
    "CREATE TABLE IF NOT EXISTS {} ("
    " trace_id String,"  // 16 bytes
    " entity_id UInt64,"
    " received_us Int64,"
    " complete UInt8,"      // parsed, and not in progress
    " doc_version UInt64,"  // complete << 62 | received_us: the version kept
    " inserted_us Int64,"   // the writer's stamp: breaks ties of versions
    " raw String"
    ") ENGINE = ReplacingMergeTree(doc_version) ORDER BY (trace_id, entity_id)"
    " SETTINGS index_granularity = 256";

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
    " PARTITION BY intDiv(start_us, toInt64(86400000000)) ORDER BY trace_id"
    " SETTINGS index_granularity = 256";

// Version 2: `trace_times`, the filter columns of `traces` again, keyed by
// start time for scans (ClickHouse narrows a read by its table's key alone,
// and `traces` is keyed by trace id for point reads and the writes'
// read-backs). A materialized view copies every row inserted into `traces`;
// a row of an older version stays where its start time put it until a
// merge or retention removes it (a scan answers a trace at its newest row
// only). Existing rows are copied once by the migration.
constexpr const char* kCreateTraceTimes =
    "CREATE TABLE IF NOT EXISTS {} ("
    " trace_id String, start_us Int64, updated_us Int64, version UInt64, created_us Int64,"
    " indexed UInt8, has_duration UInt8, duration_us Int64,"
    " has_response_time UInt8, response_time_us Int64,"
    " fault UInt8, error UInt8, throttle UInt8, partial UInt8,"
    " has_http_status UInt8, http_status Int32,"
    " users Array(String), node_names Array(String),"
    " annotation_keys Array(String), annotation_strings Array(String)"
    ") ENGINE = ReplacingMergeTree(version)"
    " PARTITION BY intDiv(start_us, toInt64(86400000000)) ORDER BY (start_us, trace_id)";

constexpr const char* kTraceTimesColumns =
    "trace_id, start_us, updated_us, version, created_us, indexed, has_duration, duration_us,"
    " has_response_time, response_time_us, fault, error, throttle, partial, has_http_status,"
    " http_status, users, node_names, annotation_keys, annotation_strings";

// Also version 2: `trace_values`, an index of the values scans look up
// exactly (filter_sql.h, IndexedValue): one row per string annotation and
// per user of every `traces` row, keyed by the value then the start time,
// so `annotation.email = "…"` reads its own rows only, whatever the range.
// Rows of older versions stay (a scan decides on each trace's newest
// record); identical rows fold at merges.
constexpr const char* kCreateTraceValues =
    "CREATE TABLE IF NOT EXISTS {} (value String, start_us Int64, trace_id String)"
    " ENGINE = ReplacingMergeTree"
    " PARTITION BY intDiv(start_us, toInt64(86400000000)) ORDER BY (value, start_us, trace_id)";

// What a `traces` row gives `trace_values`: its values, one row each.
constexpr const char* kTraceValuesSelect =
    "SELECT value, start_us, trace_id FROM traces{0} ARRAY JOIN"
    " arrayConcat(arrayMap(x -> concat('{1}', x), annotation_strings),"
    " arrayMap(x -> concat('{2}', x), users)) AS value";

// The statements of version 2 for the tables named with `suffix` ("" or
// kShardTableSuffix): each table, the view that fills it (before the copy of
// what `traces` holds, so no insert falls between them; a row both copied
// and viewed is one row after merges, and a scan answers it once), the copy.
std::vector<std::string> TraceTimesStatements(const std::string& suffix) {
  return {fmt::format(fmt::runtime(kCreateTraceTimes), "trace_times" + suffix),
          fmt::format("CREATE MATERIALIZED VIEW IF NOT EXISTS trace_times_view{0} TO"
                      " trace_times{0} AS SELECT {1} FROM traces{0}",
                      suffix, kTraceTimesColumns),
          fmt::format("INSERT INTO trace_times{0} SELECT {1} FROM traces{0}", suffix,
                      kTraceTimesColumns),
          fmt::format(fmt::runtime(kCreateTraceValues), "trace_values" + suffix),
          fmt::format("CREATE MATERIALIZED VIEW IF NOT EXISTS trace_values_view{0} TO"
                      " trace_values{0} AS {1}",
                      suffix,
                      fmt::format(fmt::runtime(kTraceValuesSelect), suffix, kAnnotationValuePrefix,
                                  kUserValuePrefix)),
          fmt::format("INSERT INTO trace_values{0} {1}", suffix,
                      fmt::format(fmt::runtime(kTraceValuesSelect), suffix, kAnnotationValuePrefix,
                                  kUserValuePrefix))};
}

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
      {2, TraceTimesStatements("")},
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
      {2,
       [&] {
         std::vector<std::string> statements = TraceTimesStatements(suffix);
         for (const char* table : {"trace_times", "trace_values"}) {
           statements.push_back(
               CreateDistributed(table, cluster, database, "cityHash64(trace_id)"));
         }
         return statements;
       }()},
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
