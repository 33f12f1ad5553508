// X-Ray's indexing rules: which share of the traces become searchable
// summaries. As in X-Ray there is one rule, "Default", probabilistic, whose
// DesiredSamplingPercentage (0–100, default 100: every trace) the ingest
// writer applies to new traces (ingest/indexing_policy.h); the others are
// kept and retrievable by id. The rule is persisted in the store's config
// space (namespace kIndexingRuleNamespace, key = the rule name, value =
// {"DesiredSamplingPercentage", "ModifiedAt" (epoch µs)}) and applied again
// at start. ActualSamplingPercentage is the share of the new traces indexed
// since the server started (the desired one before any).
//
// Over a store that several servers share (Store::DerivesRecords), another
// server may change the rule: List() reads it from the store first, and the
// ingest policy takes the stored rule again every kSharedRefreshInterval, so
// every server applies an update within that time.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/periodic_thread.h"
#include "common/status.h"
#include "ingest/indexing_policy.h"
#include "store/store.h"

namespace roentgen::api {

inline constexpr std::string_view kIndexingRuleNamespace = "xray.indexing_rules";
inline constexpr std::string_view kDefaultIndexingRule = "Default";

struct IndexingRule {
  std::string name;
  double desired_percentage = 100.0;
  double actual_percentage = 100.0;
  int64_t modified_us = 0;
};

class IndexingRules {
 public:
  // Reads the stored rule (storing the default one when there is none) and
  // applies it. Errors: the store's, or Corruption for a stored value that
  // does not parse.
  static Result<std::unique_ptr<IndexingRules>> Open(store::Store& store, const Clock& clock);

  // What the ingest pipeline applies (PipelineConfig::indexing).
  ingest::IndexingPolicy& policy() { return policy_; }

  // Reads the stored rule and applies it (servers sharing a store). Errors:
  // the store's, Corruption for a stored value that does not parse.
  Status Refresh() EXCLUDES(mu_);

  std::vector<IndexingRule> List() EXCLUDES(mu_);
  // NotFound for a name other than "Default"; InvalidArgument for a
  // percentage outside [0, 100].
  Result<IndexingRule> Update(std::string_view name, double desired_percentage) EXCLUDES(mu_);

 private:
  IndexingRules(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}
  IndexingRule Current() const REQUIRES(mu_);

  store::Store& store_;
  const Clock& clock_;
  ingest::IndexingPolicy policy_;
  mutable Mutex mu_;
  int64_t modified_us_ GUARDED_BY(mu_) = 0;
  // Over a shared store: takes the stored rule again periodically. Last, so
  // it stops before the fields it uses go.
  std::unique_ptr<PeriodicThread> refresher_;
};

inline constexpr std::chrono::seconds kSharedRefreshInterval{2};

}  // namespace roentgen::api
