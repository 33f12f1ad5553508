// Sampling rules persisted in the store's config space. See rule_registry.h.
#include "sampling/rule_registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <utility>

namespace roentgen::sampling {
namespace {

constexpr std::string_view kLastDeletionKey = "last_deletion_us";
constexpr size_t kMaxArnInMessage = 200;

bool Before(const RuleRecord& a, const RuleRecord& b) {
  if (a.rule.priority != b.rule.priority) return a.rule.priority < b.rule.priority;
  return a.rule.rule_name < b.rule.rule_name;
}

// "<priority>/<name>" of the first rule of the next page.
std::string PageToken(const SamplingRule& rule) {
  return fmt::format("{}/{}", rule.priority, rule.rule_name);
}

Status BadToken() { return Status::InvalidArgument("NextToken: not a token this server issued"); }

Status UnknownRule(const RuleRef& ref) {
  return Status::InvalidArgument(fmt::format("{}: no sampling rule named '{}'",
                                             ref.by_arn ? "RuleARN" : "RuleName",
                                             ref.name_or_arn.substr(0, kMaxArnInMessage)));
}

}  // namespace

RuleRegistry::RuleRegistry(store::Store& store, const Clock& clock, Identity identity,
                           size_t max_user_rules)
    : store_(store),
      clock_(clock),
      identity_(std::move(identity)),
      max_user_rules_(max_user_rules) {}

std::string RuleRegistry::Arn(std::string_view rule_name) const {
  return fmt::format("arn:aws:xray:{}:{}:sampling-rule/{}", identity_.region, identity_.account_id,
                     rule_name);
}

Result<std::string> RuleRegistry::NameOfArn(std::string_view arn) const {
  const std::string prefix = Arn("");
  if (!arn.starts_with(prefix) || arn.size() == prefix.size()) {
    return Status::InvalidArgument(
        fmt::format("RuleARN: '{}' is not a sampling rule ARN of this server "
                    "(arn:aws:xray:{}:{}:sampling-rule/<name>)",
                    arn.substr(0, kMaxArnInMessage), identity_.region, identity_.account_id));
  }
  return std::string(arn.substr(prefix.size()));
}

Result<RuleRecord> RuleRegistry::Load(std::string_view name) const {
  Result<std::string> value = store_.GetConfig(kRuleNamespace, name);
  if (!value.ok()) {
    if (value.status().code() != StatusCode::kNotFound) return value.status();
    if (IsDefault(name)) return RuleRecord{DefaultRule(), 0, 0, {}};
    return Status::NotFound(std::string(name));
  }
  return DecodeRecord(name, *value);
}

Result<RuleRecord> RuleRegistry::Resolve(const RuleRef& ref) const {
  std::string name = ref.name_or_arn;
  if (ref.by_arn) {
    Result<std::string> from_arn = NameOfArn(ref.name_or_arn);
    if (!from_arn.ok()) return from_arn.status();
    name = std::move(*from_arn);
  }
  Result<RuleRecord> record = Load(name);
  if (!record.ok() && record.status().code() == StatusCode::kNotFound) return UnknownRule(ref);
  return record;
}

Status RuleRegistry::Save(const RuleRecord& record) {
  return store_.PutConfig(kRuleNamespace, record.rule.rule_name, EncodeRecord(record));
}

Status RuleRegistry::NoteDeletion(int64_t at_us) {
  return store_.PutConfig(kMetaNamespace, kLastDeletionKey, std::to_string(at_us));
}

Result<RuleRecord> RuleRegistry::Create(SamplingRule rule, Tags tags) {
  if (IsDefault(rule.rule_name)) {
    return Status::InvalidArgument(
        "SamplingRule.RuleName: Default is the name of the default sampling rule, which always "
        "exists");
  }
  RG_RETURN_IF_ERROR(ValidateRule(rule, "SamplingRule"));
  RG_RETURN_IF_ERROR(xray::ValidateResourceTags(tags, "Tags"));
  std::sort(rule.attributes.begin(), rule.attributes.end());
  MutexLock lock(mu_);
  Result<std::vector<std::pair<std::string, std::string>>> existing =
      store_.ListConfig(kRuleNamespace);
  if (!existing.ok()) return existing.status();
  size_t user_rules = 0;
  for (const auto& [name, value] : *existing) {
    if (name == rule.rule_name) {
      return Status::InvalidArgument(fmt::format(
          "SamplingRule.RuleName: a sampling rule named '{}' already exists", rule.rule_name));
    }
    if (!IsDefault(name)) ++user_rules;
  }
  if (user_rules >= max_user_rules_) {
    return Status::ResourceExhausted(
        fmt::format("This server keeps at most {} sampling rules besides Default; delete one first",
                    max_user_rules_));
  }
  RuleRecord record;
  record.rule = std::move(rule);
  record.created_at_us = record.modified_at_us = clock_.NowMicros();
  record.tags = std::move(tags);
  RG_RETURN_IF_ERROR(Save(record));
  return record;
}

Result<RuleRecord> RuleRegistry::Get(const RuleRef& ref) const { return Resolve(ref); }

Result<RuleRecord> RuleRegistry::Update(const RuleRef& ref, const RuleUpdate& update) {
  MutexLock lock(mu_);
  Result<RuleRecord> record = Resolve(ref);
  if (!record.ok()) return record.status();
  Result<SamplingRule> updated = ApplyUpdate(record->rule, update);
  if (!updated.ok()) return updated.status();
  record->rule = std::move(*updated);
  std::sort(record->rule.attributes.begin(), record->rule.attributes.end());
  record->modified_at_us = clock_.NowMicros();
  RG_RETURN_IF_ERROR(Save(*record));
  return record;
}

Result<RuleRecord> RuleRegistry::Delete(const RuleRef& ref) {
  MutexLock lock(mu_);
  Result<RuleRecord> record = Resolve(ref);
  if (!record.ok()) return record.status();
  if (IsDefault(record->rule.rule_name)) {
    return Status::InvalidArgument("RuleName: the Default sampling rule cannot be deleted");
  }
  RG_RETURN_IF_ERROR(store_.DeleteConfig(kRuleNamespace, record->rule.rule_name));
  RG_RETURN_IF_ERROR(NoteDeletion(clock_.NowMicros()));
  return record;
}

Result<std::vector<RuleRecord>> RuleRegistry::List() const {
  Result<std::vector<std::pair<std::string, std::string>>> entries =
      store_.ListConfig(kRuleNamespace);
  if (!entries.ok()) return entries.status();
  std::vector<RuleRecord> records;
  bool has_default = false;
  for (const auto& [key, value] : *entries) {
    Result<RuleRecord> record = DecodeRecord(key, value);
    if (!record.ok()) return record.status();
    has_default = has_default || IsDefault(record->rule.rule_name);
    records.push_back(std::move(*record));
  }
  if (!has_default) records.push_back(RuleRecord{DefaultRule(), 0, 0, {}});
  std::sort(records.begin(), records.end(), Before);
  return records;
}

Result<RulePage> RuleRegistry::ListPage(std::string_view token, size_t page_size) const {
  // The token names the first rule of its page: the page starts at the first
  // rule at or after it in matching order, so a rule deleted meanwhile
  // neither ends the listing nor repeats one.
  RuleRecord start;
  if (!token.empty()) {
    const size_t slash = token.find('/');
    if (slash == std::string_view::npos) return BadToken();
    const std::string_view digits = token.substr(0, slash);
    auto [end, ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), start.rule.priority);
    if (ec != std::errc() || end != digits.data() + digits.size()) return BadToken();
    start.rule.rule_name = std::string(token.substr(slash + 1));
  }
  Result<std::vector<RuleRecord>> all = List();
  if (!all.ok()) return all.status();
  RulePage page;
  auto it =
      token.empty() ? all->begin() : std::lower_bound(all->begin(), all->end(), start, Before);
  for (; it != all->end() && page.records.size() < page_size; ++it) {
    page.records.push_back(std::move(*it));
  }
  if (it != all->end()) page.next_token = PageToken(it->rule);
  return page;
}

