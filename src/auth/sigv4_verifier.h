// Verifies a SigV4-signed request as AWS does, in two steps:
//   1. Prepare(): everything that needs no key: the Authorization header's
//      form, the credential scope (service, terminator, a date that matches
//      X-Amz-Date), the clock skew (5 minutes either way), host among the
//      signed headers, and the payload hash, always computed from the body
//      received (an x-amz-content-sha256 that differs is refused, never used).
//      It yields the access key id and session token to look up, and the
//      string to sign.
//   2. CheckSignature(): the signature recomputed with the key's secret and
//      compared in constant time.
// Presigned URLs (the signature in the query string) are not accepted.
//
// Errors are AWS's names and messages (auth_error.h). Thread-safe: the
// verifier is immutable; the clock is only read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "auth/auth_error.h"
#include "auth/sigv4.h"
#include "common/clock.h"

namespace roentgen::auth {

struct SigV4VerifierConfig {
  std::string service = "xray";  // the credential scope's service
  int64_t max_skew_us = int64_t{5} * 60 * 1'000'000;
};

// What Prepare() read from a request, ready to be checked with a secret.
struct PendingSignature {
  CredentialScope credential;
  std::string session_token;  // x-amz-security-token, empty if none
  std::string amz_date;       // "20150830T123600Z"
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // as sent
};

class SigV4Verifier {
 public:
  SigV4Verifier(SigV4VerifierConfig config, const Clock& clock)
      : config_(std::move(config)), clock_(clock) {}

  AuthResult<PendingSignature> Prepare(const SigV4Request& request) const;
  // Empty AuthResult value on success (the signature matches).
  static AuthResult<bool> CheckSignature(const PendingSignature& pending, std::string_view secret);

  const SigV4VerifierConfig& config() const { return config_; }

 private:
  SigV4VerifierConfig config_;
  const Clock& clock_;
};

}  // namespace roentgen::auth
