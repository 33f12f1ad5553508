// EntitySelectorExpression of GetTimeSeriesServiceStatistics: which service or
// edge a time series is about. Accepted forms (the service/edge/id forms of the
// filter language; X-Ray documents no other):
//   service("name")
//   service(id(name: "n", type: "t", account.id: "a"))   each part optional
//   edge("source", "destination")                        either side may be id(...)
// A name matches a service's Name. Errors: InvalidArgument with the position.
// Pure, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "graph/service_graph.h"

namespace roentgen::graph {

struct ServiceMatcher {
  std::optional<std::string> name;
  std::optional<std::string> type;
  std::optional<std::string> account_id;
  bool Matches(const ServiceKey& key) const;
};

struct EntitySelector {
  enum class Kind { kService, kEdge };
  Kind kind = Kind::kService;
  ServiceMatcher service;      // the service, or the edge's source
  ServiceMatcher destination;  // edges only
};

Result<EntitySelector> ParseEntitySelector(std::string_view expression);

}  // namespace roentgen::graph
