// Rebuilds the service-graph rollups from the store at start-up: the rollups
// live in memory only, so after a restart they are refilled by adding the
// graph of every stored trace record in the rollups' retention window
// (docs/service-map.md, "Persistence"; figures in docs/benchmarks.md).
//
// Runs while the ingest pipeline already writes: the caller runs this
// (usually on its own thread) and starts the writer once `on_snapshot` has
// been called; graph::RollupStore keeps every trace counted once whatever the
// interleaving. Until it returns OK, rollups.rebuilding() is true and the
// service-map APIs answer from trace scans instead (api/xray_graph.cpp).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "common/status.h"
#include "graph/rollup_store.h"
#include "store/store.h"

namespace roentgen::api {

struct RebuildStats {
  uint64_t traces = 0;  // stored records visited
  double seconds = 0;
};

// Adds the graph of each trace whose time is in [now − retention, ∞) — later
// times included, as the writer accepts them too — and ends the rebuild.
// Begins it first (RollupStore::BeginRebuild, a no-op if the caller has).
// `stop` (optional) set to true makes it return Unavailable early, leaving
// the rebuild unfinished (for shutdown). A store error abandons the rebuild
// (RollupStore::AbandonRebuild) and is returned. `on_snapshot` (optional) is
// called exactly once, as soon as the scan has fixed its snapshot of the
// store (or when it returns without one): the writer must not commit before
// then, or a trace committed just before the snapshot could be counted by
// both (serve starts the pipeline after it).
Result<RebuildStats> RebuildRollups(store::Store& store, graph::RollupStore& rollups,
                                    int64_t retention_us, int64_t now_us,
                                    const std::atomic<bool>* stop = nullptr,
                                    const std::function<void()>& on_snapshot = {});

}  // namespace roentgen::api
