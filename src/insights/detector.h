// The insights detector: once a minute (EvaluateAt, called by the scheduler
// with the injected clock's time), for every group with insights enabled, each
// service's fault rate in the evaluation window is tested against its own
// trailing baseline (fault_rate_model.h), and insights are opened, updated and
// closed (docs/api.md, "Insights").
//
//   window    [m − window, m) where m is now rounded down to the minute (the
//             current minute is still filling and left out)
//   baseline  [m − window − baseline, m − window): the minutes before the
//             window. A service in an active insight is compared with the
//             baseline it had when it became anomalous (frozen in the
//             insight), so a long anomaly does not become its own baseline.
//
// Opening: the services that pass the opening test are grouped by root cause,
// the farthest-downstream anomalous service (one from which no other
// anomalous service can be reached along the group's service-graph edges);
// the insight holds the root cause and the anomalous services upstream of it.
// A newly anomalous service connected (either way along the edges) to the
// services of an active insight of its group joins that insight instead of
// opening another: one insight per incident.
//
// Updating: each evaluation re-tests the insight's services with the looser
// continuation test, re-derives the root cause, adds the requests of the new
// minutes to the impact statistics, and records an InsightEvent when the
// root cause or the set of anomalous services changes or the root cause's
// window fault rate doubles or halves since the last event.
//
// Closing: after `close_after_quiet` consecutive minute boundaries with no
// anomalous service left; EndTime = the end of that window. Active insights
// of a group that was deleted or had insights turned off are closed too.
//
// Impact statistics: RootCauseServiceRequestImpactStatistics = the root
// cause's requests since the insight started (faults, ok, total), and
// ClientRequestImpactStatistics = those of the group's entry services (the
// graph's root services, which clients call) over the same minutes. Minutes
// older than the window are counted once and for good; the window's minutes
// are recounted at each evaluation, so late segments are counted.
//
// Thread safety: EvaluateAt from one thread at a time (the scheduler's).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "api/group_registry.h"
#include "common/metrics.h"
#include "common/status.h"
#include "insights/fault_rate_model.h"
#include "insights/group_graph.h"
#include "insights/insight.h"
#include "insights/insight_store.h"

namespace roentgen::insights {

struct DetectorConfig {
  int64_t window_us = 5 * 60'000'000LL;
  int64_t baseline_us = 60 * 60'000'000LL;
  int close_after_quiet = 3;
  double notable_rate_factor = 2.0;
  FaultRateThresholds thresholds;
  Status Validate() const;
};

// Receives every event recorded, after it is stored (notifications).
class InsightSink {
 public:
  virtual ~InsightSink() = default;
  virtual void OnEvent(const api::Group& group, const Insight& insight,
                       const InsightEvent& event) = 0;
};

class Detector {
 public:
  // `sink` may be null; it is told of events of groups with notifications on.
  Detector(api::GroupRegistry& groups, const GroupGraphs& graphs, InsightStore& insights,
           MetricsRegistry& metrics, InsightSink* sink, DetectorConfig config = {});

  // Evaluates the window ending at the minute boundary at or before now_us.
  // Evaluating the same boundary again is harmless (statistics are added once,
  // the close countdown advances only with the boundary). A group whose graph
  // cannot be read is skipped (logged, counted) and the others go on; the
  // first such error is returned.
  Status EvaluateAt(int64_t now_us);

 private:
  Status EvaluateGroup(const api::Group& group, int64_t now_us, int64_t window_end_us);
  void Record(Insight& insight, InsightEvent event);
  // Stores the insight, then tells the sink of its events from `events_before` on.
  Status Commit(const api::Group& group, const Insight& insight, size_t events_before);

  api::GroupRegistry& groups_;
  const GroupGraphs& graphs_;
  InsightStore& insights_;
  InsightSink* const sink_;
  const DetectorConfig config_;
  Counter& evaluations_;
  Counter& errors_;
  Counter& opened_;
  Counter& closed_;
  Counter& events_;
};

}  // namespace roentgen::insights
