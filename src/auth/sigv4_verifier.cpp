#include "auth/sigv4_verifier.h"

#include <fmt/format.h>

#include <algorithm>

#include "auth/amz_time.h"

namespace roentgen::auth {
namespace {

std::string_view FirstHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return {};
}

bool HasHeader(const HeaderList& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return h.first == name; });
}

bool ValidRegion(std::string_view region) {
  if (region.empty() || region.size() > 64) return false;
  return std::all_of(region.begin(), region.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

AuthError Invalid(std::string message) {
  return {AuthErrorKind::kInvalidSignature, std::move(message)};
}

}  // namespace

AuthResult<PendingSignature> SigV4Verifier::Prepare(const SigV4Request& request) const {
  static const HeaderList kNoHeaders;
  const HeaderList& headers = request.headers != nullptr ? *request.headers : kNoHeaders;
  if (!HasHeader(headers, "authorization")) {
    return AuthError{AuthErrorKind::kMissingAuthenticationToken, "Missing Authentication Token"};
  }
  const std::string_view authorization = FirstHeader(headers, "authorization");
  AuthResult<AuthorizationHeader> parsed = ParseAuthorizationHeader(authorization);
  if (!parsed.ok()) return parsed.error();
  const AuthorizationHeader& auth = parsed.value();

  // The request's time: X-Amz-Date, else Date.
  std::optional<int64_t> request_time;
  std::string amz_date;
  if (HasHeader(headers, "x-amz-date")) {
    amz_date = std::string(FirstHeader(headers, "x-amz-date"));
    request_time = ParseAmzDate(amz_date);
  } else if (HasHeader(headers, "date")) {
    amz_date = std::string(FirstHeader(headers, "date"));
    request_time = ParseHttpDate(amz_date);
    if (request_time) amz_date = FormatAmzDate(*request_time);
  } else {
    return AuthError{AuthErrorKind::kIncompleteSignature,
                     fmt::format("Authorization header requires existence of either a "
                                 "'X-Amz-Date' or a 'Date' header. Authorization={}",
                                 authorization)};
  }
  if (!request_time) {
    return AuthError{AuthErrorKind::kIncompleteSignature,
                     fmt::format("Date must be in ISO-8601 'basic format'. Got '{}'. See "
                                 "http://en.wikipedia.org/wiki/ISO_8601",
                                 amz_date)};
  }

  const CredentialScope& scope = auth.credential;
  if (scope.terminator != kTerminator) {
    return Invalid(fmt::format(
        "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'.",
        scope.terminator));
  }
  if (scope.service != config_.service) {
    return Invalid(
        fmt::format("Credential should be scoped to correct service: '{}'.", config_.service));
  }
  if (!ValidRegion(scope.region)) {
    return Invalid(
        fmt::format("Credential should be scoped to a valid region, not '{}'.", scope.region));
  }
  if (scope.date != std::string_view(amz_date).substr(0, 8)) {
    return Invalid(fmt::format(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        "HTTP: '{}' != '{}', from '{}'.",
        scope.date, std::string_view(amz_date).substr(0, 8), amz_date));
  }

  const int64_t now_s = clock_.NowMicros() / 1'000'000;
  const int64_t skew_s = config_.max_skew_us / 1'000'000;
  const int64_t skew_min = skew_s / 60;
  if (*request_time < now_s - skew_s) {
    return Invalid(fmt::format("Signature expired: {} is now earlier than {} ({} - {} min.)",
                               amz_date, FormatAmzDate(now_s - skew_s), FormatAmzDate(now_s),
                               skew_min));
  }
  if (*request_time > now_s + skew_s) {
    return Invalid(
        fmt::format("Signature not yet current: {} is still later than {} ({} + {} min.)", amz_date,
                    FormatAmzDate(now_s + skew_s), FormatAmzDate(now_s), skew_min));
  }

  if (std::find(auth.signed_headers.begin(), auth.signed_headers.end(), "host") ==
      auth.signed_headers.end()) {
    return Invalid("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }

  // The payload hash is always the body's: a client's x-amz-content-sha256
  // (signed or not) must agree with it, or the body could be swapped.
  const std::string payload_hash = Sha256Hex(request.body);
  if (HasHeader(headers, "x-amz-content-sha256") &&
      FirstHeader(headers, "x-amz-content-sha256") != payload_hash) {
    return Invalid("The provided 'x-amz-content-sha256' header does not match what was computed.");
  }

  PendingSignature pending;
  pending.credential = scope;
  pending.session_token = std::string(FirstHeader(headers, "x-amz-security-token"));
  pending.amz_date = amz_date;
  pending.canonical_request = CanonicalRequest(request, auth.signed_headers, payload_hash);
  pending.string_to_sign = StringToSign(amz_date, scope.Scope(), pending.canonical_request);
  pending.signature = auth.signature;
  return pending;
}

AuthResult<bool> SigV4Verifier::CheckSignature(const PendingSignature& pending,
                                               std::string_view secret) {
  const CredentialScope& scope = pending.credential;
  const std::string expected = SignatureHex(
      SigningKey(secret, scope.date, scope.region, scope.service), pending.string_to_sign);
  if (ConstantTimeEquals(expected, pending.signature)) return true;
  return Invalid(fmt::format(
      "The request signature we calculated does not match the signature you provided. Check "
      "your AWS Secret Access Key and signing method. Consult the service documentation for "
      "details.\n\nThe Canonical String for this request should have been\n'{}'\n\nThe "
      "String-to-Sign should have been\n'{}'\n",
      pending.canonical_request, pending.string_to_sign));
}

}  // namespace roentgen::auth
