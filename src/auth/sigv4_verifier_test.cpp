#include "auth/sigv4_verifier.h"

#include <gtest/gtest.h>

#include "auth/amz_time.h"
#include "auth/auth_test_util.h"
#include "common/clock.h"

namespace roentgen::auth {
namespace {

using testing::kNow;
using testing::kSecond;

const SigningCredentials kKey{"AKRGEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};

struct Request {
  std::string method = "POST";
  std::string path = "/TraceSummaries";
  std::string query;
  HeaderList headers = {{"host", "127.0.0.1:2000"}, {"content-type", "application/json"}};
  std::string body = R"({"StartTime":1764975600,"EndTime":1764979200})";
  SigV4Request View() const { return {method, path, query, &headers, body}; }
  void Sign(int64_t at = kNow, std::string_view service = "xray",
            const SigningCredentials& key = kKey) {
    SignRequest(method, path, query, headers, body, key, "us-east-1", service, at);
  }
  void Set(std::string_view name, std::string value) {
    for (auto& [n, v] : headers) {
      if (n == name) {
        v = std::move(value);
        return;
      }
    }
    headers.emplace_back(std::string(name), std::move(value));
  }
};

class SigV4VerifierTest : public ::testing::Test {
 protected:
  // Prepares and checks with kKey's secret: the first error, if any.
  std::optional<AuthError> Verify(const Request& r,
                                  std::string_view secret = kKey.secret_access_key) {
    AuthResult<PendingSignature> pending = verifier_.Prepare(r.View());
    if (!pending.ok()) return pending.error();
    AuthResult<bool> checked = SigV4Verifier::CheckSignature(pending.value(), secret);
    if (!checked.ok()) return checked.error();
    return std::nullopt;
  }

  FakeClock clock_{kNow * kSecond};
  SigV4Verifier verifier_{{}, clock_};
};

TEST_F(SigV4VerifierTest, AcceptsAFreshlySignedRequest) {
  Request r;
  r.Sign();
  EXPECT_EQ(Verify(r), std::nullopt);
}

TEST_F(SigV4VerifierTest, UnsignedRequestIsMissingAuthenticationToken) {
  Request r;
  std::optional<AuthError> e = Verify(r);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->name(), "MissingAuthenticationTokenException");
  EXPECT_EQ(e->message, "Missing Authentication Token");
  EXPECT_EQ(e->http_status(), 403);
}

TEST_F(SigV4VerifierTest, WrongSecretIsInvalidSignatureWithTheCanonicalRequest) {
  Request r;
  r.Sign();
  std::optional<AuthError> e = Verify(r, "not-the-secret");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->name(), "InvalidSignatureException");
  EXPECT_TRUE(e->message.starts_with(
      "The request signature we calculated does not match the signature you provided."))
      << e->message;
  EXPECT_NE(e->message.find("POST\n/TraceSummaries\n"), std::string::npos) << e->message;
  EXPECT_EQ(e->message.find("not-the-secret"), std::string::npos);
}

TEST_F(SigV4VerifierTest, TamperedBodyOrHeadersFail) {
  Request body;
  body.Sign();
  body.body = R"({"StartTime":0,"EndTime":1764979200})";
  ASSERT_TRUE(Verify(body).has_value());
  EXPECT_EQ(Verify(body)->kind, AuthErrorKind::kInvalidSignature);

  Request header;
  header.Sign();
  header.Set("content-type", "text/plain");
  ASSERT_TRUE(Verify(header).has_value());
  EXPECT_EQ(Verify(header)->kind, AuthErrorKind::kInvalidSignature);

  Request path;
  path.Sign();
  path.path = "/TraceSegments";
  ASSERT_TRUE(Verify(path).has_value());

  Request query;
  query.Sign();
  query.query = "x=1";
  ASSERT_TRUE(Verify(query).has_value());

  // An unsigned header may be added on the way (a proxy's), as AWS allows.
  Request added;
  added.Sign();
  added.headers.emplace_back("x-forwarded-for", "10.0.0.1");
  EXPECT_EQ(Verify(added), std::nullopt);
}

TEST_F(SigV4VerifierTest, ContentSha256HeaderMustBeTheBodysHash) {
  // A client claiming another payload hash (signed, so the signature would
  // match what it claims) is refused: the hash is always computed.
  Request r;
  r.Set("x-amz-content-sha256", Sha256Hex("something else"));
  r.Sign();
  std::optional<AuthError> e = Verify(r);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->name(), "InvalidSignatureException");
  EXPECT_EQ(e->message,
            "The provided 'x-amz-content-sha256' header does not match what was computed.");

  Request unsigned_payload;
  unsigned_payload.Set("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
  unsigned_payload.Sign();
  EXPECT_TRUE(Verify(unsigned_payload).has_value());

  Request right;
  right.Set("x-amz-content-sha256", Sha256Hex(right.body));
  right.Sign();
  EXPECT_EQ(Verify(right), std::nullopt);
}

TEST_F(SigV4VerifierTest, ClockSkewOfFiveMinutesEitherWay) {
  for (int64_t offset : {-300, -1, 0, 1, 300}) {
    Request r;
    r.Sign(kNow + offset);
    EXPECT_EQ(Verify(r), std::nullopt) << offset;
  }
  Request old;
  old.Sign(kNow - 301);
  std::optional<AuthError> e = Verify(old);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->name(), "InvalidSignatureException");
  EXPECT_EQ(e->message,
            "Signature expired: 20251205T235459Z is now earlier than 20251205T235500Z "
            "(20251206T000000Z - 5 min.)");

