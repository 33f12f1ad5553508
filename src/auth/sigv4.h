// AWS Signature Version 4, the pieces both sides compute: the Authorization
// header's fields, the canonical request, the string to sign, the signing key
// and the signature, plus a signer (for tests and Roentgen's own clients).
// Verification against a key is in sigv4_verifier.h.
//
// The canonical request follows AWS's rules for every service but S3:
//   METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n PayloadHash
// CanonicalURI is the path as sent on the wire (already percent-encoded once
// by the client), normalized (empty, "." and ".." segments removed, a trailing
// slash kept) and URI-encoded again, '/' kept: what @smithy/signature-v4 and
// botocore compute. CanonicalQuery decodes each name and value, re-encodes
// them strictly (only A-Z a-z 0-9 - _ . ~ unencoded) and sorts by name, then
// value. Header values are trimmed and runs of spaces collapsed; repeated
// headers are joined with ',' in the order received.
//
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/auth_error.h"
#include "auth/crypto.h"

namespace roentgen::auth {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kTerminator = "aws4_request";

using HeaderList = std::vector<std::pair<std::string, std::string>>;  // names lowercase

// What SigV4 reads of an HTTP request.
struct SigV4Request {
  std::string_view method;
  std::string_view path;   // as received, without the query
  std::string_view query;  // after '?', as received; empty if none
  const HeaderList* headers = nullptr;
  std::string_view body;  // the bytes received (before any Content-Encoding is undone)
};

// Credential=AKID/20150830/us-east-1/xray/aws4_request
struct CredentialScope {
  std::string access_key_id;
  std::string date;  // YYYYMMDD
  std::string region;
  std::string service;
  std::string terminator;
  // "20150830/us-east-1/xray/aws4_request"
  std::string Scope() const;
};

struct AuthorizationHeader {
  CredentialScope credential;
  std::vector<std::string> signed_headers;  // lowercase, as listed
  std::string signature;                    // hex, as sent
};

// Parses "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…".
// Errors: IncompleteSignatureException with AWS's messages.
AuthResult<AuthorizationHeader> ParseAuthorizationHeader(std::string_view value);

// Percent-encodes every byte but A-Z a-z 0-9 - _ . ~ (and '/' when keep_slash).
std::string UriEncode(std::string_view text, bool keep_slash);
std::string CanonicalUri(std::string_view wire_path);
std::string CanonicalQuery(std::string_view wire_query);
// "name:value\n" for each signed header, sorted by name; an absent header
// contributes an empty value.
std::string CanonicalHeaders(const HeaderList& headers,
                             std::span<const std::string> signed_headers);
std::string CanonicalRequest(const SigV4Request& request,
                             std::span<const std::string> signed_headers,
                             std::string_view payload_hash_hex);
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);
Digest SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                  std::string_view service);
std::string SignatureHex(const Digest& signing_key, std::string_view string_to_sign);

struct SigningCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-lived keys
};

// Signs a request the way the AWS SDKs do: adds x-amz-date (and
// x-amz-security-token for session credentials), signs every header present
// (which must include host) and adds authorization. `headers` is updated.
void SignRequest(std::string_view method, std::string_view path, std::string_view query,
                 HeaderList& headers, std::string_view body, const SigningCredentials& credentials,
                 std::string_view region, std::string_view service, int64_t epoch_seconds);

}  // namespace roentgen::auth
