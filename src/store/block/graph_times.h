// Format version 3's `graph` column keeps a trace graph's observation times
// relative to one base per row: the base in the stored record's summary
// start time (the rest of that summary stays blank), each observation's
// start and end as the difference from it (wrapping, so that any int64
// comes back exact). Absolute microseconds cost about eight varint bytes
// each, whose high bytes zstd codes again for every observation; offsets
// within a trace take two or three. Pure functions, thread-safe.
#pragma once

#include <cstdint>

#include "graph/trace_graph.h"

namespace roentgen::store::block {

// Every observation time of `g` (nodes' and edges'), minus `base`.
void RelativizeGraphTimes(graph::TraceGraph& g, int64_t base);
// The inverse: every observation time plus `base`.
void AbsolutizeGraphTimes(graph::TraceGraph& g, int64_t base);

}  // namespace roentgen::store::block
