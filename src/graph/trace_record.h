// TraceRecord: what the server keeps of one trace besides its documents — its
// X-Ray summary and its trace graph. The store persists it and indexes it
// (store/store.h), filter expressions are evaluated on it (filter/filter.h).
#pragma once

#include "graph/trace_graph.h"
#include "xray/trace.h"

namespace roentgen::graph {

struct TraceRecord {
  xray::TraceSummary summary;
  TraceGraph graph;
};

}  // namespace roentgen::graph
