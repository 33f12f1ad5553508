// Column predicates: trace-level numeric conditions that every trace a
// filter matches satisfies, for store engines that test them on a typed
// column (duration, response time, http status) before decoding records
// (the block engine, src/store/block/block_store.h).
//
// Only the whole filter and the conjuncts of its top-level AND count (nested
// ANDs are looked through); OR, NOT and the scopes of service(…), edge(…) and
// root-cause keywords are not looked into. So a trace that fails one
// predicate cannot match the filter, and one that passes them all must still
// be checked by CompiledFilter::Matches. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
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

}  // namespace roentgen::filter