  Request future;
  future.Sign(kNow + 301);
  e = Verify(future);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->message,
            "Signature not yet current: 20251206T000501Z is still later than 20251206T000500Z "
            "(20251206T000000Z + 5 min.)");

  // The same request ages out as the clock moves on.
  Request r;
  r.Sign();
  clock_.Advance(300 * kSecond);
  EXPECT_EQ(Verify(r), std::nullopt);
  clock_.Advance(1 * kSecond);
  EXPECT_TRUE(Verify(r).has_value());
}

TEST_F(SigV4VerifierTest, CredentialScopedToAnotherServiceIsRefused) {
  Request r;
  r.Sign(kNow, "execute-api");
  std::optional<AuthError> e = Verify(r);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->name(), "InvalidSignatureException");
  EXPECT_EQ(e->message, "Credential should be scoped to correct service: 'xray'.");
}

TEST_F(SigV4VerifierTest, CredentialDateMustMatchTheRequestDate) {
  Request r;
  r.Sign();
  // Re-sign by hand with a scope date of the day before.
  std::string auth;
  for (auto& [n, v] : r.headers) {
    if (n == "authorization") {
      v.replace(v.find("20251206"), 8, "20251205");
      auth = v;
    }
  }
  std::optional<AuthError> e = Verify(r);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->name(), "InvalidSignatureException");
  EXPECT_EQ(e->message,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
            "HTTP: '20251205' != '20251206', from '20251206T000000Z'.");
}

TEST_F(SigV4VerifierTest, ScopeTerminatorAndRegionAreChecked) {
  Request r;
  r.Sign();
  for (auto& [n, v] : r.headers) {
    if (n == "authorization") v.replace(v.find("aws4_request"), 12, "aws5_request");
  }
  ASSERT_TRUE(Verify(r).has_value());
  EXPECT_EQ(Verify(r)->message,
            "Credential should be scoped with a valid terminator: 'aws4_request', not "
            "'aws5_request'.");

  Request region;
  SignRequest(region.method, region.path, region.query, region.headers, region.body, kKey,
              "Not A Region", "xray", kNow);
  ASSERT_TRUE(Verify(region).has_value());
  EXPECT_EQ(Verify(region)->message,
            "Credential should be scoped to a valid region, not 'Not A Region'.");
}

TEST_F(SigV4VerifierTest, HostMustBeSigned) {
  Request r;
  r.Sign();
  for (auto& [n, v] : r.headers) {
    if (n == "authorization") {
      const size_t at = v.find("host;");
      v.erase(at, 5);
    }
  }
  std::optional<AuthError> e = Verify(r);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->message,
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
}

TEST_F(SigV4VerifierTest, DateHeaderAndMissingOrMalformedDates) {
  // Signed with Date instead of X-Amz-Date (the string to sign uses the basic format).
  Request dated;
  dated.Set("date", "Sat, 06 Dec 2025 00:00:00 GMT");
  {
    std::vector<std::string> names;
    for (const auto& [n, v] : dated.headers) names.push_back(n);
    const std::string creq = CanonicalRequest(dated.View(), names, Sha256Hex(dated.body));
    const std::string sts =
        StringToSign("20251206T000000Z", "20251206/us-east-1/xray/aws4_request", creq);
    const std::string sig =
        SignatureHex(SigningKey(kKey.secret_access_key, "20251206", "us-east-1", "xray"), sts);
    dated.headers.emplace_back(
        "authorization",
        "AWS4-HMAC-SHA256 Credential=AKRGEXAMPLE/20251206/us-east-1/xray/aws4_request, "
        "SignedHeaders=content-type;date;host, Signature=" +
            sig);
  }
  EXPECT_EQ(Verify(dated), std::nullopt);

  Request no_date;
  no_date.Sign();
  std::erase_if(no_date.headers, [](const auto& h) { return h.first == "x-amz-date"; });
  std::optional<AuthError> e = Verify(no_date);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->name(), "IncompleteSignatureException");
  EXPECT_TRUE(
      e->message.starts_with("Authorization header requires existence of either a "
                             "'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC"))
      << e->message;

  Request bad_date;
  bad_date.Sign();
  bad_date.Set("x-amz-date", "2025-12-06T00:00:00Z");
  e = Verify(bad_date);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->name(), "IncompleteSignatureException");
  EXPECT_TRUE(
      e->message.starts_with("Date must be in ISO-8601 'basic format'. Got "
                             "'2025-12-06T00:00:00Z'."));
}

TEST_F(SigV4VerifierTest, ReportsTheSessionTokenAndAccessKey) {
  Request r;
  r.Sign(kNow, "xray", {"ASRGEXAMPLE", "s", "the-token"});
  AuthResult<PendingSignature> pending = verifier_.Prepare(r.View());
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->credential.access_key_id, "ASRGEXAMPLE");
  EXPECT_EQ(pending->session_token, "the-token");
}

}  // namespace
}  // namespace roentgen::auth
