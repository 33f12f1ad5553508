// The service graph of one X-Ray group over a time range, as the insights
// detector and GetInsightImpactGraph read it.
//
// The Default group and groups without a filter: the per-minute rollups the
// writer keeps (graph/rollup_store.h), queried in place. A group with a filter
// expression (or any group while the rollups are still rebuilt after a
// restart): the rollups cannot tell which trace an observation came from, so
// the store scans the traces that start in the range with the filter, the
// matching ones are rolled up per minute into a local RollupStore, and that is
// queried. A scan examines at most `max_scanned` traces
// (store::ScanOptions::max_examined); beyond that Load() fails with ResourceExhausted rather
// than answer from part of the range (a baseline from a part would be wrong).
//
// Thread-safe: Load may be called from any thread; a view is used by one.
#pragma once

#include <cstdint>
#include <memory>

#include "api/group_registry.h"
#include "common/status.h"
#include "filter/bind.h"
#include "graph/rollup_store.h"
#include "store/store.h"

namespace roentgen::insights {

class GroupGraphView {
 public:
  virtual ~GroupGraphView() = default;
  // The group's services over the minutes that overlap [start_us, end_us),
  // which must lie within the range the view was loaded for.
  virtual graph::ServiceGraphResult Query(int64_t start_us, int64_t end_us) const = 0;
};

class GroupGraphs {
 public:
  GroupGraphs(store::Store& store, const graph::RollupStore& rollups,
              const filter::GroupResolver& groups, size_t max_scanned = 200'000)
      : store_(store), rollups_(rollups), groups_(groups), max_scanned_(max_scanned) {}

  // Errors: InvalidArgument (the group's filter no longer compiles, e.g. it
  // names a deleted group), ResourceExhausted (more than max_scanned traces),
  // store errors.
  Result<std::unique_ptr<GroupGraphView>> Load(const api::Group& group, int64_t start_us,
                                               int64_t end_us) const;

 private:
  store::Store& store_;
  const graph::RollupStore& rollups_;
  const filter::GroupResolver& groups_;
  const size_t max_scanned_;
};

}  // namespace roentgen::insights
