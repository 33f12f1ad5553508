// X-Ray's account-wide configuration APIs:
//   GetEncryptionConfig            POST /EncryptionConfig               → {EncryptionConfig}
//   PutEncryptionConfig            POST /PutEncryptionConfig            {Type, KeyId?} →
//   {EncryptionConfig} GetTraceSegmentDestination     POST /GetTraceSegmentDestination     →
//   {Destination, Status} UpdateTraceSegmentDestination  POST /UpdateTraceSegmentDestination
//   {Destination?} → the same PutResourcePolicy              POST /PutResourcePolicy {PolicyName,
//   PolicyDocument,
//                                  PolicyRevisionId?, BypassPolicyLockoutCheck?} → {ResourcePolicy}
//   ListResourcePolicies           POST /ListResourcePolicies {NextToken?} → {ResourcePolicies}
//   DeleteResourcePolicy           POST /DeleteResourcePolicy {PolicyName, PolicyRevisionId?} → {}
// over AccountSettings (account_settings.h: NONE and XRay only, KMS and
// CloudWatchLogs refused) and a ResourcePolicyRegistry (resource_policies.h:
// validated, revisioned, stored, not evaluated). Refusals are 400 with X-Ray's
// exception names; an UpdateTraceSegmentDestination without a Destination
// changes nothing and returns the current one (the field is optional in
// X-Ray's model). At most 5 policies exist, so ListResourcePolicies has one
// page and refuses a NextToken.
#include <fmt/format.h>

#include <memory>
#include <optional>
#include <string>

#include "api/account_settings.h"
#include "api/json_io.h"
#include "api/resource_policies.h"
#include "api/xray_handlers.h"

