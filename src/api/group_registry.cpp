// Groups persisted in the store's config space. See group_registry.h.
#include "api/group_registry.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "common/random.h"
#include "filter/filter.h"

namespace roentgen::api {
namespace {

constexpr size_t kMaxNameLength = 32;
constexpr size_t kIdLength = 26;

std::string NewGroupId() {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::array<uint8_t, kIdLength> bytes{};
  FillRandom(bytes);
  std::string id;
  id.reserve(kIdLength);
  for (uint8_t b : bytes) id.push_back(kAlphabet[b % 32]);
  return id;
}

std::string Encode(const Group& group) {
  nlohmann::json tags = nlohmann::json::array();
  for (const auto& [key, value] : group.tags) tags.push_back({{"k", key}, {"v", value}});
  nlohmann::json j = {{"name", group.name},
                      {"id", group.id},
                      {"insights", group.insights.insights_enabled},
                      {"notifications", group.insights.notifications_enabled},
                      {"tags", std::move(tags)}};
  if (group.filter_expression) j["filter"] = *group.filter_expression;
  return j.dump();
}

Result<Group> Decode(std::string_view key, const std::string& value) {
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  Group g;
  auto corrupt = [&](std::string_view what) {
    return Status::Corruption(fmt::format("group '{}': stored record: {}", key, what));
  };
  if (parser.parse(value).get(o) != simdjson::SUCCESS) return corrupt("not a JSON object");
  std::string_view text;
  if (o["name"].get(text) != simdjson::SUCCESS) return corrupt("no name");
  g.name = text;
  if (o["id"].get(text) != simdjson::SUCCESS) return corrupt("no id");
  g.id = text;
  if (o["filter"].get(text) == simdjson::SUCCESS) g.filter_expression = std::string(text);
  bool flag = false;
  if (o["insights"].get(flag) == simdjson::SUCCESS) g.insights.insights_enabled = flag;
  if (o["notifications"].get(flag) == simdjson::SUCCESS) g.insights.notifications_enabled = flag;
  simdjson::dom::array tags;
  if (o["tags"].get(tags) == simdjson::SUCCESS) {
    for (simdjson::dom::element tag : tags) {
      std::string_view k, v;
      if (tag["k"].get(k) != simdjson::SUCCESS || tag["v"].get(v) != simdjson::SUCCESS) {
        return corrupt("bad tag");
      }
      g.tags.emplace_back(std::string(k), std::string(v));
    }
  }
  return g;
}

Group DefaultGroup() {
  Group g;
  g.name = std::string(kDefaultGroupName);
  return g;
}

}  // namespace

GroupRegistry::GroupRegistry(store::Store& store, GroupIdentity identity)
    : store_(store), identity_(std::move(identity)) {}

std::string GroupRegistry::Arn(const Group& group) const {
  std::string arn = fmt::format("arn:aws:xray:{}:{}:group/{}", identity_.region,
                                identity_.account_id, group.name);
  if (!group.id.empty()) fmt::format_to(std::back_inserter(arn), "/{}", group.id);
  return arn;
}

Status GroupRegistry::ValidateName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return Status::InvalidArgument(
        fmt::format("GroupName: must be 1 to {} characters long", kMaxNameLength));
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Status::InvalidArgument(
          "GroupName: may contain only letters, digits, '.', '_' and '-'");
    }
  }
  return Status::Ok();
}

Status GroupRegistry::ValidateFilter(const std::optional<std::string>& expression) const {
  if (!expression || expression->empty()) return Status::Ok();
  Result<filter::CompiledFilter> compiled = filter::CompileFilter(*expression, this);
  if (!compiled.ok()) {
    return Status::InvalidArgument(
        fmt::format("FilterExpression: {}", compiled.status().message()));
  }
  return Status::Ok();
}

std::string GroupRegistry::ArnPrefix() const {
  return fmt::format("arn:aws:xray:{}:{}:group/", identity_.region, identity_.account_id);
}

Result<std::string> GroupRegistry::NameOfArn(std::string_view arn) const {
  const std::string prefix = ArnPrefix();
  if (arn.substr(0, prefix.size()) != prefix) {
    return Status::NotFound(fmt::format("GroupARN: no group has the ARN '{}'", arn.substr(0, 400)));
  }
  std::string_view rest = arn.substr(prefix.size());
  return std::string(rest.substr(0, rest.find('/')));
}

Result<Group> GroupRegistry::Load(std::string_view name) const {
  Result<std::string> value = store_.GetConfig(kGroupNamespace, name);
  if (!value.ok()) {
    if (value.status().code() == StatusCode::kNotFound && name == kDefaultGroupName) {
      return DefaultGroup();
    }
    if (value.status().code() == StatusCode::kNotFound) {
      return Status::NotFound(fmt::format("Group not found: '{}'", name));
    }
    return value.status();
  }
  return Decode(name, *value);
}

Status GroupRegistry::Save(const Group& group) {
  return store_.PutConfig(kGroupNamespace, group.name, Encode(group));
}

