// Sampling rules' tags through the TagService. See sampling_rule_tags.h.
#include "api/sampling_rule_tags.h"

#include <utility>

namespace roentgen::api {

SamplingRuleTags::SamplingRuleTags(std::shared_ptr<sampling::RuleRegistry> rules)
    : rules_(std::move(rules)) {}

bool SamplingRuleTags::ClaimsArn(std::string_view arn) const { return rules_->NameOfArn(arn).ok(); }

// The registry answers InvalidArgument for a rule it does not have; the ARN's
// form was checked by ClaimsArn, so that means there is no such rule.
Result<TagList> SamplingRuleTags::Tags(std::string_view arn) const {
  Result<sampling::Tags> tags = rules_->GetTags(arn);
  if (!tags.ok() && tags.status().code() == StatusCode::kInvalidArgument) {
    return Status::NotFound(tags.status().message());
  }
  return tags;
}

Status SamplingRuleTags::EditTags(std::string_view arn, const TagEdit& edit) {
  MutexLock lock(mu_);
  Result<TagList> current = Tags(arn);
  if (!current.ok()) return current.status();
  Result<TagList> edited = edit(std::move(*current));
  if (!edited.ok()) return edited.status();
  Status s = rules_->SetTags(arn, std::move(*edited));
  // Deleted meanwhile: as unknown as it is now.
  if (!s.ok() && s.code() == StatusCode::kInvalidArgument && !Tags(arn).ok()) {
    return Status::NotFound(s.message());
  }
  return s;
}

}  // namespace roentgen::api
