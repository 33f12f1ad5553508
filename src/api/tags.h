// Resource tags in X-Ray's API: tag lists parsed from requests (by the rules
// of xray/tag_rules.h), and the TagService behind TagResource, UntagResource
// and ListTagsForResource, which finds a resource by its ARN among the kinds
// of taggable resources registered with it.
//
// A kind of resource implements TaggableResources and is registered with the
// TagService once at start-up (RegisterXRayApi):
//
//     auto tags = std::make_shared<TagService>();
//     tags->Register(groups);                                      // …:group/…
//     tags->Register(std::make_shared<SamplingRuleTags>(rules));  // …:sampling-rule/…
//
// Each kind claims the ARNs with its prefix, keeps the tags with the resource
// (so they are persisted and deleted with it) and applies an edit atomically
// with respect to its other changes. An ARN no kind claims, or that names no
// resource of the kind that claims it, is NotFound.
//
// Errors: InvalidArgument for a tag, key or request that breaks a rule (the
// message names it, "Tags[3].Key: …"), ResourceExhausted when TagResource
// would leave a resource with more than 50 tags (X-Ray's TooManyTagsException),
// NotFound for an unknown ARN, store errors as they come.
//
// Thread safety: the free functions are pure; the TagService's methods may be
// called from any thread once every kind is registered (registration happens
// before the routes serve).
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "xray/tag_rules.h"

namespace roentgen::api {

using xray::kMaxTagsPerRequest;
using xray::kMaxTagsPerResource;
using xray::TagList;
using xray::ValidateTagKey;
using xray::ValidateTagValue;

inline constexpr size_t kMaxResourceArnLength = 1011;

// A request's list of {Key, Value} objects (`path`: its field name, "Tags"):
// at most kMaxTagsPerRequest, each valid, no key twice.
Result<TagList> ParseTagList(simdjson::dom::array array, std::string_view path);

// A list of keys (UntagResource's TagKeys): at most kMaxTagsPerRequest, each a
// valid key.
Result<std::vector<std::string>> ParseTagKeys(simdjson::dom::array array, std::string_view path);

// The tags a new resource is created with (CreateGroup's Tags): at most
// kMaxTagsPerResource (InvalidArgument: creation calls have no
// TooManyTagsException in X-Ray's model).
Status CheckNewResourceTags(const TagList& tags, std::string_view path);

// One kind of taggable resource, found by ARN.
class TaggableResources {
 public:
  virtual ~TaggableResources() = default;
  // Whether `arn` is of this kind (by its prefix); it may still name nothing.
  virtual bool ClaimsArn(std::string_view arn) const = 0;
  // The tags of the resource with exactly this ARN, in the order they were
  // added; NotFound when none has it.
  virtual Result<TagList> Tags(std::string_view arn) const = 0;
  // Passes the resource's tags to `edit` and stores the list it returns, with
  // no other change to that resource in between. NotFound when no resource
  // has the ARN; edit's error as it comes (nothing is stored then).
  using TagEdit = std::function<Result<TagList>(TagList)>;
  virtual Status EditTags(std::string_view arn, const TagEdit& edit) = 0;
};

class TagService {
 public:
  void Register(std::shared_ptr<TaggableResources> kind);

  Result<TagList> List(std::string_view arn) const;
  // Adds `tags` (already valid: ParseTagList), replacing the values of keys
  // the resource has. ResourceExhausted when it would then have more than
  // kMaxTagsPerResource.
  Status Tag(std::string_view arn, const TagList& tags);
  // Removes the keys; keys the resource does not have are ignored.
  Status Untag(std::string_view arn, const std::vector<std::string>& keys);

 private:
  Result<TaggableResources*> KindOf(std::string_view arn) const;

  std::vector<std::shared_ptr<TaggableResources>> kinds_;
};

}  // namespace roentgen::api
