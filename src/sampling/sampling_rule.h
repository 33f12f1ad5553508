// X-Ray's sampling rule: the model, its validation, the Default rule, updates
// and the record kept in the store.
//
// Limits are X-Ray's API model's (docs/api.md "Centralized sampling"):
// RuleName 1–32, ResourceARN ≤ 500, Priority 1–9999, FixedRate 0–1,
// ReservoirSize ≥ 0, ServiceName / ServiceType / Host ≤ 64, HTTPMethod ≤ 10,
// URLPath ≤ 128, Version ≥ 1, ≤ 5 Attributes with key and value 1–32,
// SamplingRateBoost {MaxRate 0–1, CooldownWindowMinutes ≥ 0}. The matchers
// take '*' and '?' wildcards and have no minimum length, as in X-Ray.
//
// The Default rule (Priority 10000, FixedRate 0.05, ReservoirSize 1, every
// matcher "*", Version 1) always exists: only its FixedRate, ReservoirSize
// and SamplingRateBoost change.
//
// Errors are InvalidArgument with a message naming the field
// ("SamplingRule.FixedRate: must be between 0 and 1").
//
// Pure functions and plain values: thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "xray/tag_rules.h"

namespace roentgen::sampling {

inline constexpr std::string_view kDefaultRuleName = "Default";
inline constexpr int64_t kDefaultRulePriority = 10000;

inline constexpr size_t kMaxRuleNameLength = 32;
inline constexpr size_t kMaxResourceArnLength = 500;
inline constexpr int64_t kMinPriority = 1;
inline constexpr int64_t kMaxPriority = 9999;
inline constexpr size_t kMaxMatcherLength = 64;  // ServiceName, ServiceType, Host
inline constexpr size_t kMaxHttpMethodLength = 10;
inline constexpr size_t kMaxUrlPathLength = 128;
inline constexpr size_t kMaxAttributes = 5;
inline constexpr size_t kMaxAttributeLength = 32;

// Key, value pairs, kept sorted by key.
using Attributes = std::vector<std::pair<std::string, std::string>>;
using Tags = xray::TagList;  // checked by xray::ValidateResourceTags

struct RateBoost {
  double max_rate = 0;
  int64_t cooldown_window_minutes = 0;
  bool operator==(const RateBoost&) const = default;
};

struct SamplingRule {
  std::string rule_name;
  std::string resource_arn;
  int64_t priority = 0;
  double fixed_rate = 0;
  int64_t reservoir_size = 0;
  std::string service_name;
  std::string service_type;
  std::string host;
  std::string http_method;
  std::string url_path;
  int64_t version = 1;
  Attributes attributes;
  std::optional<RateBoost> rate_boost;
  bool operator==(const SamplingRule&) const = default;
};

// A rule as stored and answered: SamplingRuleRecord plus the rule's tags.
struct RuleRecord {
  SamplingRule rule;
  int64_t created_at_us = 0;
  int64_t modified_at_us = 0;
  Tags tags;
};

// SamplingRuleUpdate without its name / ARN: unset fields stay as they are;
// Attributes, when set, replace the rule's.
struct RuleUpdate {
  std::optional<std::string> resource_arn;
  std::optional<int64_t> priority;
  std::optional<double> fixed_rate;
  std::optional<int64_t> reservoir_size;
  std::optional<std::string> service_name;
  std::optional<std::string> service_type;
  std::optional<std::string> host;
  std::optional<std::string> http_method;
  std::optional<std::string> url_path;
  std::optional<Attributes> attributes;
  std::optional<RateBoost> rate_boost;
};

// The Default rule as X-Ray creates it (CreatedAt 0).
SamplingRule DefaultRule();
bool IsDefault(std::string_view rule_name);

Status ValidateRuleName(std::string_view name, std::string_view path);
// A user rule (not Default); `path` prefixes field names in messages
// ("SamplingRule", "SamplingRuleUpdate").
Status ValidateRule(const SamplingRule& rule, std::string_view path);

// `rule` with `update` applied and validated. For Default only FixedRate,
// ReservoirSize and SamplingRateBoost may change (fields sent with the value
// they already have are accepted); anything else is InvalidArgument
// "Invalid update request for default sampling rule".
Result<SamplingRule> ApplyUpdate(const SamplingRule& rule, const RuleUpdate& update);

// The stored form (JSON) of a record, and back (Corruption when it does not
// decode).
std::string EncodeRecord(const RuleRecord& record);
Result<RuleRecord> DecodeRecord(std::string_view key, std::string_view value);

}  // namespace roentgen::sampling
