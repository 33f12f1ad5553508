// X-Ray's indexing rule APIs over IndexingRules (indexing_rules.h):
//   GetIndexingRules   POST /GetIndexingRules   {NextToken?} → {IndexingRules}
//   UpdateIndexingRule POST /UpdateIndexingRule {Name, Rule: {Probabilistic:
//                      {DesiredSamplingPercentage}}} → {IndexingRule}
// A rule is {Name, ModifiedAt, Rule: {Probabilistic: {DesiredSamplingPercentage,
// ActualSamplingPercentage}}}. There is one rule, so GetIndexingRules never
// issues a NextToken. An unknown rule name is ResourceNotFoundException (404).
#include <fmt/format.h>

#include <memory>
#include <string>

#include "api/indexing_rules.h"
#include "api/json_io.h"
#include "api/xray_handlers.h"

namespace roentgen::api {
namespace {

using nlohmann::json;

json RuleJson(const IndexingRule& rule) {
  return {{"Name", rule.name},
          {"ModifiedAt", EpochSeconds(rule.modified_us)},
          {"Rule",
           {{"Probabilistic",
             {{"DesiredSamplingPercentage", rule.desired_percentage},
              {"ActualSamplingPercentage", rule.actual_percentage}}}}}};
}

void GetIndexingRules(IndexingRules& rules, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  if (Status s = RejectNextToken(body, "has one indexing rule and never issues one"); !s.ok()) {
    return respond(StatusResponse(s));
  }
  json list = json::array();
  for (const IndexingRule& rule : rules.List()) list.push_back(RuleJson(rule));
  respond(JsonResponse({{"IndexingRules", std::move(list)}}));
}

void UpdateIndexingRule(IndexingRules& rules, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Field<std::string_view> name = body.String("Name");
  if (!name.ok()) return respond(StatusResponse(name.status()));
  if (!name->has_value() || (*name)->empty()) return respond(InvalidRequest("Name: required"));
  Field<simdjson::dom::object> rule = body.Object("Rule");
  if (!rule.ok()) return respond(StatusResponse(rule.status()));
  if (!rule->has_value()) return respond(InvalidRequest("Rule: required"));
  Field<simdjson::dom::object> probabilistic =
      GetObject(**rule, "Probabilistic", "Rule.Probabilistic");
  if (!probabilistic.ok()) return respond(StatusResponse(probabilistic.status()));
  if (!probabilistic->has_value()) {
    return respond(InvalidRequest("Rule.Probabilistic: required (the only kind of indexing rule)"));
  }
  Field<double> desired = GetNumber(**probabilistic, "DesiredSamplingPercentage",
                                    "Rule.Probabilistic.DesiredSamplingPercentage");
  if (!desired.ok()) return respond(StatusResponse(desired.status()));
  if (!desired->has_value()) {
    return respond(InvalidRequest("Rule.Probabilistic.DesiredSamplingPercentage: required"));
  }
  Result<IndexingRule> updated = rules.Update(**name, **desired);
  if (!updated.ok()) {
    if (updated.status().code() == StatusCode::kNotFound) {
      return respond(
          ErrorResponse(404, "ResourceNotFoundException", updated.status().message()));
    }
    return respond(StatusResponse(updated.status()));
  }
  respond(JsonResponse({{"IndexingRule", RuleJson(*updated)}}));
}

}  // namespace

void RegisterIndexingRuleApis(Router& router, IndexingRules& rules) {
  using Fn = void (*)(IndexingRules&, const HttpRequest&, Responder);
  const std::pair<const char*, Fn> routes[] = {
      {"/GetIndexingRules", &GetIndexingRules},
      {"/UpdateIndexingRule", &UpdateIndexingRule},
  };
  for (const auto& [path, fn] : routes) {
    // fn = fn: clang 14 cannot capture a structured binding by name.
    router.Add("POST", path, [&rules, fn = fn](const HttpRequest& request, Responder respond) {
      fn(rules, request, std::move(respond));
    });
  }
}

}  // namespace roentgen::api
