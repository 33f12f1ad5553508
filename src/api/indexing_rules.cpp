#include "api/indexing_rules.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace roentgen::api {
namespace {

using nlohmann::json;

std::string Encode(double desired, int64_t modified_us) {
  return json{{"DesiredSamplingPercentage", desired}, {"ModifiedAt", modified_us}}.dump();
}

struct StoredRule {
  double desired = 100.0;
  int64_t modified_us = 0;
};

Result<StoredRule> DecodeStoredRule(const std::string& stored) {
  const json j = json::parse(stored, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("DesiredSamplingPercentage") ||
      !j["DesiredSamplingPercentage"].is_number() || !j.contains("ModifiedAt") ||
      !j["ModifiedAt"].is_number_integer()) {
    return Status::Corruption(fmt::format("indexing rule {}: stored value does not parse: {}",
                                          kDefaultIndexingRule, stored.substr(0, 200)));
  }
  return StoredRule{j["DesiredSamplingPercentage"].get<double>(), j["ModifiedAt"].get<int64_t>()};
}

}  // namespace

Result<std::unique_ptr<IndexingRules>> IndexingRules::Open(store::Store& store,
                                                            const Clock& clock) {
  std::unique_ptr<IndexingRules> rules(new IndexingRules(store, clock));
  Result<std::string> stored = store.GetConfig(kIndexingRuleNamespace, kDefaultIndexingRule);
  double desired = 100.0;
  int64_t modified_us = clock.NowMicros();
  if (stored.ok()) {
    Result<StoredRule> rule = DecodeStoredRule(*stored);
    if (!rule.ok()) return rule.status();
    desired = rule->desired;
    modified_us = rule->modified_us;
  } else if (stored.status().code() == StatusCode::kNotFound) {
    RG_RETURN_IF_ERROR(
        store.PutConfig(kIndexingRuleNamespace, kDefaultIndexingRule, Encode(desired, modified_us)));
  } else {
    return stored.status();
  }
  rules->policy_.SetPercentage(desired);
  {
    MutexLock lock(rules->mu_);
    rules->modified_us_ = modified_us;
  }
  if (store.DerivesRecords()) {
    IndexingRules* self = rules.get();
    rules->refresher_ = std::make_unique<PeriodicThread>(
        "rg-indexing", kSharedRefreshInterval, [self] {
          if (Status s = self->Refresh(); !s.ok()) {
            spdlog::warn("indexing rule: cannot read the shared store's: {}", s.ToString());
          }
        });
  }
  return rules;
}

Status IndexingRules::Refresh() {
  Result<std::string> stored = store_.GetConfig(kIndexingRuleNamespace, kDefaultIndexingRule);
  if (!stored.ok()) {
    // Not stored yet by any server: the default stands.
    return stored.status().code() == StatusCode::kNotFound ? Status::Ok() : stored.status();
  }
  Result<StoredRule> rule = DecodeStoredRule(*stored);
  if (!rule.ok()) return rule.status();
  MutexLock lock(mu_);
  policy_.SetPercentage(rule->desired);
  modified_us_ = rule->modified_us;
  return Status::Ok();
}

IndexingRule IndexingRules::Current() const {
  IndexingRule rule;
  rule.name = std::string(kDefaultIndexingRule);
  rule.desired_percentage = policy_.percentage();
  const uint64_t decided = policy_.decided();
  rule.actual_percentage = decided == 0 ? rule.desired_percentage
                                        : 100.0 * static_cast<double>(policy_.indexed()) /
                                              static_cast<double>(decided);
  rule.modified_us = modified_us_;
  return rule;
}

std::vector<IndexingRule> IndexingRules::List() {
  // Another server may have changed the rule; a store that cannot be read
  // now leaves the rule last read (the refresher logs it).
  if (store_.DerivesRecords()) (void)Refresh();
  MutexLock lock(mu_);
  return {Current()};
}

Result<IndexingRule> IndexingRules::Update(std::string_view name, double desired_percentage) {
  if (name != kDefaultIndexingRule) {
    return Status::NotFound(fmt::format("no indexing rule is named \"{}\" (there is one: {})",
                                        name.substr(0, 64), kDefaultIndexingRule));
  }
  if (!(desired_percentage >= 0 && desired_percentage <= 100)) {
    return Status::InvalidArgument(
        fmt::format("Rule.Probabilistic.DesiredSamplingPercentage: {} is not between 0 and 100",
                    desired_percentage));
  }
  MutexLock lock(mu_);
  const int64_t now = clock_.NowMicros();
  RG_RETURN_IF_ERROR(
      store_.PutConfig(kIndexingRuleNamespace, kDefaultIndexingRule, Encode(desired_percentage, now)));
  policy_.SetPercentage(desired_percentage);
  modified_us_ = now;
  return Current();
}

}  // namespace roentgen::api
