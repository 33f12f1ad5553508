// Sampling rules: validation, the Default rule, updates, the stored form. See
// sampling_rule.h.
#include "sampling/sampling_rule.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

namespace roentgen::sampling {
namespace {

constexpr int64_t kMaxInt32 = std::numeric_limits<int32_t>::max();

Status TooLong(std::string_view path, std::string_view field, size_t max) {
  return Status::InvalidArgument(
      fmt::format("{}.{}: must be at most {} characters long", path, field, max));
}

Status CheckLength(std::string_view value, size_t max, std::string_view path,
                   std::string_view field) {
  return value.size() > max ? TooLong(path, field, max) : Status::Ok();
}

Status ValidateAttributes(const Attributes& attributes, std::string_view path) {
  if (attributes.size() > kMaxAttributes) {
    return Status::InvalidArgument(
        fmt::format("{}.Attributes: at most {} attributes", path, kMaxAttributes));
  }
  for (const auto& [key, value] : attributes) {
    if (key.empty() || key.size() > kMaxAttributeLength) {
      return Status::InvalidArgument(
          fmt::format("{}.Attributes: key \"{}\" must be 1 to {} characters long", path,
                      key.substr(0, 40), kMaxAttributeLength));
    }
    if (value.empty() || value.size() > kMaxAttributeLength) {
      return Status::InvalidArgument(
          fmt::format("{}.Attributes[{}]: the value must be 1 to {} characters long", path, key,
                      kMaxAttributeLength));
    }
  }
  return Status::Ok();
}

Status ValidateRateBoost(const std::optional<RateBoost>& boost, std::string_view path) {
  if (!boost) return Status::Ok();
  if (!(boost->max_rate >= 0 && boost->max_rate <= 1)) {
    return Status::InvalidArgument(
        fmt::format("{}.SamplingRateBoost.MaxRate: must be between 0 and 1", path));
  }
  if (boost->cooldown_window_minutes < 0 || boost->cooldown_window_minutes > kMaxInt32) {
    return Status::InvalidArgument(
        fmt::format("{}.SamplingRateBoost.CooldownWindowMinutes: must be an integer from 0 to {}",
                    path, kMaxInt32));
  }
  return Status::Ok();
}

Status ValidateRates(const SamplingRule& rule, std::string_view path) {
  if (!(rule.fixed_rate >= 0 && rule.fixed_rate <= 1)) {
    return Status::InvalidArgument(fmt::format("{}.FixedRate: must be between 0 and 1", path));
  }
  if (rule.reservoir_size < 0 || rule.reservoir_size > kMaxInt32) {
    return Status::InvalidArgument(
        fmt::format("{}.ReservoirSize: must be an integer from 0 to {}", path, kMaxInt32));
  }
  return ValidateRateBoost(rule.rate_boost, path);
}

}  // namespace

SamplingRule DefaultRule() {
  SamplingRule r;
  r.rule_name = std::string(kDefaultRuleName);
  r.resource_arn = "*";
  r.priority = kDefaultRulePriority;
  r.fixed_rate = 0.05;
  r.reservoir_size = 1;
  r.service_name = "*";
  r.service_type = "*";
  r.host = "*";
  r.http_method = "*";
  r.url_path = "*";
  r.version = 1;
  return r;
}

bool IsDefault(std::string_view rule_name) { return rule_name == kDefaultRuleName; }

Status ValidateRuleName(std::string_view name, std::string_view path) {
  if (name.empty() || name.size() > kMaxRuleNameLength) {
    return Status::InvalidArgument(
        fmt::format("{}: must be 1 to {} characters long", path, kMaxRuleNameLength));
  }
  return Status::Ok();
}

Status ValidateRule(const SamplingRule& rule, std::string_view path) {
  RG_RETURN_IF_ERROR(ValidateRuleName(rule.rule_name, fmt::format("{}.RuleName", path)));
  RG_RETURN_IF_ERROR(CheckLength(rule.resource_arn, kMaxResourceArnLength, path, "ResourceARN"));
  if (rule.priority < kMinPriority || rule.priority > kMaxPriority) {
    return Status::InvalidArgument(fmt::format("{}.Priority: must be an integer from {} to {}",
                                               path, kMinPriority, kMaxPriority));
  }
  RG_RETURN_IF_ERROR(ValidateRates(rule, path));
  RG_RETURN_IF_ERROR(CheckLength(rule.service_name, kMaxMatcherLength, path, "ServiceName"));
  RG_RETURN_IF_ERROR(CheckLength(rule.service_type, kMaxMatcherLength, path, "ServiceType"));
  RG_RETURN_IF_ERROR(CheckLength(rule.host, kMaxMatcherLength, path, "Host"));
  RG_RETURN_IF_ERROR(CheckLength(rule.http_method, kMaxHttpMethodLength, path, "HTTPMethod"));
  RG_RETURN_IF_ERROR(CheckLength(rule.url_path, kMaxUrlPathLength, path, "URLPath"));
  if (rule.version < 1 || rule.version > kMaxInt32) {
    return Status::InvalidArgument(
        fmt::format("{}.Version: must be an integer from 1 to {}", path, kMaxInt32));
  }
  return ValidateAttributes(rule.attributes, path);
}

Result<SamplingRule> ApplyUpdate(const SamplingRule& rule, const RuleUpdate& update) {
  SamplingRule updated = rule;
  if (IsDefault(rule.rule_name)) {
    // Only the rates change; a field restating the current value is harmless.
    auto same = [](const auto& field, const auto& current) {
      return !field.has_value() || *field == current;
    };
    if (!same(update.resource_arn, rule.resource_arn) || !same(update.priority, rule.priority) ||
        !same(update.service_name, rule.service_name) ||
        !same(update.service_type, rule.service_type) || !same(update.host, rule.host) ||
        !same(update.http_method, rule.http_method) || !same(update.url_path, rule.url_path) ||
        !same(update.attributes, rule.attributes)) {
      return Status::InvalidArgument("Invalid update request for default sampling rule");
    }
  }
  if (update.resource_arn) updated.resource_arn = *update.resource_arn;
  if (update.priority) updated.priority = *update.priority;
  if (update.fixed_rate) updated.fixed_rate = *update.fixed_rate;
  if (update.reservoir_size) updated.reservoir_size = *update.reservoir_size;
  if (update.service_name) updated.service_name = *update.service_name;
  if (update.service_type) updated.service_type = *update.service_type;
  if (update.host) updated.host = *update.host;
  if (update.http_method) updated.http_method = *update.http_method;
  if (update.url_path) updated.url_path = *update.url_path;
  if (update.attributes) updated.attributes = *update.attributes;
  if (update.rate_boost) updated.rate_boost = *update.rate_boost;
  if (IsDefault(rule.rule_name)) {
    RG_RETURN_IF_ERROR(ValidateRates(updated, "SamplingRuleUpdate"));
  } else {
    RG_RETURN_IF_ERROR(ValidateRule(updated, "SamplingRuleUpdate"));
  }
  return updated;
}

std::string EncodeRecord(const RuleRecord& record) {
  const SamplingRule& r = record.rule;
  nlohmann::json attributes = nlohmann::json::object();
  for (const auto& [k, v] : r.attributes) attributes[k] = v;
  nlohmann::json tags = nlohmann::json::array();
  for (const auto& [k, v] : record.tags) tags.push_back({{"k", k}, {"v", v}});
  nlohmann::json j = {{"name", r.rule_name},
                      {"resource_arn", r.resource_arn},
                      {"priority", r.priority},
                      {"fixed_rate", r.fixed_rate},
                      {"reservoir_size", r.reservoir_size},
                      {"service_name", r.service_name},
                      {"service_type", r.service_type},
                      {"host", r.host},
                      {"http_method", r.http_method},
                      {"url_path", r.url_path},
                      {"version", r.version},
                      {"attributes", std::move(attributes)},
                      {"created_at_us", record.created_at_us},
                      {"modified_at_us", record.modified_at_us},
                      {"tags", std::move(tags)}};
  if (r.rate_boost) {
    j["boost"] = {{"max_rate", r.rate_boost->max_rate},
                  {"cooldown_minutes", r.rate_boost->cooldown_window_minutes}};
  }
  return j.dump();
}

Result<RuleRecord> DecodeRecord(std::string_view key, std::string_view value) {
  auto corrupt = [&](std::string_view what) {
    return Status::Corruption(fmt::format("sampling rule '{}': stored record: {}", key, what));
  };
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(value.data(), value.size()).get(o) != simdjson::SUCCESS) {
    return corrupt("not a JSON object");
  }
  RuleRecord record;
  SamplingRule& r = record.rule;
  const std::pair<const char*, std::string*> strings[] = {{"name", &r.rule_name},
                                                          {"resource_arn", &r.resource_arn},
                                                          {"service_name", &r.service_name},
                                                          {"service_type", &r.service_type},
                                                          {"host", &r.host},
                                                          {"http_method", &r.http_method},
                                                          {"url_path", &r.url_path}};
  for (const auto& [field, out] : strings) {
    std::string_view text;
    if (o[field].get(text) != simdjson::SUCCESS) return corrupt(fmt::format("no {}", field));
    *out = std::string(text);
  }
  const std::pair<const char*, int64_t*> integers[] = {{"priority", &r.priority},
                                                       {"reservoir_size", &r.reservoir_size},
                                                       {"version", &r.version},
                                                       {"created_at_us", &record.created_at_us},
                                                       {"modified_at_us", &record.modified_at_us}};
  for (const auto& [field, out] : integers) {
    if (o[field].get(*out) != simdjson::SUCCESS) return corrupt(fmt::format("no {}", field));
  }
  if (o["fixed_rate"].get(r.fixed_rate) != simdjson::SUCCESS) return corrupt("no fixed_rate");
  simdjson::dom::object attributes;
  if (o["attributes"].get(attributes) != simdjson::SUCCESS) return corrupt("no attributes");
  for (auto [k, v] : attributes) {
    std::string_view text;
    if (v.get(text) != simdjson::SUCCESS) return corrupt("bad attribute");
    r.attributes.emplace_back(std::string(k), std::string(text));
  }
  std::sort(r.attributes.begin(), r.attributes.end());
  simdjson::dom::object boost;
  if (o["boost"].get(boost) == simdjson::SUCCESS) {
    RateBoost b;
    if (boost["max_rate"].get(b.max_rate) != simdjson::SUCCESS ||
        boost["cooldown_minutes"].get(b.cooldown_window_minutes) != simdjson::SUCCESS) {
      return corrupt("bad boost");
    }
    r.rate_boost = b;
  }
  simdjson::dom::array tags;
  if (o["tags"].get(tags) != simdjson::SUCCESS) return corrupt("no tags");
  for (simdjson::dom::element tag : tags) {
    std::string_view k, v;
    if (tag["k"].get(k) != simdjson::SUCCESS || tag["v"].get(v) != simdjson::SUCCESS) {
      return corrupt("bad tag");
    }
    record.tags.emplace_back(std::string(k), std::string(v));
  }
  return record;
}

}  // namespace roentgen::sampling
