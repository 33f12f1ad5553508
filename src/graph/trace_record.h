// TraceRecord: what the server keeps of one trace besides its documents — its
// X-Ray summary and its trace graph. The store persists it and indexes it
// (store/store.h), filter expressions are evaluated on it (filter/filter.h).
#pragma once

#include <cstddef>

#include "graph/trace_graph.h"
#include "xray/trace.h"

namespace roentgen::graph {

struct TraceRecord {
  xray::TraceSummary summary;
  TraceGraph graph;
};

// The memory a record holds: its own size and the heap of its strings and
// vectors (their capacities; allocator overhead not counted). A walk of the
// record, for bounds on what is held in memory (e.g. the block engine's
// heads), not for hot loops over many records.
size_t EstimateMemoryBytes(const TraceRecord& record);

}  // namespace roentgen::graph
