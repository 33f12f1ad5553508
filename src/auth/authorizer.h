// Authorizer: decides, before its handler runs, whether a request may go on.
//
//   - without a keys file (no --keys) every request goes on: the server is open;
//   - GET/HEAD /healthz, /metrics and the web console's files always go on;
//   - every other request must be signed with SigV4 (service "xray") by a key
//     in the keys file, or a live session key, and that key must be allowed the
//     route's action (actions.h: POST /TraceSummaries needs
//     xray:GetTraceSummaries, /roentgen/TraceAnalytics roentgen:TraceAnalytics).
//     A path that names no action (an unknown path) needs a valid signature
//     and is then answered by the router (404/405);
//   - except the routes marked "unsigned from allowed networks"
//     (UnsignedRoutes): a request to one of them from an address in its
//     networks goes on unsigned. The X-Ray SDKs call GetSamplingRules and
//     GetSamplingTargets at the daemon's address without signing (the daemon
//     signs them on the way to AWS; here Roentgen is the daemon).
//
// Refusals use AWS's error names and messages in X-Ray's error shape
// (api::ErrorResponse) and are counted in
// roentgen_auth_refused_total{reason="<ErrorName>"}.
//
// Thread-safe (called concurrently from the HTTP threads). The KeyStore,
// Clock and MetricsRegistry must outlive the Authorizer.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http.h"
#include "auth/auth_error.h"
#include "auth/key_store.h"
#include "auth/sigv4_verifier.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "common/network_allowlist.h"

namespace roentgen::auth {

// Routes that requests from `networks` may call without a signature.
struct UnsignedRoutes {
  std::vector<std::pair<std::string, std::string>> routes;  // (method, exact path)
  NetworkAllowlist networks;                                // none by default
};

// The routes the X-Ray SDKs call unsigned at the daemon address:
// GetSamplingRules (POST /GetSamplingRules) and GetSamplingTargets
// (POST /SamplingTargets).
std::vector<std::pair<std::string, std::string>> SdkSamplingRoutes();

class Authorizer {
 public:
  // `keys` null: no keys file, the server is open.
  Authorizer(KeyStore* keys, SigV4VerifierConfig sigv4, const Clock& clock,
             MetricsRegistry& metrics, UnsignedRoutes unsigned_routes = {});

  bool open() const { return keys_ == nullptr; }
  KeyStore* keys() const { return keys_; }
  const Clock& clock() const { return clock_; }

  // nullopt: the request may go on to its handler; otherwise the refusal.
  std::optional<api::HttpResponse> Check(const api::HttpRequest& request);

  // The key that signed `request` (signature verified); not the action.
  AuthResult<Identity> Authenticate(const api::HttpRequest& request);

  // Counts a refusal and turns it into X-Ray's error shape.
  api::HttpResponse Refuse(const AuthError& error);

 private:
  // Whether `request` is to an unsigned route from one of its networks.
  bool UnsignedFromAllowedNetwork(const api::HttpRequest& request) const;

  KeyStore* const keys_;
  const SigV4Verifier verifier_;
  const Clock& clock_;
  const UnsignedRoutes unsigned_routes_;
  Counter& verified_;
  Counter& unsigned_allowed_;
  std::array<Counter*, 6> refused_{};  // by AuthErrorKind
};

// "User: arn:roentgen:iam::key/AKRG… is not authorized to perform: <action>"
AuthError AccessDenied(const Identity& identity, std::string_view action);

}  // namespace roentgen::auth
