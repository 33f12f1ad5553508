#include "auth/authorizer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "auth/auth_test_util.h"
#include "auth/session_keys_api.h"

namespace roentgen::auth {
namespace {

using nlohmann::json;
using testing::kNow;
using testing::kSecond;
using testing::SignedRequest;

const SigningCredentials kAdmin{"AKRGADMINAAAAAAAAAAA", "admin-secret-0123456789", ""};
const SigningCredentials kWriter{"AKRGWRITERAAAAAAAAAA", "writer-secret-0123456789", ""};
const SigningCredentials kReader{"AKRGREADERAAAAAAAAAA", "reader-secret-0123456789", ""};
const SigningCredentials kBackend{"AKRGBACKENDAAAAAAAAA", "backend-secret-012345678", ""};

std::string ErrorType(const std::optional<api::HttpResponse>& r) {
  if (!r) return "allowed";
  for (const auto& [name, value] : r->headers) {
    if (name == "x-amzn-ErrorType") return value;
  }
  return "?";
}

class AuthorizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(
        WriteKeysFile(
            file_.path(),
            testing::MakeKeysFile({
                {kAdmin.access_key_id, kAdmin.secret_access_key, "admin", {"*"}, 0},
                {kWriter.access_key_id,
                 kWriter.secret_access_key,
                 "writer",
                 {"xray:PutTraceSegments"},
                 0},
                {kReader.access_key_id, kReader.secret_access_key, "reader", {"xray:Get*"}, 0},
                {kBackend.access_key_id,
                 kBackend.secret_access_key,
                 "backend",
                 {"roentgen:CreateSessionKeys", "xray:Put*", "xray:GetTraceSummaries"},
                 0},
            }))
            .ok());
    ASSERT_TRUE(store_.Load().ok());
    RegisterSessionKeysApi(router_, authorizer_);
  }

  // The whole path of a request: the check, then the router.
  api::HttpResponse Serve(const api::HttpRequest& request) {
    if (std::optional<api::HttpResponse> refused = authorizer_.Check(request)) return *refused;
    api::HttpResponse out;
    router_.Dispatch(request, [&out](api::HttpResponse r) { out = std::move(r); });
    return out;
  }

  testing::TempKeysFile file_;
  FakeClock clock_{kNow * kSecond};
  MetricsRegistry metrics_;
  KeyStore store_{{file_.path()}, clock_};
  Authorizer authorizer_{&store_, {}, clock_, metrics_};
  api::Router router_;
};

TEST_F(AuthorizerTest, WithoutKeysEverythingIsOpen) {
  Authorizer open(nullptr, {}, clock_, metrics_);
  EXPECT_TRUE(open.open());
  api::HttpRequest unsigned_request;
  unsigned_request.method = "POST";
  unsigned_request.path = "/TraceSummaries";
  EXPECT_EQ(open.Check(unsigned_request), std::nullopt);
}

TEST_F(AuthorizerTest, HealthMetricsAndConsoleStayOpen) {
  for (const char* path : {"/healthz", "/metrics", "/", "/index.html", "/assets/x.js"}) {
    api::HttpRequest r;
    r.method = "GET";
    r.path = path;
    EXPECT_EQ(ErrorType(authorizer_.Check(r)), "allowed") << path;
  }
}

TEST_F(AuthorizerTest, TheApiNeedsASignature) {
  api::HttpRequest r;
  r.method = "POST";
  r.path = "/TraceSummaries";
  r.headers = {{"host", "127.0.0.1:2000"}};
  std::optional<api::HttpResponse> refused = authorizer_.Check(r);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 403);
  EXPECT_EQ(ErrorType(refused), "MissingAuthenticationTokenException");
  EXPECT_EQ(json::parse(refused->body)["message"], "Missing Authentication Token");
  EXPECT_EQ(json::parse(refused->body)["__type"], "MissingAuthenticationTokenException");

  // Console paths other than GET are not open; /roentgen/* is API.
  r.path = "/roentgen/TraceAnalytics";
  EXPECT_EQ(ErrorType(authorizer_.Check(r)), "MissingAuthenticationTokenException");
}

