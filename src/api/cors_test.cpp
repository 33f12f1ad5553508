#include "api/cors.h"

#include <gtest/gtest.h>

#include <memory>

namespace roentgen::api {
namespace {

std::string HeaderOf(const HttpResponse& r, std::string_view name) {
  std::string out;
  for (const auto& [n, v] : r.headers) {
    if (n == name) out += (out.empty() ? "" : " | ") + v;
  }
  return out;
}

HttpRequest Request(std::string method, std::string path, std::string origin = "",
                    std::string preflight_method = "") {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.target = r.path;
  r.remote_address = "127.0.0.1";
  if (!origin.empty()) r.headers.emplace_back("origin", origin);
  if (!preflight_method.empty()) {
    r.headers.emplace_back("access-control-request-method", preflight_method);
    r.headers.emplace_back("access-control-request-headers", "content-type,x-amz-date");
  }
  return r;
}

TEST(CorsConfigTest, OriginsAreCheckedAsBrowsersSendThem) {
  for (const char* good : {"https://app.example.com", "http://127.0.0.1:8080", "http://[::1]:3000",
                           "https://Console.Example.com", "http://localhost"}) {
    EXPECT_TRUE((CorsConfig{{good}}.Validate().ok())) << good;
  }
  EXPECT_TRUE((CorsConfig{{"*"}}.Validate().ok()));
  EXPECT_TRUE(CorsConfig{}.Validate().ok());
  EXPECT_EQ((CorsConfig{{"https://app.example.com/"}}.Validate()),
            Status::InvalidArgument(
                "CORS origin 'https://app.example.com/' is not an origin such as "
                "https://app.example.com or http://127.0.0.1:8080: it may hold only a scheme, a "
                "host and a port (no path, not even '/')"));
  EXPECT_EQ((CorsConfig{{"app.example.com"}}.Validate()),
            Status::InvalidArgument(
                "CORS origin 'app.example.com' is not an origin such as https://app.example.com "
                "or http://127.0.0.1:8080: it must begin with http:// or https://"));
  EXPECT_FALSE((CorsConfig{{"https://app.example.com:443"}}.Validate().ok()));
  EXPECT_FALSE((CorsConfig{{"http://host:99999"}}.Validate().ok()));
  EXPECT_FALSE((CorsConfig{{"http://host:"}}.Validate().ok()));
  EXPECT_FALSE((CorsConfig{{"http://[::1"}}.Validate().ok()));
  EXPECT_FALSE((CorsConfig{{"https://"}}.Validate().ok()));
  EXPECT_EQ((CorsConfig{{"*", "https://a.example"}}.Validate()),
            Status::InvalidArgument("CORS origin '*' (any origin) stands alone"));
}

TEST(CorsPolicyTest, AllowsTheConfiguredOriginsExactly) {
  CorsPolicy policy({{"https://app.example.com", "http://127.0.0.1:8080"}});
  EXPECT_EQ(policy.AllowOrigin("https://app.example.com"), "https://app.example.com");
  EXPECT_EQ(policy.AllowOrigin("HTTPS://APP.example.com"), "HTTPS://APP.example.com");
  EXPECT_EQ(policy.AllowOrigin("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
  EXPECT_EQ(policy.AllowOrigin("http://app.example.com"), "");  // another scheme
  EXPECT_EQ(policy.AllowOrigin("https://app.example.com:8443"), "");
  EXPECT_EQ(policy.AllowOrigin("https://evil.app.example.com"), "");
  EXPECT_EQ(policy.AllowOrigin("null"), "");
  EXPECT_EQ(policy.AllowOrigin(""), "");
  CorsPolicy any({{"*"}});
  EXPECT_TRUE(any.any_origin());
  EXPECT_EQ(any.AllowOrigin("https://anywhere.example"), "*");
  EXPECT_EQ(any.AllowOrigin(""), "");  // not a cross-origin request
}

class CorsRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("POST", "/TraceSegments", [](const HttpRequest&, Responder respond) {
      HttpResponse r;
      r.body = "{}";
      respond(std::move(r));
    });
    // The gate refuses every request without an Authorization header, as the
    // authorizer does with keys.
    router_.SetGate([this](const HttpRequest& r) -> std::optional<HttpResponse> {
      ++gated_;
      if (!r.Header("authorization").empty()) return std::nullopt;
      return ErrorResponse(403, "MissingAuthenticationTokenException",
                           "Missing Authentication Token");
    });
    router_.SetCors(std::make_shared<const CorsPolicy>(CorsConfig{{"https://app.example.com"}}));
  }
  HttpResponse Serve(const HttpRequest& request) {
    HttpResponse out;
    router_.Dispatch(request, [&out](HttpResponse r) { out = std::move(r); });
    return out;
  }

  Router router_;
  int gated_ = 0;
};

TEST_F(CorsRouterTest, PreflightsFromAllowedOriginsAreAnsweredBeforeTheGate) {
  HttpResponse preflight =
      Serve(Request("OPTIONS", "/TraceSegments", "https://app.example.com", "POST"));
  EXPECT_EQ(gated_, 0);
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(preflight.body, "");
  EXPECT_EQ(HeaderOf(preflight, "Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_EQ(HeaderOf(preflight, "Access-Control-Allow-Methods"), "POST, GET, OPTIONS");
  const std::string allowed_headers = HeaderOf(preflight, "Access-Control-Allow-Headers");
  for (const char* header : {"authorization", "content-type", "x-amz-date", "x-amz-security-token",
                             "x-amz-content-sha256", "x-amz-user-agent", "amz-sdk-invocation-id",
                             "amz-sdk-request", "traceparent", "x-amzn-trace-id"}) {
    EXPECT_NE(allowed_headers.find(header), std::string::npos) << header;
  }
  EXPECT_EQ(HeaderOf(preflight, "Access-Control-Max-Age"), "7200");
  EXPECT_NE(HeaderOf(preflight, "Vary").find("Origin"), std::string::npos);
}

TEST_F(CorsRouterTest, OtherPreflightsGoToTheGateWithoutCorsHeaders) {
  // An origin not allowed.
  HttpResponse refused =
      Serve(Request("OPTIONS", "/TraceSegments", "https://evil.example", "POST"));
  EXPECT_EQ(gated_, 1);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(HeaderOf(refused, "Access-Control-Allow-Origin"), "");
  // A method the path has no route for, or a path without routes: the
  // router's own answer (after the gate), which the page may read.
  HttpResponse get = Serve(Request("OPTIONS", "/TraceSegments", "https://app.example.com", "GET"));
  EXPECT_EQ(gated_, 2);
  EXPECT_EQ(get.status, 403);
  HttpResponse unknown = Serve(Request("OPTIONS", "/Nothing", "https://app.example.com", "POST"));
  EXPECT_EQ(unknown.status, 403);
  EXPECT_EQ(HeaderOf(unknown, "Access-Control-Allow-Origin"), "https://app.example.com");
}

TEST_F(CorsRouterTest, ResponsesToAllowedOriginsCarryCorsHeaders) {
  HttpRequest signed_request = Request("POST", "/TraceSegments", "https://app.example.com");
  signed_request.headers.emplace_back("authorization", "AWS4-HMAC-SHA256 …");
  HttpResponse ok = Serve(signed_request);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(HeaderOf(ok, "Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_EQ(HeaderOf(ok, "Vary"), "Origin");
  EXPECT_EQ(HeaderOf(ok, "Access-Control-Expose-Headers"), "x-amzn-errortype, x-amzn-requestid");

  // A refusal too, so the page can read the error's type.
  HttpResponse refused = Serve(Request("POST", "/TraceSegments", "https://app.example.com"));
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(HeaderOf(refused, "Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_EQ(HeaderOf(refused, "x-amzn-ErrorType"), "MissingAuthenticationTokenException");

  // Same-origin requests (no Origin) and other origins: no CORS headers.
  HttpRequest same_origin = Request("POST", "/TraceSegments");
  same_origin.headers.emplace_back("authorization", "AWS4-HMAC-SHA256 …");
  EXPECT_TRUE(Serve(same_origin).headers.empty());
  HttpRequest other = Request("POST", "/TraceSegments", "https://evil.example");
  other.headers.emplace_back("authorization", "AWS4-HMAC-SHA256 …");
  EXPECT_TRUE(Serve(other).headers.empty());
}

TEST(CorsRouterWithoutPolicyTest, NoCorsHeadersAndPreflightsAreNotAnswered) {
  Router router;
  router.Add("POST", "/TraceSegments",
             [](const HttpRequest&, Responder respond) { respond(HttpResponse{}); });
  HttpResponse out;
  router.Dispatch(Request("OPTIONS", "/TraceSegments", "https://app.example.com", "POST"),
                  [&out](HttpResponse r) { out = std::move(r); });
  EXPECT_EQ(out.status, 405);
  EXPECT_EQ(HeaderOf(out, "Access-Control-Allow-Origin"), "");
}

}  // namespace
}  // namespace roentgen::api