Result<int64_t> RuleRegistry::LastModification() const {
  Result<std::vector<RuleRecord>> all = List();
  if (!all.ok()) return all.status();
  int64_t latest = 0;
  for (const RuleRecord& r : *all) latest = std::max(latest, r.modified_at_us);
  Result<std::string> deletion = store_.GetConfig(kMetaNamespace, kLastDeletionKey);
  if (deletion.ok()) {
    int64_t at = 0;
    auto [end, ec] = std::from_chars(deletion->data(), deletion->data() + deletion->size(), at);
    if (ec != std::errc() || end != deletion->data() + deletion->size()) {
      return Status::Corruption(
          fmt::format("{}/{}: not a number: '{}'", kMetaNamespace, kLastDeletionKey, *deletion));
    }
    latest = std::max(latest, at);
  } else if (deletion.status().code() != StatusCode::kNotFound) {
    return deletion.status();
  }
  return latest;
}

Result<Tags> RuleRegistry::GetTags(std::string_view arn) const {
  Result<RuleRecord> record = Resolve(RuleRef{std::string(arn), true});
  if (!record.ok()) return record.status();
  return record->tags;
}

Status RuleRegistry::SetTags(std::string_view arn, Tags tags) {
  RG_RETURN_IF_ERROR(xray::ValidateResourceTags(tags, "Tags"));
  MutexLock lock(mu_);
  Result<RuleRecord> record = Resolve(RuleRef{std::string(arn), true});
  if (!record.ok()) return record.status();
  record->tags = std::move(tags);
  return Save(*record);
}

}  // namespace roentgen::sampling
