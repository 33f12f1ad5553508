// SigV4's canonical forms and signatures, checked against AWS's published
// Signature Version 4 test suite (service "service", region us-east-1,
// 2015-08-30T12:36:00Z, AKIDEXAMPLE): each case's signed request (.sreq) must
// verify, and where the suite gives the canonical request (.creq) and string
// to sign (.sts) they must match byte for byte.
#include "auth/sigv4.h"

#include <gtest/gtest.h>

#include "auth/sigv4_verifier.h"
#include "common/clock.h"
#include "common/hex.h"

namespace roentgen::auth {
namespace {

constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr int64_t k20150830T123600Z = 1440938160;

struct ParsedRequest {
  std::string method, path, query;
  HeaderList headers;
  std::string body;
  SigV4Request View() const { return {method, path, query, &headers, body}; }
};

// "METHOD target HTTP/1.1\nName:value\n…\n\nbody", as the suite writes requests.
ParsedRequest ParseSuiteRequest(std::string_view text) {
  ParsedRequest r;
  size_t eol = text.find('\n');
  std::string_view line = text.substr(0, eol);
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  r.method = std::string(line.substr(0, sp1));
  std::string target(line.substr(sp1 + 1, sp2 - sp1 - 1));
  size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
  while (!text.empty()) {
    eol = text.find('\n');
    line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (line.empty()) break;
    size_t colon = line.find(':');
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);  // as HTTP parsers do
    r.headers.emplace_back(std::move(name), std::string(value));
  }
  r.body = std::string(text);
  return r;
}

struct Vector {
  const char* name;
  const char* sreq;
};

// The suite's signed requests (from aws-sig-v4-test-suite, 2015-08-30).
const Vector kVectors[] = {
    {"get-vanilla",
     "GET / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\nAuthorization: "
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, "
     "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"post-vanilla",
     "POST / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\nAuthorization: "
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, "
     "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
    {"post-x-www-form-urlencoded",
     "POST / HTTP/1.1\nContent-Type:application/x-www-form-urlencoded\nHost:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z\nAuthorization: AWS4-HMAC-SHA256 "
     "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=content-type;host;x-amz-date, "
     "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a\n\nParam1=value1"},
    {"post-header-key-sort",
     "POST / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value1\nX-Amz-Date:20150830T123600Z\n"
     "Authorization: AWS4-HMAC-SHA256 "
     "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;my-header1;x-amz-date, "
     "Signature=c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
    {"post-header-value-case",
     "POST / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:VALUE1\nX-Amz-Date:20150830T123600Z\n"
     "Authorization: AWS4-HMAC-SHA256 "
     "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;my-header1;x-amz-date, "
     "Signature=cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
    {"get-header-value-trim",
     "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1: value1\nMy-Header2: \"a   b   c\"\n"
     "X-Amz-Date:20150830T123600Z\nAuthorization: AWS4-HMAC-SHA256 "
     "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;my-header1;my-header2;x-amz-date, "
     "Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
    {"get-header-key-duplicate",
     "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value2\nMy-Header1:value2\n"
     "My-Header1:value1\nX-Amz-Date:20150830T123600Z\nAuthorization: AWS4-HMAC-SHA256 "
     "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;my-header1;x-amz-date, "
     "Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
    {"get-header-value-order",
     "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value4\nMy-Header1:value1\n"
     "My-Header1:value3\nMy-Header1:value2\nX-Amz-Date:20150830T123600Z\nAuthorization: "
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;my-header1;x-amz-date, "
     "Signature=08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
    {"get-vanilla-query-order-key-case",
     "GET /?Param2=value2&Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z\nAuthorization: AWS4-HMAC-SHA256 "
     "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, "
     "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
    {"get-vanilla-query-order-key",
     "GET /?Param1=value2&Param1=Value1 HTTP/1.1\nHost:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z\nAuthorization: AWS4-HMAC-SHA256 "
     "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, "
     "Signature=eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"},
    {"get-vanilla-query-order-value",
     "GET /?Param1=value2&Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z\nAuthorization: AWS4-HMAC-SHA256 "
     "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, "
     "Signature=5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"},
    {"get-vanilla-query-unreserved",
     "GET /?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~"
     "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\n"
     "Host:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\nAuthorization: AWS4-HMAC-SHA256 "
     "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, "
     "Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
    {"get-vanilla-utf8-query",
     "GET /?\xe1\x88\xb4=bar HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"
     "Authorization: AWS4-HMAC-SHA256 "
     "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, "
     "Signature=2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
    {"post-vanilla-empty-query-value",
     "POST /?Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"
     "Authorization: AWS4-HMAC-SHA256 "
     "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, "
     "Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
    {"get-unreserved",
     "GET /-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\n"
     "Host:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\nAuthorization: AWS4-HMAC-SHA256 "
     "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, "
     "Signature=07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
    {"get-utf8",
     "GET /\xe1\x88\xb4 HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"
     "Authorization: AWS4-HMAC-SHA256 "
     "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, "
     "Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
    {"normalize-path/get-slashes",
     "GET //example// HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"
     "Authorization: AWS4-HMAC-SHA256 "
     "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, "
     "Signature=9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"},
    {"normalize-path/get-space",
     "GET /example space/ HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"
     "Authorization: AWS4-HMAC-SHA256 "
     "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, "
     "Signature=652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
    {"normalize-path/get-relative-relative",
     "GET /example1/example2/../.. HTTP/1.1\nHost:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z\nAuthorization: AWS4-HMAC-SHA256 "
     "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, "
     "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"normalize-path/get-slash-dot-slash",
     "GET /./ HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\nAuthorization: "
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, "
     "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"normalize-path/get-slash-pointless-dot",
     "GET /./example HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"
     "Authorization: AWS4-HMAC-SHA256 "
     "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, "
     "Signature=ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5"},
    {"post-sts-token/post-sts-header-before",
     "POST / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"
     "X-Amz-Security-Token:AQoDYXdzEPT//////////"
     "wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUu"
     "wthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75"
     "YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+"
     "scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==\n"
     "Authorization: AWS4-HMAC-SHA256 "
     "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date;x-amz-security-token, "
     "Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"},
};

class SuiteVectorTest : public testing::TestWithParam<Vector> {};

TEST_P(SuiteVectorTest, SignatureVerifies) {
  const ParsedRequest request = ParseSuiteRequest(GetParam().sreq);
  FakeClock clock(k20150830T123600Z * 1'000'000);
  SigV4Verifier verifier({.service = "service"}, clock);
  AuthResult<PendingSignature> pending = verifier.Prepare(request.View());
  ASSERT_TRUE(pending.ok()) << pending.error().message;
  EXPECT_EQ(pending->credential.access_key_id, "AKIDEXAMPLE");
  AuthResult<bool> checked = SigV4Verifier::CheckSignature(pending.value(), kSecret);
  EXPECT_TRUE(checked.ok()) << checked.error().message;

  // Any other secret fails.
  EXPECT_FALSE(
      SigV4Verifier::CheckSignature(pending.value(), "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ")
          .ok());
}

INSTANTIATE_TEST_SUITE_P(AwsSigV4TestSuite, SuiteVectorTest, testing::ValuesIn(kVectors),
                         [](const testing::TestParamInfo<Vector>& info) {
                           std::string name = info.param.name;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(SigV4Test, CanonicalRequestAndStringToSignMatchTheSuite) {
  // post-x-www-form-urlencoded's .creq and .sts.
  const ParsedRequest request = ParseSuiteRequest(kVectors[2].sreq);
  const std::vector<std::string> signed_headers = {"content-type", "host", "x-amz-date"};
  const std::string creq =
      CanonicalRequest(request.View(), signed_headers, Sha256Hex(request.body));
  EXPECT_EQ(
      creq,
      "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
      "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
      "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  EXPECT_EQ(StringToSign("20150830T123600Z", "20150830/us-east-1/service/aws4_request", creq),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");

  // get-vanilla-query-order-key's .creq: parameters sorted by name, then value.
  const ParsedRequest query = ParseSuiteRequest(kVectors[9].sreq);
  EXPECT_EQ(
      CanonicalRequest(query.View(), std::vector<std::string>{"host", "x-amz-date"}, Sha256Hex("")),
      "GET\n/\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\n"
      "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(SigV4Test, SigningKeyMatchesAwsDocumentation) {
  // "Derive a signing key", AWS General Reference (IAM, 2012-02-15).
  EXPECT_EQ(ToHex(SigningKey(kSecret, "20120215", "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigV4Test, CanonicalUriEncodesTheWirePathAgain) {
  EXPECT_EQ(CanonicalUri(""), "/");
  EXPECT_EQ(CanonicalUri("/TraceSummaries"), "/TraceSummaries");
  // A client sends "/a%20b" for "a b"; the canonical URI encodes it once more,
  // as every SDK does for services other than S3.
  EXPECT_EQ(CanonicalUri("/a%20b"), "/a%2520b");
  EXPECT_EQ(CanonicalUri("/roentgen/x/../TraceAnalytics"), "/roentgen/TraceAnalytics");
}

TEST(SigV4Test, CanonicalQueryDecodesAndReencodesStrictly) {
  EXPECT_EQ(CanonicalQuery(""), "");
  EXPECT_EQ(CanonicalQuery("b=2&a=1&a"), "a=&a=1&b=2");
  EXPECT_EQ(CanonicalQuery("k=a%2Fb&s=a b"), "k=a%2Fb&s=a%20b");
  EXPECT_EQ(CanonicalQuery("k=%7e"), "k=~");
}

TEST(SigV4Test, ParseAuthorizationHeaderReportsWhatIsMissing) {
  AuthResult<AuthorizationHeader> ok = ParseAuthorizationHeader(
      "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-west-2/xray/aws4_request,"
      "SignedHeaders=Host;x-amz-date,Signature=abc");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->credential.access_key_id, "AKID");
  EXPECT_EQ(ok->credential.region, "us-west-2");
  EXPECT_EQ(ok->credential.service, "xray");
  EXPECT_EQ(ok->signed_headers, (std::vector<std::string>{"host", "x-amz-date"}));
  EXPECT_EQ(ok->signature, "abc");

  AuthResult<AuthorizationHeader> missing = ParseAuthorizationHeader(
      "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/xray/aws4_request");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().name(), "IncompleteSignatureException");
  EXPECT_EQ(missing.error().http_status(), 400);
  EXPECT_EQ(missing.error().message,
            "Authorization header requires 'Signature' parameter. Authorization header requires "
            "'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 "
            "Credential=AKID/20150830/us-east-1/xray/aws4_request");

  AuthResult<AuthorizationHeader> short_scope = ParseAuthorizationHeader(
      "AWS4-HMAC-SHA256 Credential=AKID/20150830, SignedHeaders=host, Signature=abc");
  ASSERT_FALSE(short_scope.ok());
  EXPECT_EQ(short_scope.error().message,
            "Credential must have exactly 5 slash-delimited elements, e.g. "
            "keyid/date/region/service/term, got 'AKID/20150830'");

  AuthResult<AuthorizationHeader> basic = ParseAuthorizationHeader("Basic dXNlcjpwdw==");
  ASSERT_FALSE(basic.ok());
  EXPECT_EQ(basic.error().kind, AuthErrorKind::kIncompleteSignature);
  EXPECT_EQ(basic.error().message, "Unsupported AWS 'algorithm': 'Basic'");
}

TEST(SigV4Test, SignRequestProducesWhatTheVerifierAccepts) {
  HeaderList headers = {{"host", "127.0.0.1:2000"}, {"content-type", "application/json"}};
  const std::string body = R"({"StartTime":1,"EndTime":2})";
  SignRequest("POST", "/TraceSummaries", "", headers, body, {"AKRGEXAMPLE", "secret", "token-1"},
              "eu-west-1", "xray", k20150830T123600Z);
  FakeClock clock(k20150830T123600Z * 1'000'000);
  SigV4Verifier verifier({}, clock);
  AuthResult<PendingSignature> pending =
      verifier.Prepare({"POST", "/TraceSummaries", "", &headers, body});
  ASSERT_TRUE(pending.ok()) << pending.error().message;
  EXPECT_EQ(pending->session_token, "token-1");
  EXPECT_EQ(pending->credential.region, "eu-west-1");
  EXPECT_TRUE(SigV4Verifier::CheckSignature(pending.value(), "secret").ok());
}

}  // namespace
}  // namespace roentgen::auth
