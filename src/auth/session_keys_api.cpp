#include "auth/session_keys_api.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "auth/actions.h"
#include "auth/amz_time.h"
#include "auth/keys_file.h"
#include "auth/session_token.h"

namespace roentgen::auth {
namespace {

using nlohmann::json;

api::HttpResponse BadRequest(std::string_view message) {
  return api::ErrorResponse(400, "InvalidRequestException", message);
}

api::HttpResponse CreateSessionKeys(Authorizer& authorizer, const api::HttpRequest& request) {
  if (authorizer.open()) {
    return BadRequest(
        "this server runs without a keys file (roentgen serve --keys FILE): requests need no "
        "keys, and it has none to give");
  }
  AuthResult<Identity> caller = authorizer.Authenticate(request);
  if (!caller.ok()) return authorizer.Refuse(caller.error());
  if (caller->session) {
    return authorizer.Refuse({AuthErrorKind::kAccessDenied,
                              fmt::format("User: {} is not authorized to perform: "
                                          "roentgen:CreateSessionKeys (session keys cannot make "
                                          "session keys)",
                                          caller->Arn())});
  }

  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) return BadRequest("the body is not a JSON object");
  if (!body.contains("Actions") || !body["Actions"].is_array() || body["Actions"].empty()) {
    return BadRequest("Actions: a list of at least one action is required");
  }
  SessionClaims claims;
  for (const json& a : body["Actions"]) {
    if (!a.is_string() || !IsValidActionPattern(a.get<std::string>())) {
      return BadRequest(
          fmt::format("Actions: {} is not an action (\"xray:PutTraceSegments\", \"xray:Get*\", …)",
                      a.dump(-1, ' ', false, json::error_handler_t::replace)));
    }
    const std::string action = a.get<std::string>();
    bool covered = false;
    for (const std::string& mine : caller->actions)
      covered = covered || PatternCovers(mine, action);
    if (!covered) return authorizer.Refuse(AccessDenied(caller.value(), action));
    claims.actions.push_back(action);
  }
  int64_t duration = kDefaultSessionSeconds;
  if (body.contains("DurationSeconds")) {
    if (!body["DurationSeconds"].is_number_integer() ||
        body["DurationSeconds"].get<int64_t>() < kMinSessionSeconds ||
        body["DurationSeconds"].get<int64_t>() > kMaxSessionSeconds) {
      return BadRequest(fmt::format("DurationSeconds must be an integer from {} to {}",
                                    kMinSessionSeconds, kMaxSessionSeconds));
    }
    duration = body["DurationSeconds"].get<int64_t>();
  }
  if (body.contains("Name")) {
    if (!body["Name"].is_string() || body["Name"].get<std::string>().size() > 128) {
      return BadRequest("Name must be a string of at most 128 characters");
    }
    claims.name = body["Name"].get<std::string>();
  }

  const std::shared_ptr<const KeysFile> file = authorizer.keys()->Snapshot();
  if (file->session_token_key.empty()) {
    return api::ErrorResponse(
        500, "InternalFailure",
        "the keys file has no SessionTokenKey (roentgen keys create adds one)");
  }
  const int64_t now = authorizer.clock().NowMicros() / 1'000'000;
  claims.access_key_id = NewAccessKeyId(/*session=*/true);
  claims.issued_s = now;
  claims.expiration_s = now + duration;
  claims.parent = caller->access_key_id;
  const SessionKeys keys = MintSessionKeys(file->session_token_key, claims);
  api::HttpResponse response;
  response.body = json{{"AccessKeyId", keys.access_key_id},
                       {"SecretAccessKey", keys.secret_access_key},
                       {"SessionToken", keys.session_token},
                       {"Expiration", FormatIso8601(keys.expiration_s)}}
                      .dump(-1, ' ', false, json::error_handler_t::replace);
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

}  // namespace

void RegisterSessionKeysApi(api::Router& router, Authorizer& authorizer) {
  router.Add("POST", "/roentgen/CreateSessionKeys",
             [&authorizer](const api::HttpRequest& request, api::Responder respond) {
               respond(CreateSessionKeys(authorizer, request));
             });
}

}  // namespace roentgen::auth
