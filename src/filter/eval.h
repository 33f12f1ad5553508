// The last stage: does a trace match a bound filter?
//
// Semantics (docs/filter-expressions.md has the full list):
//  - top-level keywords read the trace summary (its root segment's facts);
//    `ok` = not error, not fault, not throttle; responsetime / duration are
//    seconds; a value the trace does not have makes every comparison false
//    (including !=), and a bare string keyword means "set and not empty";
//  - list-valued keywords (user, availabilityzone, instance.id, resource.arn) and
//    annotations match when ANY of the trace's values matches; an annotation
//    compared with a value of another type (number vs string) does not match;
//    bare `annotation.k` is true when the key is set (a boolean: when true);
//  - service(…) / edge(…) match when any observation of a matching node / edge
//    satisfies the sub-filter; root-cause keywords when any root-cause element
//    at that level does;
//  - string comparisons are case-sensitive.
// Evaluation never allocates. Pure, thread-safe on const inputs.
#pragma once

#include "filter/bind.h"
#include "graph/trace_record.h"

namespace roentgen::filter {

bool Evaluate(const BoundNode& filter, const graph::TraceRecord& trace);

}  // namespace roentgen::filter
