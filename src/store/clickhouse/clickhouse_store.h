// ClickHouseStore: the scale-out engine. The Store interface (store/store.h)
// over a ClickHouse database reached through its HTTP interface
// (clickhouse_client.h), so that any number of stateless Roentgen nodes share
// one store: `roentgen serve --store clickhouse://HOST:PORT/DB`, or over a
// cluster of shards, `clickhouse://HOST:PORT,HOST:PORT/DB?cluster=NAME`.
// docs/storage.md ("ClickHouse engine") describes the tables, the write
// path and why nodes agree, the filter pushdown, retention and the limits.
//
// Writes: the documents of a batch in one INSERT; then every document of the
// touched traces is read back and each trace's record is computed from them
// (summary and graph, as the ingest writer computes it), so a trace whose
// segments reach different nodes gets the summary of all of them; the records
// in one INSERT. Reads take the newest row of each key. Scans push the
// conditions the filter implies down to SQL (filter_sql.h) and re-check every
// row with CompiledFilter::Matches, so answers are the in-memory engine's.
//
// Thread safety: every method may be called from any thread. Errors follow
// store.h: Unavailable when ClickHouse cannot be reached, IOError when an
// exchange fails midway, Corruption when a stored record does not decode,
// InvalidArgument when ClickHouse refuses a statement.
#pragma once

#include <cstdint>
#include <memory>

#include "common/clock.h"
#include "common/status.h"
#include "store/clickhouse/clickhouse_client.h"
#include "store/store.h"

namespace roentgen::store::clickhouse {

struct ClickHouseStoreOptions {
  // One server, or with url.cluster every server of a cluster of shards
  // (docs/storage.md, "Sharded deployment"): the store then creates each
  // server's local tables and the Distributed tables over them, and refuses
  // a URL that leaves a server of the cluster out.
  ClickHouseUrl url;
  ClickHouseClientOptions client;
  // Traces that started longer ago than this are deleted by a background
  // thread every retention_interval_us (0: never; DeleteOlderThan still
  // works). Every node may run it: deleting twice is harmless.
  int64_t retention_us = 0;
  int64_t retention_interval_us = 3'600'000'000;
  const Clock* clock = nullptr;  // System() when null; must outlive the store
  // Rows a scan asks for at a time at most (it starts smaller and doubles).
  size_t scan_page_rows = 1024;
};

// Connects, creates the database and tables when missing and applies the
// schema migrations the database lacks (clickhouse_schema.h). Errors:
// Unavailable (ClickHouse unreachable), InvalidArgument (refused, or a schema
// newer than this binary), IOError.
Result<std::unique_ptr<Store>> OpenClickHouseStore(const ClickHouseStoreOptions& options);

}  // namespace roentgen::store::clickhouse
