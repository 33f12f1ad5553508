#include "insights/insight_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace roentgen::insights {

Result<std::unique_ptr<InsightStore>> InsightStore::Open(store::Store& store) {
  std::unique_ptr<InsightStore> s(new InsightStore(store));
  Result<std::vector<std::pair<std::string, std::string>>> records =
      store.ListConfig(kInsightNamespace);
  if (!records.ok()) return records.status();
  MutexLock lock(s->mu_);
  for (const auto& [key, value] : *records) {
    Result<Insight> insight = FromRecord(value);
    if (!insight.ok()) {
      spdlog::warn("insights: skipping the stored insight {}: {}", key, insight.status().message());
      continue;
    }
    s->insights_.emplace(key, std::move(*insight));
  }
  return s;
}

Status InsightStore::Put(const Insight& insight) {
  Insight copy = insight;
  if (copy.events.size() > kMaxEventsPerInsight) {
    // Keep the opening event and the newest ones.
    copy.events.erase(copy.events.begin() + 1,
                      copy.events.end() - static_cast<std::ptrdiff_t>(kMaxEventsPerInsight - 1));
  }
  MutexLock lock(mu_);
  RG_RETURN_IF_ERROR(store_.PutConfig(kInsightNamespace, copy.id, ToRecord(copy)));
  insights_[copy.id] = std::move(copy);
  return Status::Ok();
}

std::optional<Insight> InsightStore::Get(std::string_view id) const {
  MutexLock lock(mu_);
  auto it = insights_.find(id);
  if (it == insights_.end()) return std::nullopt;
  return it->second;
}

std::vector<Insight> InsightStore::Select(const std::function<bool(const Insight&)>& keep) const {
  MutexLock lock(mu_);
  std::vector<Insight> out;
  for (const auto& [id, insight] : insights_) {
    if (keep(insight)) out.push_back(insight);
  }
  return out;
}

Status InsightStore::Expire(int64_t now_us) {
  MutexLock lock(mu_);
  for (auto it = insights_.begin(); it != insights_.end();) {
    const int64_t last = it->second.end_time_us.value_or(it->second.last_update_time_us);
    if (last < now_us - kInsightRetentionUs) {
      Status s = store_.DeleteConfig(kInsightNamespace, it->first);
      if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
      it = insights_.erase(it);
    } else {
      ++it;
    }
  }
  return Status::Ok();
}

size_t InsightStore::size() const {
  MutexLock lock(mu_);
  return insights_.size();
}

}  // namespace roentgen::insights
