// Cross-origin resource sharing (CORS) for the API: which web origins may
// call it from a browser (a browser SDK on an application's pages, the web
// console served from elsewhere), and the headers that tell the browser so.
//
// The Router applies it (http.h, Router::SetCors) to every request that
// carries an Origin header the policy allows:
//   - a preflight (OPTIONS with Access-Control-Request-Method) to a path that
//     has a route for the requested method is answered 204 before the gate:
//     preflights carry no credentials, so they cannot be signed. A preflight
//     from an origin not allowed goes to the gate like any request (refused
//     unsigned when keys are on, otherwise 405), without CORS headers;
//   - every other response (the gate's refusals included, so a page can read
//     AccessDeniedException) carries Access-Control-Allow-Origin, Vary:
//     Origin and Access-Control-Expose-Headers.
// Requests without an Origin header, or from origins not allowed, are served
// as before and get no CORS headers, so the browser keeps their answers from
// the page.
//
// Immutable after construction; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/http.h"
#include "common/status.h"

namespace roentgen::api {

struct CorsConfig {
  // Exact origins ("https://app.example.com", "http://127.0.0.1:8080":
  // scheme http or https, host, optional port, nothing after), or "*" alone
  // for any origin. Empty: no cross-origin access.
  std::vector<std::string> origins;
  // Errors (InvalidArgument, naming the origin): not an origin, "*" beside
  // others.
  Status Validate() const;
};

// Headers a preflight allows: what the AWS SDK for JavaScript v3 and the
// OpenTelemetry OTLP/HTTP exporters send.
inline constexpr std::string_view kCorsAllowHeaders =
    "authorization, content-type, content-encoding, x-amz-date, x-amz-security-token, "
    "x-amz-content-sha256, x-amz-user-agent, amz-sdk-invocation-id, amz-sdk-request, "
    "traceparent, tracestate, x-amzn-trace-id";
inline constexpr std::string_view kCorsAllowMethods = "POST, GET, OPTIONS";
inline constexpr std::string_view kCorsExposeHeaders = "x-amzn-errortype, x-amzn-requestid";
inline constexpr int kCorsMaxAgeSeconds = 7200;  // Chromium's cap

class CorsPolicy {
 public:
  // `config` must be valid (Validate).
  explicit CorsPolicy(CorsConfig config);

  bool any_origin() const { return any_; }
  // The Access-Control-Allow-Origin value for a request from `origin` ("*"
  // when any origin is allowed, else the origin itself), or empty when the
  // origin is not allowed or absent.
  std::string AllowOrigin(std::string_view origin) const;

  // OPTIONS with Origin and Access-Control-Request-Method.
  static bool IsPreflight(const HttpRequest& request);
  // 204 with the Access-Control-Allow-* headers and Max-Age.
  HttpResponse Preflight(std::string_view allow_origin) const;
  // Adds Access-Control-Allow-Origin, Vary: Origin and
  // Access-Control-Expose-Headers to an actual response.
  static void Decorate(std::string_view allow_origin, HttpResponse& response);

 private:
  std::vector<std::string> origins_;  // lowercase
  bool any_ = false;
};

}  // namespace roentgen::api
