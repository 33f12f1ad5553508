// Root-cause analysis for the trace summary (internal to rg_xray; used by
// Summarize). Fills TraceSummary::{fault,error,response_time}_root_causes.
//
// Rules (X-Ray documents the output shape, not the algorithm; these are ours):
// - The walk starts at the root segment. An entity's children are its
//   subsegments (nested and spliced) followed by the segments that name it as
//   parent_id (the services it called), in (start, id) order.
// - Fault (error): the path runs from the root through children that have
//   `fault` (`error`) set, down the deepest such chain (ties: the first child).
//   There is a root cause when the root or any entity on the chain has the flag.
//   Only the last entity of the path lists exceptions ({type, message} of its
//   cause). ClientImpacting: the root itself has the flag.
// - Response time (only once the root segment has ended): the path runs from
//   the root through the longest child at each step (an unfinished child
//   counts as shortest; ties: the first) to a leaf. Each entity's coverage = its duration / the
//   trace duration (unset if either is unknown or the trace duration is 0). ClientImpacting: true.
// - The path is split into services at each segment: every service lists the
//   entities from its segment down to where the path leaves it. When the path
//   ends at an "aws"/"remote" subsegment whose callee sent no segment, the
//   inferred service (InferDownstreamService) is appended, inferred = true, with
//   one entity named after it and marked remote.
// - An entity is remote when its namespace is "remote" or any of its
//   exceptions is marked remote.
// Pure, thread-compatible.
#pragma once

#include <cstdint>
#include <optional>

#include "xray/trace.h"

namespace roentgen::xray {

void ComputeRootCauses(const AssembledTrace& trace, const Entity& root,
                       std::optional<int64_t> trace_duration_us, TraceSummary& summary);

}  // namespace roentgen::xray