TEST_F(AuthorizerTest, KeysAreAllowedTheirActionsOnly) {
  EXPECT_EQ(ErrorType(authorizer_.Check(SignedRequest("/TraceSegments", "{}", kWriter))),
            "allowed");
  std::optional<api::HttpResponse> denied =
      authorizer_.Check(SignedRequest("/TraceSummaries", "{}", kWriter));
  EXPECT_EQ(ErrorType(denied), "AccessDeniedException");
  EXPECT_EQ(denied->status, 403);
  EXPECT_EQ(json::parse(denied->body)["message"],
            "User: arn:roentgen:iam::key/AKRGWRITERAAAAAAAAAA is not authorized to perform: "
            "xray:GetTraceSummaries");

  // xray:Get* allows the reads, not BatchGetTraces or the writes.
  EXPECT_EQ(ErrorType(authorizer_.Check(SignedRequest("/TraceSummaries", "{}", kReader))),
            "allowed");
  EXPECT_EQ(ErrorType(authorizer_.Check(SignedRequest("/ServiceGraph", "{}", kReader))), "allowed");
  EXPECT_EQ(ErrorType(authorizer_.Check(SignedRequest("/Traces", "{}", kReader))),
            "AccessDeniedException");
  EXPECT_EQ(ErrorType(authorizer_.Check(SignedRequest("/TraceSegments", "{}", kReader))),
            "AccessDeniedException");
  EXPECT_EQ(ErrorType(authorizer_.Check(SignedRequest("/roentgen/TraceAnalytics", "{}", kReader))),
            "AccessDeniedException");

  // "*" allows everything, Roentgen's own API included.
  for (const char* path :
       {"/TraceSegments", "/Traces", "/CreateGroup", "/roentgen/TraceAnalytics", "/v1/traces"}) {
    EXPECT_EQ(ErrorType(authorizer_.Check(SignedRequest(path, "{}", kAdmin))), "allowed") << path;
  }
}

