// Column predicates: trace-level conditions that every trace a filter
// matches satisfies, for store engines that test them on columns before
// decoding records (the block engine, src/store/block/block_store.h): numeric
// comparisons on a typed column (duration, response time, http status) and
// the service names service(…) / edge(…) require of the trace graph.
//
// Only the whole filter and the conjuncts of its top-level AND count (nested
// ANDs are looked through); OR, NOT and the scopes of service(…), edge(…) and
// root-cause keywords are not looked into. So a trace that fails one
// predicate cannot match the filter, and one that passes them all must still
// be checked by CompiledFilter::Matches. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "filter/bind.h"

namespace roentgen::filter {

struct NumberPredicate {
  Field field = Field::kResponseTime;  // kResponseTime, kDuration or kHttpStatus
  CompareOp op = CompareOp::kEq;
  double number = 0;  // seconds for the times, as the filter reads them

  // Whether a trace whose field holds `value` satisfies the predicate, as
  // the filter decides it: the times in microseconds, the status as is;
  // nothing (the trace lacks the value) never satisfies it, `!=` included.
  bool Matches(std::optional<int64_t> value) const;
};

// The numeric conditions the filter requires (empty when none).
std::vector<NumberPredicate> RequiredNumberPredicates(const BoundNode& filter);

// The names the filter requires graph nodes to answer to: the name of each
// service("x") and of each side of edge("a", "b") among the conjuncts. A
// trace none of whose graph nodes is called `x` (by its name or one of its
// other names, ServiceId::names) cannot match. Distinct, in first-seen order.
std::vector<std::string> RequiredServiceNames(const BoundNode& filter);

// The observation flags (Field::kFault, kError, kThrottle, each at most
// once) the filter requires of some graph node: a service(…) { … } among
// the conjuncts whose scope requires the flag true (alone, or among the
// scope's own conjuncts). A trace none of whose nodes has an observation
// with that flag cannot match.
std::vector<Field> RequiredNodeFlags(const BoundNode& filter);

}  // namespace roentgen::filter
