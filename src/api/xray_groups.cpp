// X-Ray's group APIs over a GroupRegistry (group_registry.h):
//   CreateGroup  POST /CreateGroup  {GroupName, FilterExpression?, InsightsConfiguration?, Tags?}
//                (Tags follow tags.h's rules, at most 50)
//   GetGroup     POST /GetGroup     {GroupName | GroupARN}
//   GetGroups    POST /Groups       {NextToken?}            → {Groups, NextToken?}
//   UpdateGroup  POST /UpdateGroup  {GroupName | GroupARN, FilterExpression?,
//   InsightsConfiguration?} DeleteGroup  POST /DeleteGroup  {GroupName | GroupARN}  → 200, empty
//   object
// Every error is InvalidRequestException (X-Ray documents no other for these
// operations besides throttling): a missing or unknown group, a duplicate or
// reserved name, a filter that does not compile (with its column).
// GetGroups pages hold kGroupsPerPage groups; the NextToken is the name the
// next page starts at.
#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "api/group_registry.h"
#include "api/json_io.h"
#include "api/tags.h"
#include "api/xray_handlers.h"

namespace roentgen::api {
namespace {

using nlohmann::json;

constexpr size_t kGroupsPerPage = 100;
constexpr size_t kMaxArnLength = 400;

// NotFound is a bad request here, as in X-Ray.
HttpResponse GroupError(const Status& s) {
  if (s.code() == StatusCode::kNotFound) return InvalidRequest(s.message());
  return StatusResponse(s);
}

json GroupJson(const GroupRegistry& registry, const Group& g) {
  json j = {{"GroupName", g.name}, {"GroupARN", registry.Arn(g)}};
  if (g.filter_expression) j["FilterExpression"] = *g.filter_expression;
  j["InsightsConfiguration"] = {{"InsightsEnabled", g.insights.insights_enabled},
                                {"NotificationsEnabled", g.insights.notifications_enabled}};
  return j;
}

struct GroupRef {
  std::string name_or_arn;
  bool by_arn = false;
};

// GroupName or GroupARN (the name wins when both are sent, as X-Ray documents
// neither precedence); InvalidArgument when neither is.
Result<GroupRef> ParseGroupRef(const RequestBody& body) {
  Field<std::string_view> name = body.String("GroupName");
  if (!name.ok()) return name.status();
  Field<std::string_view> arn = body.String("GroupARN");
  if (!arn.ok()) return arn.status();
  if (name->has_value() && !(*name)->empty()) return GroupRef{std::string(**name), false};
  if (arn->has_value() && !(*arn)->empty()) {
    if ((*arn)->size() > kMaxArnLength) {
      return Status::InvalidArgument(fmt::format("GroupARN: at most {} characters", kMaxArnLength));
    }
    return GroupRef{std::string(**arn), true};
  }
  return Status::InvalidArgument("GroupName or GroupARN: one is required");
}

Field<InsightsConfiguration> ParseInsights(const RequestBody& body) {
  Field<simdjson::dom::object> object = body.Object("InsightsConfiguration");
  if (!object.ok()) return object.status();
  if (!object->has_value()) return std::optional<InsightsConfiguration>();
  InsightsConfiguration insights;
  Field<bool> enabled =
      GetBool(**object, "InsightsEnabled", "InsightsConfiguration.InsightsEnabled");
  if (!enabled.ok()) return enabled.status();
  Field<bool> notify =
      GetBool(**object, "NotificationsEnabled", "InsightsConfiguration.NotificationsEnabled");
  if (!notify.ok()) return notify.status();
  insights.insights_enabled = enabled->value_or(false);
  insights.notifications_enabled = notify->value_or(false);
  return std::optional<InsightsConfiguration>(insights);
}

Field<std::string> ParseFilter(const RequestBody& body) {
  Field<std::string_view> filter = body.String("FilterExpression");
  if (!filter.ok()) return filter.status();
  if (!filter->has_value()) return std::optional<std::string>();
  return std::optional<std::string>(std::string(**filter));
}

Result<TagList> ParseTags(const RequestBody& body) {
  Field<simdjson::dom::array> array = body.Array("Tags");
  if (!array.ok()) return array.status();
  if (!array->has_value()) return TagList();
  Result<TagList> tags = ParseTagList(**array, "Tags");
  if (!tags.ok()) return tags.status();
  RG_RETURN_IF_ERROR(CheckNewResourceTags(*tags, "Tags"));
  return tags;
}

void CreateGroup(GroupRegistry& registry, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Field<std::string_view> name = body.String("GroupName");
  if (!name.ok()) return respond(StatusResponse(name.status()));
  if (!name->has_value()) return respond(InvalidRequest("GroupName: required"));
  Field<std::string> filter = ParseFilter(body);
  if (!filter.ok()) return respond(StatusResponse(filter.status()));
  Field<InsightsConfiguration> insights = ParseInsights(body);
  if (!insights.ok()) return respond(StatusResponse(insights.status()));
  Result<TagList> tags = ParseTags(body);
  if (!tags.ok()) return respond(StatusResponse(tags.status()));
  Group group;
  group.name = std::string(**name);
  group.filter_expression = std::move(*filter);
  group.insights = insights->value_or(InsightsConfiguration{});
  group.tags = std::move(*tags);
  Result<Group> created = registry.Create(std::move(group));
  if (!created.ok()) return respond(GroupError(created.status()));
  respond(JsonResponse({{"Group", GroupJson(registry, *created)}}));
}

void GetGroup(GroupRegistry& registry, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Result<GroupRef> ref = ParseGroupRef(body);
  if (!ref.ok()) return respond(StatusResponse(ref.status()));
  Result<Group> group = registry.Get(ref->name_or_arn, ref->by_arn);
  if (!group.ok()) return respond(GroupError(group.status()));
  respond(JsonResponse({{"Group", GroupJson(registry, *group)}}));
}

void GetGroups(GroupRegistry& registry, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Field<std::string_view> token = body.String("NextToken");
  if (!token.ok()) return respond(StatusResponse(token.status()));
  Result<std::vector<Group>> groups = registry.List();
  if (!groups.ok()) return respond(StatusResponse(groups.status()));
  // "Default" first, then by name: a page starts at the first name ≥ the token.
  size_t first = 0;
  if (token->has_value() && !(*token)->empty()) {
    first = groups->size();
    for (size_t i = 0; i < groups->size(); ++i) {
      const Group& g = (*groups)[i];
      if (g.name != kDefaultGroupName && g.name >= **token) {
        first = i;
        break;
      }
    }
  }
  json page = json::array();
  size_t i = first;
  for (; i < groups->size() && page.size() < kGroupsPerPage; ++i) {
    page.push_back(GroupJson(registry, (*groups)[i]));
  }
  json response = {{"Groups", std::move(page)}};
  if (i < groups->size()) response["NextToken"] = (*groups)[i].name;
  respond(JsonResponse(response));
}

void UpdateGroup(GroupRegistry& registry, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Result<GroupRef> ref = ParseGroupRef(body);
  if (!ref.ok()) return respond(StatusResponse(ref.status()));
  Field<std::string> filter = ParseFilter(body);
  if (!filter.ok()) return respond(StatusResponse(filter.status()));
  Field<InsightsConfiguration> insights = ParseInsights(body);
  if (!insights.ok()) return respond(StatusResponse(insights.status()));
  Result<Group> updated =
      registry.Update(ref->name_or_arn, ref->by_arn, std::move(*filter), *insights);
  if (!updated.ok()) return respond(GroupError(updated.status()));
  respond(JsonResponse({{"Group", GroupJson(registry, *updated)}}));
}

void DeleteGroup(GroupRegistry& registry, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Result<GroupRef> ref = ParseGroupRef(body);
  if (!ref.ok()) return respond(StatusResponse(ref.status()));
  if (Status s = registry.Delete(ref->name_or_arn, ref->by_arn); !s.ok()) {
    return respond(GroupError(s));
  }
  respond(JsonResponse(json::object()));
}

}  // namespace

void RegisterGroupApis(Router& router, std::shared_ptr<GroupRegistry> groups) {
  using Fn = void (*)(GroupRegistry&, const HttpRequest&, Responder);
  const std::pair<const char*, Fn> routes[] = {
      {"/CreateGroup", &CreateGroup}, {"/GetGroup", &GetGroup},       {"/Groups", &GetGroups},
      {"/UpdateGroup", &UpdateGroup}, {"/DeleteGroup", &DeleteGroup},
  };
  for (const auto& [path, fn] : routes) {
    // fn = fn: clang 14 cannot capture a structured binding by name.
    router.Add("POST", path, [groups, fn = fn](const HttpRequest& request, Responder respond) {
      fn(*groups, request, std::move(respond));
    });
  }
}

}  // namespace roentgen::api
