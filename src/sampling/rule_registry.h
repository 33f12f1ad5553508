// The sampling rules of one Roentgen, persisted in the store's config space:
// namespace kRuleNamespace, key = the rule name, value = EncodeRecord (the
// rule, CreatedAt, ModifiedAt and its tags). The Default rule is stored only
// once it has been updated; until then DefaultRule() stands for it.
//
//  - RuleARN is arn:aws:xray:<region>:<account>:sampling-rule/<name>; a rule
//    is found by name or by its exact ARN.
//  - At most max_user_rules rules besides Default (kMaxUserRules, X-Ray's
//    default quota); one more is ResourceExhausted.
//  - Order (List, ListPage): ascending Priority, then RuleName; Default, at
//    priority 10000, last. That is the order in which the SDKs match.
//  - LastModification: the latest ModifiedAt, or the time of the latest
//    deletion if later (kept under kMetaNamespace), so a client that polls
//    for it learns of deletions too.
//
// Errors: InvalidArgument for bad input, a duplicate name, an unknown rule,
// deleting Default or changing its matchers (X-Ray answers
// InvalidRequestException for all of them); ResourceExhausted for the rule
// limit; store errors as they come.
//
// Thread safety: every method may be called from any thread; mutations are
// serialized (create-if-absent and the limit are atomic within one registry,
// and one registry serves a process).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "sampling/sampling_rule.h"
#include "store/store.h"

namespace roentgen::sampling {

inline constexpr std::string_view kRuleNamespace = "xray.sampling_rules";
inline constexpr std::string_view kMetaNamespace = "xray.sampling_meta";
inline constexpr size_t kMaxUserRules = 25;

// The region and account in ARNs (the same as the groups').
struct Identity {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
};

// A reference to a rule: by name, or by ARN when `by_arn`.
struct RuleRef {
  std::string name_or_arn;
  bool by_arn = false;
};

struct RulePage {
  std::vector<RuleRecord> records;
  std::optional<std::string> next_token;
};

class RuleRegistry {
 public:
  RuleRegistry(store::Store& store, const Clock& clock, Identity identity = {},
               size_t max_user_rules = kMaxUserRules);

  std::string Arn(std::string_view rule_name) const;
  // The rule name in an ARN of this registry's form, or InvalidArgument.
  Result<std::string> NameOfArn(std::string_view arn) const;

  // Validates and stores a new rule; CreatedAt = ModifiedAt = now.
  Result<RuleRecord> Create(SamplingRule rule, Tags tags) EXCLUDES(mu_);
  Result<RuleRecord> Get(const RuleRef& ref) const;
  // ApplyUpdate, then ModifiedAt = now.
  Result<RuleRecord> Update(const RuleRef& ref, const RuleUpdate& update) EXCLUDES(mu_);
  // Removes the rule and returns its last record.
  Result<RuleRecord> Delete(const RuleRef& ref) EXCLUDES(mu_);

  // Every rule, Default included, in matching order.
  Result<std::vector<RuleRecord>> List() const;
  // At most `page_size` rules from `token` (a NextToken of an earlier page;
  // empty = the first page). InvalidArgument for a token this registry did
  // not issue.
  Result<RulePage> ListPage(std::string_view token, size_t page_size) const;

  // Epoch microseconds of the latest change to the rules (0 if none).
  Result<int64_t> LastModification() const;

  // Tags of the rule with this ARN (InvalidArgument for an unknown rule).
  Result<Tags> GetTags(std::string_view arn) const;
  // Replaces the tags of the rule with this ARN (validated).
  Status SetTags(std::string_view arn, Tags tags) EXCLUDES(mu_);

  size_t max_user_rules() const { return max_user_rules_; }

 private:
  Result<RuleRecord> Load(std::string_view name) const;
  Result<RuleRecord> Resolve(const RuleRef& ref) const;
  Status Save(const RuleRecord& record);
  Status NoteDeletion(int64_t at_us);

  store::Store& store_;
  const Clock& clock_;
  const Identity identity_;
  const size_t max_user_rules_;
  // Serializes read-modify-write sequences on the store.
  Mutex mu_;
};

}  // namespace roentgen::sampling
