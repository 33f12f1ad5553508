// X-Ray groups: a name, a filter expression and an insights configuration,
// persisted in the store's config space (namespace kGroupNamespace, key = the
// group name, value = a small JSON object).
//
// Semantics follow X-Ray:
//  - "Default" is reserved: it always exists, matches every trace, has no
//    FilterExpression and cannot be created, deleted or given a filter; only
//    its InsightsConfiguration can be updated.
//  - GroupARN is arn:aws:xray:<region>:<account>:group/<name>/<id> where id is
//    26 random base32 characters chosen at creation (arn:…:group/Default for
//    the default group). A group is found by name or by its exact ARN.
//  - A group carries tags (tags.h), kept in its record; the registry is the
//    TaggableResources for group ARNs (an exact ARN, Default's included).
//  - Names are 1–32 characters of [A-Za-z0-9._-] (X-Ray's console rule; the
//    API documents only the length). Filters are compiled with CompileFilter
//    (with this registry resolving group.name / group.arn) before they are
//    stored, so a stored group always compiles — unless a group it names is
//    later deleted.
//
// Errors: InvalidArgument for bad input (duplicate name, the reserved name,
// a filter that does not compile — its "column N: …" message), NotFound for
// an unknown group, store errors as they come.
//
// Thread safety: every method may be called from any thread. Mutations are
// serialized by a mutex (create-if-absent is atomic within one registry; one
// registry serves the group APIs of a process).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/tags.h"
#include "common/status.h"
#include "filter/bind.h"
#include "store/store.h"

namespace roentgen::api {

inline constexpr std::string_view kGroupNamespace = "xray.groups";
inline constexpr std::string_view kDefaultGroupName = "Default";

struct InsightsConfiguration {
  bool insights_enabled = false;
  bool notifications_enabled = false;
};

struct Group {
  std::string name;
  std::string id;  // empty for the Default group
  std::optional<std::string> filter_expression;
  InsightsConfiguration insights;
  TagList tags;
};

struct GroupIdentity {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
};

class GroupRegistry final : public filter::GroupResolver, public TaggableResources {
 public:
  explicit GroupRegistry(store::Store& store, GroupIdentity identity = {});

  std::string Arn(const Group& group) const;

  // Validates and stores a new group (its id is generated here).
  Result<Group> Create(Group group);
  // By name, or by ARN when `by_arn`.
  Result<Group> Get(std::string_view name_or_arn, bool by_arn) const;
  // Every group, "Default" first, then by name.
  Result<std::vector<Group>> List() const;
  // Replaces the filter and/or the insights configuration (unset = unchanged).
  Result<Group> Update(std::string_view name_or_arn, bool by_arn,
                       std::optional<std::string> filter_expression,
                       std::optional<InsightsConfiguration> insights);
  Status Delete(std::string_view name_or_arn, bool by_arn);

  // filter::GroupResolver: the group's expression ("" for Default).
  Result<std::string> GroupFilter(std::string_view name_or_arn, bool by_arn) const override;

  // TaggableResources: arn:aws:xray:<region>:<account>:group/….
  bool ClaimsArn(std::string_view arn) const override;
  Result<TagList> Tags(std::string_view arn) const override;
  Status EditTags(std::string_view arn, const TagEdit& edit) override;

  static Status ValidateName(std::string_view name);

 private:
  // The group name an ARN of this registry names, or NotFound.
  Result<std::string> NameOfArn(std::string_view arn) const;
  std::string ArnPrefix() const;
  Result<Group> Load(std::string_view name) const;
  Status Save(const Group& group);
  Status ValidateFilter(const std::optional<std::string>& expression) const;

  store::Store& store_;
  const GroupIdentity identity_;
  std::mutex mutate_mu_;
};

}  // namespace roentgen::api
