// The insights, persisted in the store's config space (namespace
// kInsightNamespace, key = the InsightId, value = the record of insight.h),
// with an in-memory copy that reads are answered from.
//
// Bounded: insights that ended (or, while active, were last updated) more than
// kInsightRetentionUs ago are deleted by Expire(), X-Ray's 30 days; each
// insight keeps at most kMaxEventsPerInsight events.
//
// Thread-safe: every method may be called from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"
#include "insights/insight.h"
#include "store/store.h"

namespace roentgen::insights {

inline constexpr std::string_view kInsightNamespace = "xray.insights";
inline constexpr int64_t kInsightRetentionUs = 30LL * 24 * 3600 * 1'000'000;

class InsightStore {
 public:
  // Loads the stored insights; a record that does not decode is skipped and
  // logged (it would otherwise stop every start).
  static Result<std::unique_ptr<InsightStore>> Open(store::Store& store);

  // Inserts or replaces (by id), in the store first.
  Status Put(const Insight& insight) EXCLUDES(mu_);
  std::optional<Insight> Get(std::string_view id) const EXCLUDES(mu_);
  // Copies of the insights `keep` accepts.
  std::vector<Insight> Select(const std::function<bool(const Insight&)>& keep) const EXCLUDES(mu_);
  // Deletes the insights whose last moment is before now − retention.
  Status Expire(int64_t now_us) EXCLUDES(mu_);
  size_t size() const EXCLUDES(mu_);

 private:
  explicit InsightStore(store::Store& store) : store_(store) {}

  store::Store& store_;
  mutable Mutex mu_;
  std::map<std::string, Insight, std::less<>> insights_ GUARDED_BY(mu_);
};

}  // namespace roentgen::insights
