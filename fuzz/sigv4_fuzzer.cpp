// Fuzzes SigV4 verification as the server runs it before routing
// (auth::Authorizer over a keys file with one key and a session-token key):
// the Authorization header parser, the canonical request (URI, query,
// headers), the credential scope and date checks, the payload hash, session
// tokens and the signature check.
//
// Input: an HTTP request as text: "METHOD /path?query", header lines
// "name: value", an empty line, the body. The request is checked as it is;
// with a leading '!' it is first signed (auth::SignRequest, as the AWS SDKs
// sign) with the long-lived key, with a leading '@' with a session key (its
// headers then limited to what the HTTP server lets through).
// Invariants: a request the signer signed is verified as that key; a refusal
// has AWS's name, a message, and a 4xx status.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <unistd.h>

#include "api/http.h"
#include "auth/authorizer.h"
#include "auth/key_store.h"
#include "auth/keys_file.h"
#include "auth/session_token.h"
#include "auth/sigv4.h"
#include "common/metrics.h"
#include "fuzz_check.h"

using namespace roentgen;

namespace {

constexpr int64_t kNow = 1769860800;  // 2026-01-31T12:00:00Z, the seeds' X-Amz-Date
constexpr std::string_view kKeyId = "AKRGFUZZEXAMPLE00001";
constexpr std::string_view kSecret = "fuzzSecretKeyfuzzSecretKeyfuzzSecretKey1";
constexpr std::string_view kSessionTokenKey = "0123456789abcdef0123456789abcdef";  // 32 bytes

struct Environment {
  Environment() : clock(kNow * 1'000'000) {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                      ("roentgen-sigv4-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    path = (dir / "keys.json").string();
    auth::KeysFile file;
    file.session_token_key = std::string(kSessionTokenKey);
    file.keys.push_back({std::string(kKeyId), std::string(kSecret), "fuzz",
                         {"xray:Get*", "xray:PutTraceSegments"}, kNow});
    if (!auth::WriteKeysFile(path, file).ok()) std::abort();
    keys = std::make_unique<auth::KeyStore>(auth::KeyStoreConfig{path}, clock);
    if (!keys->Load().ok()) std::abort();
    authorizer = std::make_unique<auth::Authorizer>(keys.get(), auth::SigV4VerifierConfig{},
                                                    clock, metrics);
    auth::SessionClaims claims;
    claims.access_key_id = "ASRGFUZZEXAMPLE00002";
    claims.issued_s = kNow - 60;
    claims.expiration_s = kNow + 3600;
    claims.actions = {"xray:*"};
    claims.name = "fuzz-session";
    session = auth::MintSessionKeys(kSessionTokenKey, claims);
  }
  ~Environment() { std::filesystem::remove_all(std::filesystem::path(path).parent_path()); }
  static Environment& Get() {
    static Environment e;
    return e;
  }

  FakeClock clock;
  std::string path;
  MetricsRegistry metrics;
  std::unique_ptr<auth::KeyStore> keys;
  std::unique_ptr<auth::Authorizer> authorizer;
  auth::SessionKeys session;
};

std::string_view NextLine(std::string_view& text) {
  const size_t end = text.find('\n');
  std::string_view line = text.substr(0, end);
  text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

api::HttpRequest ReadRequest(std::string_view text) {
  api::HttpRequest r;
  std::string_view line = NextLine(text);
  const size_t space = line.find(' ');
  r.method = std::string(line.substr(0, space));
  r.target = space == std::string_view::npos ? "/" : std::string(line.substr(space + 1));
  const size_t question = r.target.find('?');
  r.path = r.target.substr(0, question);
  if (question != std::string::npos) r.query = r.target.substr(question + 1);
  while (!text.empty()) {
    line = NextLine(text);
    if (line.empty()) break;
    const size_t colon = line.find(':');
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    r.headers.emplace_back(std::move(name), std::string(value));
  }
  r.body = std::string(text);
  r.remote_address = "127.0.0.1";
  return r;
}

// What the signer adds itself, or what would change the request after signing.
bool SignerOwns(std::string_view name) {
  return name == "authorization" || name == "x-amz-date" || name == "date" ||
         name == "x-amz-security-token" || name == "x-amz-content-sha256";
}

// A header the HTTP server passes on: a token for a name (RFC 9110), no
// control characters but tab in the value (Beast refuses the request otherwise).
bool Receivable(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) &&
        std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) {
      return false;
    }
  }
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

void CheckRefusal(const auth::AuthError& error) {
  FUZZ_CHECK(!error.name().empty());
  FUZZ_CHECK(!error.message.empty());
  FUZZ_CHECK(error.http_status() >= 400 && error.http_status() < 500);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Environment& env = Environment::Get();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const char mode = text.empty() ? ' ' : text.front();
  if (mode == '!' || mode == '@') text.remove_prefix(1);
  api::HttpRequest request = ReadRequest(text);

  auth::AuthResult<auth::AuthorizationHeader> header =
      auth::ParseAuthorizationHeader(request.Header("authorization"));
  if (!header.ok()) CheckRefusal(header.error());

  if (mode == '!' || mode == '@') {
    std::erase_if(request.headers, [](const auto& h) {
      return SignerOwns(h.first) || !Receivable(h.first, h.second);
    });
    if (request.Header("host").empty()) request.headers.emplace_back("host", "127.0.0.1:2000");
    const auth::SigningCredentials credentials =
        mode == '!' ? auth::SigningCredentials{std::string(kKeyId), std::string(kSecret), ""}
                    : auth::SigningCredentials{env.session.access_key_id,
                                               env.session.secret_access_key,
                                               env.session.session_token};
    auth::SignRequest(request.method, request.path, request.query, request.headers, request.body,
                      credentials, "us-east-1", "xray", kNow);
    auth::AuthResult<auth::Identity> identity = env.authorizer->Authenticate(request);
    if (!identity.ok()) {
      std::fprintf(stderr, "signed request refused: %s: %s\n",
                   std::string(identity.error().name()).c_str(), identity.error().message.c_str());
    }
    FUZZ_CHECK(identity.ok());
    FUZZ_CHECK(identity->access_key_id == credentials.access_key_id);
  }

  std::optional<api::HttpResponse> refusal = env.authorizer->Check(request);
  if (refusal) {
    FUZZ_CHECK(refusal->status >= 400 && refusal->status < 500);
    FUZZ_CHECK(!refusal->body.empty());
  }
  auth::AuthResult<auth::Identity> identity = env.authorizer->Authenticate(request);
  if (!identity.ok()) CheckRefusal(identity.error());
  return 0;
}
