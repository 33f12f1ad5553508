// The insights part of `roentgen serve`: the stored insights, the detector
// over the rollups and the store, its timer thread (every
// --insights-interval), the webhook notifier (--insights-webhook) and the
// four insight APIs on the router. Started after the store, the rollups and
// the intake; stopped (the timer joined, then the notifier) before them.
//
// Over a store that several servers share (Store::DerivesRecords) the
// insights are read from the store at every call (another server may have
// written them), and the detector runs on one server at a time, the holder
// of the lease in the store (insights/leader_lease.h); this server's
// heartbeat is deleted when it stops, so another takes over at once.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "api/group_registry.h"
#include "api/http.h"
#include "common/metrics.h"
#include "common/status.h"
#include "graph/rollup_store.h"
#include "insights/detector.h"
#include "insights/group_graph.h"
#include "insights/insight_store.h"
#include "insights/leader_lease.h"
#include "insights/scheduler.h"
#include "insights/webhook.h"
#include "store/store.h"

namespace roentgen::cli {

struct InsightsPartConfig {
  std::chrono::seconds interval{60};
  std::string webhook_url;  // empty: no notifications
};

class InsightsPart {
 public:
  static Result<std::unique_ptr<InsightsPart>> Start(const InsightsPartConfig& config,
                                                     store::Store& store,
                                                     graph::RollupStore& rollups,
                                                     MetricsRegistry& metrics);
  ~InsightsPart();
  InsightsPart(const InsightsPart&) = delete;
  InsightsPart& operator=(const InsightsPart&) = delete;

  // GetInsightSummaries, GetInsight, GetInsightEvents, GetInsightImpactGraph.
  void AddRoutes(api::Router& router);

 private:
  InsightsPart(store::Store& store, graph::RollupStore& rollups);

  api::GroupRegistry groups_;
  insights::GroupGraphs graphs_;
  std::unique_ptr<insights::InsightStore> insights_;
  std::unique_ptr<insights::WebhookNotifier> webhook_;
  std::unique_ptr<insights::Detector> detector_;
  std::unique_ptr<insights::LeaderLease> lease_;  // null: the store is this server's alone
  std::unique_ptr<insights::Scheduler> scheduler_;
};

}  // namespace roentgen::cli
