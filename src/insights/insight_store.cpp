#include "insights/insight_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace roentgen::insights {

Result<std::map<std::string, Insight, std::less<>>> InsightStore::ReadAll() const {
  Result<std::vector<std::pair<std::string, std::string>>> records =
      store_.ListConfig(kInsightNamespace);
  if (!records.ok()) return records.status();
  std::map<std::string, Insight, std::less<>> out;
  for (const auto& [key, value] : *records) {
    Result<Insight> insight = FromRecord(value);
    if (!insight.ok()) {
      spdlog::warn("insights: skipping the stored insight {}: {}", key, insight.status().message());
      continue;
    }
    out.emplace(key, std::move(*insight));
  }
  return out;
}

Result<std::unique_ptr<InsightStore>> InsightStore::Open(store::Store& store) {
  std::unique_ptr<InsightStore> s(new InsightStore(store, /*shared=*/false));
  Result<std::map<std::string, Insight, std::less<>>> all = s->ReadAll();
  if (!all.ok()) return all.status();
  MutexLock lock(s->mu_);
  s->insights_ = std::move(*all);
  return s;
}

std::unique_ptr<InsightStore> InsightStore::OpenShared(store::Store& store) {
  return std::unique_ptr<InsightStore>(new InsightStore(store, /*shared=*/true));
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
  if (!shared_) insights_[copy.id] = std::move(copy);
  return Status::Ok();
}

Result<std::optional<Insight>> InsightStore::Lookup(std::string_view id) const {
  if (shared_) {
    Result<std::string> record = store_.GetConfig(kInsightNamespace, id);
    if (!record.ok()) {
      if (record.status().code() == StatusCode::kNotFound) return std::optional<Insight>();
      return record.status();
    }
    Result<Insight> insight = FromRecord(*record);
    if (!insight.ok()) {
      spdlog::warn("insights: skipping the stored insight {}: {}", id, insight.status().message());
      return std::optional<Insight>();
    }
    return std::optional<Insight>(std::move(*insight));
  }
  MutexLock lock(mu_);
  auto it = insights_.find(id);
  if (it == insights_.end()) return std::optional<Insight>();
  return std::optional<Insight>(it->second);
}

Result<std::vector<Insight>> InsightStore::Find(
    const std::function<bool(const Insight&)>& keep) const {
  std::vector<Insight> out;
  if (shared_) {
    Result<std::map<std::string, Insight, std::less<>>> all = ReadAll();
    if (!all.ok()) return all.status();
    for (auto& [id, insight] : *all) {
      if (keep(insight)) out.push_back(std::move(insight));
    }
    return out;
  }
  MutexLock lock(mu_);
  for (const auto& [id, insight] : insights_) {
    if (keep(insight)) out.push_back(insight);
  }
  return out;
}

std::optional<Insight> InsightStore::Get(std::string_view id) const {
  Result<std::optional<Insight>> found = Lookup(id);
  if (!found.ok()) {
    spdlog::warn("insights: cannot read the insight {}: {}", id, found.status().message());
    return std::nullopt;
  }
  return std::move(*found);
}

std::vector<Insight> InsightStore::Select(const std::function<bool(const Insight&)>& keep) const {
  Result<std::vector<Insight>> found = Find(keep);
  if (!found.ok()) {
    spdlog::warn("insights: cannot read the insights: {}", found.status().message());
    return {};
  }
  return std::move(*found);
}

Status InsightStore::Expire(int64_t now_us) {
  auto expired = [&](const Insight& i) {
    return i.end_time_us.value_or(i.last_update_time_us) < now_us - kInsightRetentionUs;
  };
  auto remove = [&](const std::string& id) {
    Status s = store_.DeleteConfig(kInsightNamespace, id);
    return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
  };
  if (shared_) {
    Result<std::vector<Insight>> old = Find(expired);
    if (!old.ok()) return old.status();
    for (const Insight& i : *old) RG_RETURN_IF_ERROR(remove(i.id));
    return Status::Ok();
  }
  MutexLock lock(mu_);
  for (auto it = insights_.begin(); it != insights_.end();) {
    if (expired(it->second)) {
      RG_RETURN_IF_ERROR(remove(it->first));
      it = insights_.erase(it);
    } else {
      ++it;
    }
  }
  return Status::Ok();
}

size_t InsightStore::size() const {
  if (shared_) return Select([](const Insight&) { return true; }).size();
  MutexLock lock(mu_);
  return insights_.size();
}

}  // namespace roentgen::insights