TEST_F(AuthorizerTest, BadSignaturesAndUnknownKeys) {
  const SigningCredentials wrong_secret{kAdmin.access_key_id, "not-the-secret-000000", ""};
  EXPECT_EQ(ErrorType(authorizer_.Check(SignedRequest("/TraceSummaries", "{}", wrong_secret))),
            "InvalidSignatureException");
  const SigningCredentials unknown{"AKRGUNKNOWNAAAAAAAAA", "whatever-secret-0000", ""};
  std::optional<api::HttpResponse> r =
      authorizer_.Check(SignedRequest("/TraceSummaries", "{}", unknown));
  EXPECT_EQ(ErrorType(r), "UnrecognizedClientException");
  EXPECT_EQ(json::parse(r->body)["message"],
            "The security token included in the request is invalid.");

  api::HttpRequest tampered =
      SignedRequest("/TraceSegments", R"({"TraceSegmentDocuments":[]})", kAdmin);
  tampered.body = R"({"TraceSegmentDocuments":["evil"]})";
  EXPECT_EQ(ErrorType(authorizer_.Check(tampered)), "InvalidSignatureException");

  EXPECT_EQ(
      ErrorType(authorizer_.Check(SignedRequest("/TraceSummaries", "{}", kAdmin, kNow - 301))),
      "InvalidSignatureException");

  // Refusals are counted by reason.
  const std::string text = metrics_.RenderText();
  EXPECT_NE(text.find("roentgen_auth_refused_total{reason=\"InvalidSignatureException\"} 3"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("roentgen_auth_refused_total{reason=\"UnrecognizedClientException\"} 1"),
            std::string::npos);
}

TEST_F(AuthorizerTest, UnknownPathsNeedASignatureThenGetTheRoutersAnswer) {
  EXPECT_EQ(ErrorType(authorizer_.Check(SignedRequest("/NoSuchOperation", "{}", kWriter))),
            "allowed");
  api::HttpRequest unsigned_request;
  unsigned_request.method = "POST";
  unsigned_request.path = "/NoSuchOperation";
  EXPECT_EQ(ErrorType(authorizer_.Check(unsigned_request)), "MissingAuthenticationTokenException");
  EXPECT_EQ(Serve(SignedRequest("/NoSuchOperation", "{}", kWriter)).status, 404);
}

TEST_F(AuthorizerTest, UnsignedRoutesAreOpenToTheirNetworksOnly) {
  // A test route marked "unsigned from allowed networks", as serve marks the
  // SDKs' sampling routes.
  Authorizer authorizer(
      &store_, {}, clock_, metrics_,
      {{{"POST", "/TestUnsigned"}}, NetworkAllowlist::Parse("127.0.0.0/8,fd00::/8").value()});
  auto from = [](std::string address, std::string method = "POST",
                 std::string path = "/TestUnsigned") {
    api::HttpRequest r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.headers = {{"host", "127.0.0.1:2000"}};
    r.remote_address = std::move(address);
    return r;
  };
  EXPECT_EQ(ErrorType(authorizer.Check(from("127.0.0.1"))), "allowed");
  EXPECT_EQ(ErrorType(authorizer.Check(from("::ffff:127.0.0.9"))), "allowed");
  EXPECT_EQ(ErrorType(authorizer.Check(from("fd00::17"))), "allowed");
  // Elsewhere, or another method or path: a signature as usual.
  EXPECT_EQ(ErrorType(authorizer.Check(from("192.0.2.10"))), "MissingAuthenticationTokenException");
  EXPECT_EQ(ErrorType(authorizer.Check(from("2001:db8::1"))),
            "MissingAuthenticationTokenException");
  EXPECT_EQ(ErrorType(authorizer.Check(from("127.0.0.1", "GET"))),
            "MissingAuthenticationTokenException");
  EXPECT_EQ(ErrorType(authorizer.Check(from("127.0.0.1", "POST", "/TraceSegments"))),
            "MissingAuthenticationTokenException");
  api::HttpRequest signed_from_outside = SignedRequest("/TestUnsigned", "{}", kWriter);
  signed_from_outside.remote_address = "192.0.2.10";
  EXPECT_EQ(ErrorType(authorizer.Check(signed_from_outside)), "allowed");
  EXPECT_NE(metrics_.RenderText().find("roentgen_auth_unsigned_allowed_total 3\n"),
            std::string::npos);

  // Marked routes are closed to every network by default.
  Authorizer no_networks(&store_, {}, clock_, metrics_, {{{"POST", "/TestUnsigned"}}, {}});
  EXPECT_EQ(ErrorType(no_networks.Check(from("127.0.0.1"))), "MissingAuthenticationTokenException");
}

TEST_F(AuthorizerTest, CreateSessionKeysGivesKeysThatCanDoNoMoreThanTheirMaker) {
  api::HttpResponse created = Serve(SignedRequest(
      "/roentgen/CreateSessionKeys",
      R"({"Actions": ["xray:PutTraceSegments"], "DurationSeconds": 900, "Name": "web"})",
      kBackend));
  ASSERT_EQ(created.status, 200) << created.body;
  const json keys = json::parse(created.body);
  EXPECT_TRUE(keys["AccessKeyId"].get<std::string>().starts_with("ASRG"));
  EXPECT_EQ(keys["Expiration"], "2025-12-06T00:15:00Z");
  const SigningCredentials session{keys["AccessKeyId"], keys["SecretAccessKey"],
                                   keys["SessionToken"]};

  EXPECT_EQ(ErrorType(authorizer_.Check(SignedRequest("/TraceSegments", "{}", session))),
            "allowed");
  EXPECT_EQ(ErrorType(authorizer_.Check(SignedRequest("/TraceSummaries", "{}", session))),
            "AccessDeniedException");
  // Without its token, the session key is unknown.
  const SigningCredentials no_token{session.access_key_id, session.secret_access_key, ""};
  EXPECT_EQ(ErrorType(authorizer_.Check(SignedRequest("/TraceSegments", "{}", no_token))),
            "UnrecognizedClientException");

  // Expired after DurationSeconds.
  clock_.Advance(900 * kSecond);
  EXPECT_EQ(
      ErrorType(authorizer_.Check(SignedRequest("/TraceSegments", "{}", session, kNow + 900))),
      "ExpiredTokenException");
}

TEST_F(AuthorizerTest, CreateSessionKeysRefusals) {
  auto create = [&](const std::string& body, const SigningCredentials& key) {
    return Serve(SignedRequest("/roentgen/CreateSessionKeys", body, key));
  };
  // More than the maker has.
  api::HttpResponse greedy = create(R"({"Actions": ["xray:*"]})", kBackend);
  EXPECT_EQ(greedy.status, 403);
  EXPECT_EQ(
      json::parse(greedy.body)["message"],
      "User: arn:roentgen:iam::key/AKRGBACKENDAAAAAAAAA is not authorized to perform: xray:*");
  EXPECT_EQ(create(R"({"Actions": ["xray:BatchGetTraces"]})", kBackend).status, 403);
  // Covered by a wildcard of the maker's.
  EXPECT_EQ(create(R"({"Actions": ["xray:PutTelemetryRecords"]})", kBackend).status, 200);
  // The maker needs roentgen:CreateSessionKeys itself.
  EXPECT_EQ(create(R"({"Actions": ["xray:PutTraceSegments"]})", kWriter).status, 403);
  // Bad bodies.
  EXPECT_EQ(create("nope", kBackend).status, 400);
  EXPECT_EQ(create(R"({"Actions": []})", kBackend).status, 400);
  EXPECT_EQ(create(R"({"Actions": ["s3:GetObject"]})", kBackend).status, 400);
  api::HttpResponse short_duration =
      create(R"({"Actions": ["xray:PutTraceSegments"], "DurationSeconds": 60})", kBackend);
  EXPECT_EQ(short_duration.status, 400);
  EXPECT_EQ(json::parse(short_duration.body)["__type"], "InvalidRequestException");
  EXPECT_EQ(create(R"({"Actions": ["xray:PutTraceSegments"], "DurationSeconds": 43201})", kBackend)
                .status,
            400);

  // Session keys cannot make session keys, even with the action.
  const json admin_session = json::parse(create(R"({"Actions": ["*"]})", kAdmin).body);
  const SigningCredentials session{admin_session["AccessKeyId"], admin_session["SecretAccessKey"],
                                   admin_session["SessionToken"]};
  EXPECT_EQ(create(R"({"Actions": ["xray:PutTraceSegments"]})", session).status, 403);
}

TEST_F(AuthorizerTest, SessionKeysDieWithTheirMaker) {
  const json keys =
      json::parse(Serve(SignedRequest("/roentgen/CreateSessionKeys",
                                      R"({"Actions": ["xray:PutTraceSegments"]})", kBackend))
                      .body);
  const SigningCredentials session{keys["AccessKeyId"], keys["SecretAccessKey"],
                                   keys["SessionToken"]};
  EXPECT_EQ(ErrorType(authorizer_.Check(SignedRequest("/TraceSegments", "{}", session))),
            "allowed");
  ASSERT_TRUE(WriteKeysFile(file_.path(),
                            testing::MakeKeysFile(
                                {{kAdmin.access_key_id, kAdmin.secret_access_key, "", {"*"}, 0}}))
                  .ok());
  store_.Reload();
  EXPECT_EQ(ErrorType(authorizer_.Check(SignedRequest("/TraceSegments", "{}", session))),
            "UnrecognizedClientException");
}

TEST_F(AuthorizerTest, CreateSessionKeysOnAnOpenServerSaysSo) {
  Authorizer open(nullptr, {}, clock_, metrics_);
  api::Router router;
  RegisterSessionKeysApi(router, open);
  api::HttpRequest r;
  r.method = "POST";
  r.path = "/roentgen/CreateSessionKeys";
  r.body = R"({"Actions": ["*"]})";
  api::HttpResponse out;
  router.Dispatch(r, [&out](api::HttpResponse response) { out = std::move(response); });
  EXPECT_EQ(out.status, 400);
  EXPECT_NE(out.body.find("without a keys file"), std::string::npos);
}

}  // namespace
}  // namespace roentgen::auth
