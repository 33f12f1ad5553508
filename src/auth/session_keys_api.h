// POST /roentgen/CreateSessionKeys: a signed call with which an application's
// backend obtains short-lived keys for a browser or a job (what an AWS app
// gets from STS or a Cognito identity pool). Action roentgen:CreateSessionKeys.
//
//   request  {"Actions": ["xray:PutTraceSegments"], "DurationSeconds": 3600, "Name": "web"}
//   response {"AccessKeyId": "ASRG…", "SecretAccessKey": "…", "SessionToken": "…",
//             "Expiration": "2026-01-31T13:00:00Z"}
//
// The new key can never do more than its maker: each requested action must be
// covered by one of the maker's (else AccessDeniedException), and every
// request signed with it is checked against the maker's actions as they are
// then (revoking or narrowing the maker revokes or narrows its session keys).
// Session keys cannot make session keys. DurationSeconds: 900 to 43200,
// default 3600 (STS's bounds). Errors: InvalidRequestException (400) for a bad
// body or a server without --keys.
//
// Thread-safe; the Authorizer must outlive the router.
#pragma once

#include "api/http.h"
#include "auth/authorizer.h"

namespace roentgen::auth {

inline constexpr int64_t kMinSessionSeconds = 900;
inline constexpr int64_t kMaxSessionSeconds = 43200;
inline constexpr int64_t kDefaultSessionSeconds = 3600;

void RegisterSessionKeysApi(api::Router& router, Authorizer& authorizer);

}  // namespace roentgen::auth
