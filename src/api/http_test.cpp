#include "api/http.h"

#include <gtest/gtest.h>

#include <optional>

namespace roentgen::api {
namespace {

HttpRequest Request(std::string method, std::string path) {
  HttpRequest r;
  r.method = std::move(method);
  r.path = path;
  r.target = path;
  return r;
}

// Dispatches synchronously and returns what the handler responded.
HttpResponse Call(const Router& router, const HttpRequest& request) {
  std::optional<HttpResponse> got;
  router.Dispatch(request, [&](HttpResponse r) { got = std::move(r); });
  EXPECT_TRUE(got.has_value());
  return got.value_or(HttpResponse{});
}

Handler Reply(std::string body) {
  return [body](const HttpRequest&, Responder respond) {
    HttpResponse r;
    r.body = body;
    respond(std::move(r));
  };
}

TEST(HttpRequestTest, HeaderReturnsFirstMatchOrEmpty) {
  HttpRequest r;
  r.headers = {{"x-a", "1"}, {"content-type", "text/plain"}, {"x-a", "2"}};
  EXPECT_EQ(r.Header("x-a"), "1");
  EXPECT_EQ(r.Header("content-type"), "text/plain");
  EXPECT_EQ(r.Header("missing"), "");
}

TEST(RouterTest, ExactRoutesAndLaterRegistrationWins) {
  Router router;
  router.Add("POST", "/TraceSegments", Reply("old"));
  router.Add("POST", "/TraceSegments", Reply("put"));
  router.Add("GET", "/healthz", Reply("ok"));
  EXPECT_EQ(Call(router, Request("POST", "/TraceSegments")).body, "put");
  EXPECT_EQ(Call(router, Request("GET", "/healthz")).body, "ok");
}

TEST(RouterTest, PrefixRoutesLongestWinsAndExactBeatsPrefix) {
  Router router;
  router.AddPrefix("GET", "/console/", Reply("console"));
  router.AddPrefix("GET", "/console/assets/", Reply("assets"));
  router.Add("GET", "/console/index.html", Reply("index"));
  EXPECT_EQ(Call(router, Request("GET", "/console/x")).body, "console");
  EXPECT_EQ(Call(router, Request("GET", "/console/assets/app.js")).body, "assets");
  EXPECT_EQ(Call(router, Request("GET", "/console/index.html")).body, "index");
}

TEST(RouterTest, UnknownPathIs404InXRayShape) {
  Router router;
  router.Add("GET", "/healthz", Reply("ok"));
  HttpResponse r = Call(router, Request("GET", "/nope"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0],
            (std::pair<std::string, std::string>{"x-amzn-ErrorType", "UnknownOperationException"}));
  EXPECT_EQ(r.body,
            R"({"__type":"UnknownOperationException","message":"no operation at GET /nope"})");
}

TEST(RouterTest, OtherMethodIs405WithAllow) {
  Router router;
  router.Add("POST", "/TraceSegments", Reply("put"));
  router.Add("PUT", "/TraceSegments", Reply("put"));
  HttpResponse r = Call(router, Request("GET", "/TraceSegments"));
  EXPECT_EQ(r.status, 405);
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[0].second, "MethodNotAllowedException");
  EXPECT_EQ(r.headers[1], (std::pair<std::string, std::string>{"Allow", "POST, PUT"}));
  EXPECT_EQ(
      r.body,
      R"({"__type":"MethodNotAllowedException","message":"GET is not allowed on /TraceSegments"})");
}

TEST(RouterTest, RouteLabelIsTheRegisteredPathOrPrefix) {
  Router router;
  router.Add("POST", "/TraceSegments", Reply(""));
  router.AddPrefix("GET", "/console/", Reply(""));
  EXPECT_EQ(router.RouteLabel("/TraceSegments"), "/TraceSegments");
  EXPECT_EQ(router.RouteLabel("/console/a/b.js"), "/console/");
  EXPECT_EQ(router.RouteLabel("/random/123"), "unmatched");
}

TEST(RouterTest, TheGateRunsBeforeRouting) {
  Router router;
  router.Add("POST", "/TraceSummaries", Reply("summaries"));
  router.SetGate([](const HttpRequest& request) -> std::optional<HttpResponse> {
    if (request.Header("authorization").empty()) {
      return ErrorResponse(403, "MissingAuthenticationTokenException",
                           "Missing Authentication Token");
    }
    return std::nullopt;
  });
  EXPECT_EQ(Call(router, Request("POST", "/TraceSummaries")).status, 403);
  // Unknown paths pass the gate too (no route is revealed before it).
  EXPECT_EQ(Call(router, Request("POST", "/Nope")).status, 403);
  HttpRequest signed_request = Request("POST", "/TraceSummaries");
  signed_request.headers = {{"authorization", "x"}};
  EXPECT_EQ(Call(router, signed_request).body, "summaries");
}

TEST(RouterTest, RoutesListsWhatWasRegistered) {
  Router router;
  router.Add("POST", "/TraceSummaries", Reply("a"));
  router.AddPrefix("GET", "/assets/", Reply("b"));
  EXPECT_EQ(router.Routes(), (std::vector<std::pair<std::string, std::string>>{
                                 {"POST", "/TraceSummaries"}, {"GET", "/assets/"}}));
}

TEST(ErrorResponseTest, ShapeAndEscaping) {
  HttpResponse r = ErrorResponse(400, "InvalidRequestException", "bad \"x\"\n\xff");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.headers[0].first, "x-amzn-ErrorType");
  EXPECT_EQ(r.headers[0].second, "InvalidRequestException");
  EXPECT_EQ(
      r.body,
      "{\"__type\":\"InvalidRequestException\",\"message\":\"bad \\\"x\\\"\\n\xEF\xBF\xBD\"}");
}

}  // namespace
}  // namespace roentgen::api
