// How RocksDbStore narrows a filtered scan: the one secondary index value
// (store_keys.h, IndexKind) whose entries every trace the filter matches has.
//
// The planner looks only at conditions every matching trace must satisfy: the
// whole filter, or a conjunct of a top-level AND (groups and nested ANDs are
// looked through; OR and NOT are not). Among them it prefers, in order:
// annotation equality, user equality, a named service(…), http.status
// equality, then fault / error / throttle being true. The index may hold
// traces that do not satisfy the filter (a service's type is not indexed, the
// rest of the expression is not looked at): the scan evaluates the filter on
// every trace it reads, so the choice changes speed, never an answer. Pure,
// thread-safe.
#pragma once

#include <optional>
#include <string>

#include "filter/bind.h"
#include "xray/trace.h"

namespace roentgen::store {

// A condition a secondary index answers: every trace that satisfies it has an
// entry under IndexPrefix(condition) (store_keys.h).
struct IndexCondition {
  enum class Kind {
    kAnnotationEquals,  // key + value
    kServiceName,       // text (any of the service's names)
    kUser,              // text
    kHttpStatus,        // number
    kFault,             // root fault
    kError,             // root error
    kThrottle,          // any throttle
  };
  Kind kind = Kind::kFault;
  std::string key;              // annotation key
  std::string text;             // service name / user
  xray::AnnotationValue value;  // annotation value
  int http_status = 0;
};

// The index condition to scan for `filter`, or none (walk the time index).
std::optional<IndexCondition> ChooseIndex(const filter::BoundNode& filter);

}  // namespace roentgen::store
