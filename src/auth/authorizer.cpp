#include "auth/authorizer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "auth/actions.h"

namespace roentgen::auth {
namespace {

constexpr std::array<AuthErrorKind, 6> kKinds = {AuthErrorKind::kMissingAuthenticationToken,
                                                 AuthErrorKind::kIncompleteSignature,
                                                 AuthErrorKind::kInvalidSignature,
                                                 AuthErrorKind::kUnrecognizedClient,
                                                 AuthErrorKind::kExpiredToken,
                                                 AuthErrorKind::kAccessDenied};

}  // namespace

std::vector<std::pair<std::string, std::string>> SdkSamplingRoutes() {
  return {{"POST", "/GetSamplingRules"}, {"POST", "/SamplingTargets"}};
}

AuthError AccessDenied(const Identity& identity, std::string_view action) {
  return {AuthErrorKind::kAccessDenied,
          fmt::format("User: {} is not authorized to perform: {}", identity.Arn(), action)};
}

Authorizer::Authorizer(KeyStore* keys, SigV4VerifierConfig sigv4, const Clock& clock,
                       MetricsRegistry& metrics, UnsignedRoutes unsigned_routes)
    : keys_(keys),
      verifier_(std::move(sigv4), clock),
      clock_(clock),
      unsigned_routes_(std::move(unsigned_routes)),
      verified_(metrics.GetCounter("roentgen_auth_verified_total",
                                   "API requests whose SigV4 signature was verified")),
      unsigned_allowed_(metrics.GetCounter(
          "roentgen_auth_unsigned_allowed_total",
          "API requests let on unsigned to a route open to their network (the SDKs' sampling "
          "calls)")) {
  for (AuthErrorKind kind : kKinds) {
    const AuthError e{kind, ""};
    refused_[static_cast<size_t>(kind)] = &metrics.GetCounter(
        "roentgen_auth_refused_total", "API requests refused by authentication or authorization",
        {{"reason", std::string(e.name())}});
  }
}

api::HttpResponse Authorizer::Refuse(const AuthError& error) {
  refused_[static_cast<size_t>(error.kind)]->Inc();
  return api::ErrorResponse(error.http_status(), error.name(), error.message);
}

AuthResult<Identity> Authorizer::Authenticate(const api::HttpRequest& request) {
  if (keys_ == nullptr) {
    return AuthError{AuthErrorKind::kMissingAuthenticationToken,
                     "this server has no keys file (roentgen serve --keys)"};
  }
  const SigV4Request view{request.method, request.path, request.query, &request.headers,
                          request.ReceivedBody()};
  AuthResult<PendingSignature> pending = verifier_.Prepare(view);
  if (!pending.ok()) return pending.error();
  AuthResult<ResolvedKey> key =
      keys_->Resolve(pending->credential.access_key_id, pending->session_token);
  if (!key.ok()) return key.error();
  AuthResult<bool> checked = SigV4Verifier::CheckSignature(pending.value(), key->secret_access_key);
  if (!checked.ok()) return checked.error();
  verified_.Inc();
  return std::move(key.value().identity);
}

bool Authorizer::UnsignedFromAllowedNetwork(const api::HttpRequest& request) const {
  for (const auto& [method, path] : unsigned_routes_.routes) {
    if (request.method == method && request.path == path) {
      return unsigned_routes_.networks.Contains(request.remote_address);
    }
  }
  return false;
}

std::optional<api::HttpResponse> Authorizer::Check(const api::HttpRequest& request) {
  if (keys_ == nullptr || IsOpenRoute(request.method, request.path)) return std::nullopt;
  if (UnsignedFromAllowedNetwork(request)) {
    unsigned_allowed_.Inc();
    return std::nullopt;
  }
  AuthResult<Identity> identity = Authenticate(request);
  if (!identity.ok()) {
    spdlog::debug("refused {} {} from {}: {}: {}", request.method, request.path,
                  request.remote_address, identity.error().name(), identity.error().message);
    return Refuse(identity.error());
  }
  if (std::optional<std::string> action = ActionForPath(request.path)) {
    if (!identity->Allows(*action)) {
      spdlog::debug("refused {} {} from {}: {} may not {}", request.method, request.path,
                    request.remote_address, identity->access_key_id, *action);
      return Refuse(AccessDenied(identity.value(), *action));
    }
  }
  return std::nullopt;
}

}  // namespace roentgen::auth
