// Rebuilds the service-graph rollups from the store at start-up: the rollups
// live in memory only, so after a restart they are refilled by adding the
// graph of every stored trace record in the rollups' retention window
// (docs/service-map.md, "Persistence"; figures in docs/benchmarks.md).
//
// Must run before the ingest pipeline starts writing: a trace written during
// the rebuild could be counted twice. Thread safety: the rollup store locks.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "graph/rollup_store.h"
#include "store/store.h"

namespace roentgen::api {

struct RebuildStats {
  uint64_t traces = 0;
  double seconds = 0;
};

// Adds the graph of each trace whose time is in [now − retention, ∞) — later
// times included, as the writer accepts them too.
Result<RebuildStats> RebuildRollups(store::Store& store, graph::RollupStore& rollups,
                                    int64_t retention_us, int64_t now_us);

}  // namespace roentgen::api
