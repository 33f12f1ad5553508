// Sampling rules as a kind of taggable resource (tags.h): TagResource,
// UntagResource and ListTagsForResource take a rule's RuleARN
// (arn:aws:xray:<region>:<account>:sampling-rule/<name>, Default's too). The
// tags are kept in the rule's record by the sampling::RuleRegistry.
//
// Thread safety: every method may be called from any thread. Edits are
// serialized here: after a rule is created, SetTags is the only writer of its
// tags, so no edit is lost between reading the tags and writing them back.
#pragma once

#include <memory>
#include <string_view>

#include "api/tags.h"
#include "common/mutex.h"
#include "sampling/rule_registry.h"

namespace roentgen::api {

class SamplingRuleTags final : public TaggableResources {
 public:
  explicit SamplingRuleTags(std::shared_ptr<sampling::RuleRegistry> rules);

  bool ClaimsArn(std::string_view arn) const override;
  Result<TagList> Tags(std::string_view arn) const override;
  Status EditTags(std::string_view arn, const TagEdit& edit) override EXCLUDES(mu_);

 private:
  std::shared_ptr<sampling::RuleRegistry> rules_;
  Mutex mu_;
};

}  // namespace roentgen::api
