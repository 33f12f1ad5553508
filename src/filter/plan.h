// The planning stage: which store index may narrow the scan.
//
// The planner looks only at conditions every matching trace must satisfy: the
// whole filter, or a conjunct of a top-level AND (groups and nested ANDs are
// looked through; OR and NOT are not). Among them it prefers, in order:
// annotation equality, user equality, a named service(…), http.status
// equality, then fault / error / throttle being true. The store may return
// traces that do not satisfy the condition; the evaluator always re-checks, so
// the choice can change speed but never an answer. Pure, thread-safe.
#pragma once

#include <optional>

#include "filter/bind.h"
#include "store/store.h"

namespace roentgen::filter {

std::optional<store::IndexCondition> ChooseIndex(const BoundNode& filter);

}  // namespace roentgen::filter