namespace roentgen::api {
namespace {

using nlohmann::json;

json EncryptionJson(const EncryptionConfig& config) {
  json j = {{"Status", config.status}, {"Type", config.type}};
  if (config.key_id) j["KeyId"] = *config.key_id;
  return j;
}

void GetEncryptionConfig(AccountSettings& settings, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Result<EncryptionConfig> config = settings.Encryption();
  if (!config.ok()) return respond(StatusResponse(config.status()));
  respond(JsonResponse({{"EncryptionConfig", EncryptionJson(*config)}}));
}

void PutEncryptionConfig(AccountSettings& settings, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Field<std::string_view> type = body.String("Type");
  if (!type.ok()) return respond(StatusResponse(type.status()));
  if (!type->has_value()) return respond(InvalidRequest("Type: required (NONE or KMS)"));
  Field<std::string_view> key_id = body.String("KeyId");
  if (!key_id.ok()) return respond(StatusResponse(key_id.status()));
  Result<EncryptionConfig> config = settings.PutEncryption(**type, *key_id);
  if (!config.ok()) return respond(StatusResponse(config.status()));
  respond(JsonResponse({{"EncryptionConfig", EncryptionJson(*config)}}));
}

json DestinationJson(const SegmentDestination& d) {
  return {{"Destination", d.destination}, {"Status", d.status}};
}

void GetTraceSegmentDestination(AccountSettings& settings, const HttpRequest& request,
                                Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Result<SegmentDestination> d = settings.Destination();
  if (!d.ok()) return respond(StatusResponse(d.status()));
  respond(JsonResponse(DestinationJson(*d)));
}

void UpdateTraceSegmentDestination(AccountSettings& settings, const HttpRequest& request,
                                   Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Field<std::string_view> destination = body.String("Destination");
  if (!destination.ok()) return respond(StatusResponse(destination.status()));
  Result<SegmentDestination> d =
      destination->has_value() ? settings.PutDestination(**destination) : settings.Destination();
  if (!d.ok()) return respond(StatusResponse(d.status()));
  respond(JsonResponse(DestinationJson(*d)));
}

json PolicyJson(const ResourcePolicy& p) {
  return {{"PolicyName", p.name},
          {"PolicyDocument", p.document},
          {"PolicyRevisionId", p.revision_id},
          {"LastUpdatedTime", EpochSeconds(p.last_updated_us)}};
}

HttpResponse PolicyError(const Status& s, PolicyRefusal refusal) {
  if (refusal == PolicyRefusal::kNone) return StatusResponse(s);
  return ErrorResponse(400, PolicyRefusalName(refusal), s.message());
}

void PutResourcePolicy(ResourcePolicyRegistry& policies, const HttpRequest& request,
                       Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Field<std::string_view> name = body.String("PolicyName");
  if (!name.ok()) return respond(StatusResponse(name.status()));
  if (!name->has_value()) return respond(InvalidRequest("PolicyName: required"));
  Field<std::string_view> document = body.String("PolicyDocument");
  if (!document.ok()) return respond(StatusResponse(document.status()));
  if (!document->has_value()) return respond(InvalidRequest("PolicyDocument: required"));
  Field<std::string_view> revision = body.String("PolicyRevisionId");
  if (!revision.ok()) return respond(StatusResponse(revision.status()));
  // Accepted for X-Ray's clients; no policy can lock anyone out here.
  Field<bool> bypass = body.Bool("BypassPolicyLockoutCheck");
  if (!bypass.ok()) return respond(StatusResponse(bypass.status()));
  PolicyRefusal refusal = PolicyRefusal::kNone;
  Result<ResourcePolicy> policy = policies.Put(**name, **document, *revision, &refusal);
  if (!policy.ok()) return respond(PolicyError(policy.status(), refusal));
  respond(JsonResponse({{"ResourcePolicy", PolicyJson(*policy)}}));
}

void ListResourcePolicies(ResourcePolicyRegistry& policies, const HttpRequest& request,
                          Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  if (Status s = RejectNextToken(body, "returns every resource policy in one page"); !s.ok()) {
    return respond(StatusResponse(s));
  }
  Result<std::vector<ResourcePolicy>> all = policies.List();
  if (!all.ok()) return respond(StatusResponse(all.status()));
  json out = json::array();
  for (const ResourcePolicy& p : *all) out.push_back(PolicyJson(p));
  respond(JsonResponse({{"ResourcePolicies", std::move(out)}}));
}

void DeleteResourcePolicy(ResourcePolicyRegistry& policies, const HttpRequest& request,
                          Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Field<std::string_view> name = body.String("PolicyName");
  if (!name.ok()) return respond(StatusResponse(name.status()));
  if (!name->has_value()) return respond(InvalidRequest("PolicyName: required"));
  Field<std::string_view> revision = body.String("PolicyRevisionId");
  if (!revision.ok()) return respond(StatusResponse(revision.status()));
  PolicyRefusal refusal = PolicyRefusal::kNone;
  if (Status s = policies.Delete(**name, *revision, &refusal); !s.ok()) {
    return respond(PolicyError(s, refusal));
  }
  respond(JsonResponse(json::object()));
}

}  // namespace

void RegisterAccountApis(Router& router, std::shared_ptr<AccountSettings> settings,
                         std::shared_ptr<ResourcePolicyRegistry> policies) {
  using SettingsFn = void (*)(AccountSettings&, const HttpRequest&, Responder);
  const std::pair<const char*, SettingsFn> settings_routes[] = {
      {"/EncryptionConfig", &GetEncryptionConfig},
      {"/PutEncryptionConfig", &PutEncryptionConfig},
      {"/GetTraceSegmentDestination", &GetTraceSegmentDestination},
      {"/UpdateTraceSegmentDestination", &UpdateTraceSegmentDestination},
  };
  for (const auto& [path, fn] : settings_routes) {
    // fn = fn: clang 14 cannot capture a structured binding by name.
    router.Add("POST", path, [settings, fn = fn](const HttpRequest& request, Responder respond) {
      fn(*settings, request, std::move(respond));
    });
  }
  using PolicyFn = void (*)(ResourcePolicyRegistry&, const HttpRequest&, Responder);
  const std::pair<const char*, PolicyFn> policy_routes[] = {
      {"/PutResourcePolicy", &PutResourcePolicy},
      {"/ListResourcePolicies", &ListResourcePolicies},
      {"/DeleteResourcePolicy", &DeleteResourcePolicy},
  };
  for (const auto& [path, fn] : policy_routes) {
    router.Add("POST", path, [policies, fn = fn](const HttpRequest& request, Responder respond) {
      fn(*policies, request, std::move(respond));
    });
  }
}

}  // namespace roentgen::api