Result<Group> GroupRegistry::Get(std::string_view name_or_arn, bool by_arn) const {
  if (!by_arn) return Load(name_or_arn);
  Result<std::string> name = NameOfArn(name_or_arn);
  if (!name.ok()) return name.status();
  Result<Group> group = Load(*name);
  if (!group.ok()) return group.status();
  if (Arn(*group) != name_or_arn) {
    return Status::NotFound(
        fmt::format("GroupARN: no group has the ARN '{}'", name_or_arn.substr(0, 400)));
  }
  return group;
}

Result<Group> GroupRegistry::Create(Group group) {
  RG_RETURN_IF_ERROR(ValidateName(group.name));
  if (group.name == kDefaultGroupName) {
    return Status::InvalidArgument("GroupName: Default is a reserved group name");
  }
  if (group.insights.notifications_enabled && !group.insights.insights_enabled) {
    return Status::InvalidArgument(
        "InsightsConfiguration: NotificationsEnabled requires InsightsEnabled");
  }
  RG_RETURN_IF_ERROR(ValidateFilter(group.filter_expression));
  RG_RETURN_IF_ERROR(CheckNewResourceTags(group.tags, "Tags"));
  std::lock_guard lock(mutate_mu_);
  Result<std::string> existing = store_.GetConfig(kGroupNamespace, group.name);
  if (existing.ok()) {
    return Status::InvalidArgument(fmt::format("Group already exists: '{}'", group.name));
  }
  if (existing.status().code() != StatusCode::kNotFound) return existing.status();
  group.id = NewGroupId();
  RG_RETURN_IF_ERROR(Save(group));
  return group;
}

Result<std::vector<Group>> GroupRegistry::List() const {
  Result<std::vector<std::pair<std::string, std::string>>> entries =
      store_.ListConfig(kGroupNamespace);
  if (!entries.ok()) return entries.status();
  std::vector<Group> groups;
  bool has_default = false;
  for (const auto& [key, value] : *entries) {
    Result<Group> g = Decode(key, value);
    if (!g.ok()) return g.status();
    has_default = has_default || g->name == kDefaultGroupName;
    groups.push_back(std::move(*g));
  }
  if (!has_default) groups.push_back(DefaultGroup());
  std::sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
    const bool a_default = a.name == kDefaultGroupName;
    const bool b_default = b.name == kDefaultGroupName;
    if (a_default != b_default) return a_default;
    return a.name < b.name;
  });
  return groups;
}

Result<Group> GroupRegistry::Update(std::string_view name_or_arn, bool by_arn,
                                    std::optional<std::string> filter_expression,
                                    std::optional<InsightsConfiguration> insights) {
  std::lock_guard lock(mutate_mu_);
  Result<Group> group = Get(name_or_arn, by_arn);
  if (!group.ok()) return group.status();
  if (filter_expression) {
    if (group->name == kDefaultGroupName) {
      return Status::InvalidArgument(
          "FilterExpression: the Default group matches every trace and takes no filter");
    }
    RG_RETURN_IF_ERROR(ValidateFilter(filter_expression));
    group->filter_expression = std::move(filter_expression);
  }
  if (insights) {
    if (insights->notifications_enabled && !insights->insights_enabled) {
      return Status::InvalidArgument(
          "InsightsConfiguration: NotificationsEnabled requires InsightsEnabled");
    }
    group->insights = *insights;
  }
  RG_RETURN_IF_ERROR(Save(*group));
  return group;
}

Status GroupRegistry::Delete(std::string_view name_or_arn, bool by_arn) {
  std::lock_guard lock(mutate_mu_);
  Result<Group> group = Get(name_or_arn, by_arn);
  if (!group.ok()) return group.status();
  if (group->name == kDefaultGroupName) {
    return Status::InvalidArgument("GroupName: the Default group cannot be deleted");
  }
  return store_.DeleteConfig(kGroupNamespace, group->name);
}

bool GroupRegistry::ClaimsArn(std::string_view arn) const { return arn.starts_with(ArnPrefix()); }

Result<TagList> GroupRegistry::Tags(std::string_view arn) const {
  Result<Group> group = Get(arn, /*by_arn=*/true);
  if (!group.ok()) return group.status();
  return std::move(group->tags);
}

Status GroupRegistry::EditTags(std::string_view arn, const TagEdit& edit) {
  std::lock_guard lock(mutate_mu_);
  Result<Group> group = Get(arn, /*by_arn=*/true);
  if (!group.ok()) return group.status();
  Result<TagList> tags = edit(std::move(group->tags));
  if (!tags.ok()) return tags.status();
  group->tags = std::move(*tags);
  return Save(*group);
}

Result<std::string> GroupRegistry::GroupFilter(std::string_view name_or_arn, bool by_arn) const {
  Result<Group> group = Get(name_or_arn, by_arn);
  if (!group.ok()) return group.status();
  return group->filter_expression.value_or("");
}

}  // namespace roentgen::api
