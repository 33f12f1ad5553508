// The insights, persisted in the store's config space (namespace
// kInsightNamespace, key = the InsightId, value = the record of insight.h).
//
// One process (Open): an in-memory copy, loaded at Open and kept by Put and
// Expire, answers the reads. Several processes over one store (OpenShared):
// another process's detector writes the insights, so there is no copy and
// every read goes to the store. Put replaces a whole record, so writing the
// same insight twice (two detectors during a leadership change) leaves one.
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
  // Reads from `store` at every call (a stored record that does not decode is
  // skipped and logged, as at Open).
  static std::unique_ptr<InsightStore> OpenShared(store::Store& store);

  // Inserts or replaces (by id), in the store first.
  Status Put(const Insight& insight) EXCLUDES(mu_);
  // The insight `id`, nullopt when there is none; errors: the store's.
  Result<std::optional<Insight>> Lookup(std::string_view id) const EXCLUDES(mu_);
  // Copies of the insights `keep` accepts; errors: the store's.
  Result<std::vector<Insight>> Find(const std::function<bool(const Insight&)>& keep) const
      EXCLUDES(mu_);
  // Lookup and Find with a store error logged and answered as nothing.
  std::optional<Insight> Get(std::string_view id) const EXCLUDES(mu_);
  std::vector<Insight> Select(const std::function<bool(const Insight&)>& keep) const EXCLUDES(mu_);
  // Deletes the insights whose last moment is before now − retention.
  Status Expire(int64_t now_us) EXCLUDES(mu_);
  size_t size() const EXCLUDES(mu_);

 private:
  InsightStore(store::Store& store, bool shared) : store_(store), shared_(shared) {}
  // Shared mode: every stored insight, by id.
  Result<std::map<std::string, Insight, std::less<>>> ReadAll() const;

  store::Store& store_;
  const bool shared_;
  mutable Mutex mu_;
  std::map<std::string, Insight, std::less<>> insights_ GUARDED_BY(mu_);
};

}  // namespace roentgen::insights
