#include "auth/sigv4.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "auth/amz_time.h"
#include "common/hex.h"

namespace roentgen::auth {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

bool Unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; a '%' not followed by two hex digits stays as it is.
std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// A header value as SigV4 signs it: trimmed, runs of spaces and tabs as one space.
void AppendNormalizedValue(std::string_view value, std::string& out) {
  value = Trim(value);
  bool in_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      in_space = true;
      continue;
    }
    if (in_space) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
}

std::vector<std::string> SortedUnique(std::span<const std::string> names) {
  std::vector<std::string> sorted(names.begin(), names.end());
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  return sorted;
}

}  // namespace

std::string CredentialScope::Scope() const {
  return fmt::format("{}/{}/{}/{}", date, region, service, terminator);
}

AuthResult<AuthorizationHeader> ParseAuthorizationHeader(std::string_view value) {
  const std::string_view whole = Trim(value);
  const size_t space = whole.find(' ');
  const std::string_view algorithm = whole.substr(0, space);
  if (algorithm != kAlgorithm) {
    return AuthError{AuthErrorKind::kIncompleteSignature,
                     fmt::format("Unsupported AWS 'algorithm': '{}'", algorithm)};
  }
  std::string_view credential, signed_headers, signature;
  bool have_credential = false, have_signed_headers = false, have_signature = false;
  const std::string_view params = space == std::string_view::npos ? "" : whole.substr(space + 1);
  for (std::string_view part : Split(params, ',')) {
    part = Trim(part);
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = part.substr(0, eq);
    const std::string_view v = part.substr(eq + 1);
    if (key == "Credential") {
      credential = v;
      have_credential = true;
    } else if (key == "SignedHeaders") {
      signed_headers = v;
      have_signed_headers = true;
    } else if (key == "Signature") {
      signature = v;
      have_signature = true;
    }
  }
  std::string missing;
  if (!have_credential) missing += "Authorization header requires 'Credential' parameter. ";
  if (!have_signature) missing += "Authorization header requires 'Signature' parameter. ";
  if (!have_signed_headers) missing += "Authorization header requires 'SignedHeaders' parameter. ";
  if (!missing.empty()) {
    return AuthError{AuthErrorKind::kIncompleteSignature,
                     fmt::format("{}Authorization={}", missing, whole)};
  }
  const std::vector<std::string_view> scope = Split(credential, '/');
  if (scope.size() != 5) {
    return AuthError{AuthErrorKind::kIncompleteSignature,
                     fmt::format("Credential must have exactly 5 slash-delimited elements, e.g. "
                                 "keyid/date/region/service/term, got '{}'",
                                 credential)};
  }
  AuthorizationHeader parsed;
  parsed.credential = {std::string(scope[0]), std::string(scope[1]), std::string(scope[2]),
                       std::string(scope[3]), std::string(scope[4])};
  for (std::string_view name : Split(signed_headers, ';')) {
    if (name.empty()) continue;
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    parsed.signed_headers.push_back(std::move(lower));
  }
  if (parsed.signed_headers.empty()) {
    return AuthError{AuthErrorKind::kIncompleteSignature,
                     fmt::format("Authorization header requires 'SignedHeaders' parameter. "
                                 "Authorization={}",
                                 whole)};
  }
  parsed.signature = std::string(signature);
  return parsed;
}

std::string UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (Unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string CanonicalUri(std::string_view wire_path) {
  if (wire_path.empty()) return "/";
  std::vector<std::string_view> segments;
  for (std::string_view segment : Split(wire_path, '/')) {
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(segment);
  }
  std::string normalized = wire_path.front() == '/' ? "/" : "";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) normalized.push_back('/');
    normalized.append(segments[i]);
  }
  if (!segments.empty() && wire_path.back() == '/') normalized.push_back('/');
  return UriEncode(normalized, /*keep_slash=*/true);
}

std::string CanonicalQuery(std::string_view wire_query) {
  std::vector<std::pair<std::string, std::string>> params;
  for (std::string_view pair : Split(wire_query, '&')) {
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    const std::string_view name = pair.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    params.emplace_back(UriEncode(PercentDecode(name), false),
                        UriEncode(PercentDecode(value), false));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out.append(name);
    out.push_back('=');
    out.append(value);
  }
  return out;
}

std::string CanonicalHeaders(const HeaderList& headers,
                             std::span<const std::string> signed_headers) {
  std::string out;
  for (const std::string& name : SortedUnique(signed_headers)) {
    out.append(name);
    out.push_back(':');
    bool first = true;
    for (const auto& [header, value] : headers) {
      if (header != name) continue;
      if (!first) out.push_back(',');
      first = false;
      AppendNormalizedValue(value, out);
    }
    out.push_back('\n');
  }
  return out;
}

std::string CanonicalRequest(const SigV4Request& request,
                             std::span<const std::string> signed_headers,
                             std::string_view payload_hash_hex) {
  static const HeaderList kNoHeaders;
  const HeaderList& headers = request.headers != nullptr ? *request.headers : kNoHeaders;
  return fmt::format("{}\n{}\n{}\n{}\n{}\n{}", request.method, CanonicalUri(request.path),
                     CanonicalQuery(request.query), CanonicalHeaders(headers, signed_headers),
                     fmt::join(SortedUnique(signed_headers), ";"), payload_hash_hex);
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  return fmt::format("{}\n{}\n{}\n{}", kAlgorithm, amz_date, scope, Sha256Hex(canonical_request));
}

Digest SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                  std::string_view service) {
  const Digest k_date = HmacSha256("AWS4" + std::string(secret), date);
  const Digest k_region = HmacSha256(AsString(k_date), region);
  const Digest k_service = HmacSha256(AsString(k_region), service);
  return HmacSha256(AsString(k_service), kTerminator);
}

std::string SignatureHex(const Digest& signing_key, std::string_view string_to_sign) {
  return ToHex(HmacSha256(AsString(signing_key), string_to_sign));
}

void SignRequest(std::string_view method, std::string_view path, std::string_view query,
                 HeaderList& headers, std::string_view body, const SigningCredentials& credentials,
                 std::string_view region, std::string_view service, int64_t epoch_seconds) {
  std::erase_if(headers, [](const auto& h) {
    return h.first == "authorization" || h.first == "x-amz-date" ||
           h.first == "x-amz-security-token";
  });
  const std::string amz_date = FormatAmzDate(epoch_seconds);
  headers.emplace_back("x-amz-date", amz_date);
  if (!credentials.session_token.empty()) {
    headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  std::vector<std::string> signed_headers;
  for (const auto& [name, value] : headers) signed_headers.push_back(name);
  signed_headers = SortedUnique(signed_headers);

  const CredentialScope scope{credentials.access_key_id, amz_date.substr(0, 8), std::string(region),
                              std::string(service), std::string(kTerminator)};
  const SigV4Request request{method, path, query, &headers, body};
  const std::string canonical = CanonicalRequest(request, signed_headers, Sha256Hex(body));
  const std::string signature =
      SignatureHex(SigningKey(credentials.secret_access_key, scope.date, region, service),
                   StringToSign(amz_date, scope.Scope(), canonical));
  headers.emplace_back("authorization",
                       fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}",
                                   kAlgorithm, credentials.access_key_id, scope.Scope(),
                                   fmt::join(signed_headers, ";"), signature));
}

}  // namespace roentgen::auth
