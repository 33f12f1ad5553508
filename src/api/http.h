// The HTTP layer's public face: a parsed request, a response, and a router that
// maps (method, path) to a handler. Engine-agnostic (Beast stays inside
// http_server.cpp) so handlers, the SigV4 verifier (src/auth) and tests do not
// depend on it.
//
// Thread safety: handlers are called concurrently from the server's I/O threads
// and must be thread-safe. A handler may complete its response later (e.g. after
// a durable commit) through the Responder; it must call it exactly once.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roentgen::api {

class CorsPolicy;  // cors.h

struct HttpRequest {
  std::string method;  // "GET", "POST", …
  std::string target;  // path + query as received
  std::string path;    // target without the query
  std::string query;   // after '?', empty if none
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;            // decoded: Content-Encoding (gzip) undone
  std::optional<std::string> encoded_body;  // the body as received, when it was decoded
  std::string remote_address;  // peer IP

  // First header with this (lowercase) name, or empty.
  std::string_view Header(std::string_view lowercase_name) const;
  // The bytes the client sent (what a SigV4 signature covers).
  std::string_view ReceivedBody() const {
    return encoded_body ? std::string_view(*encoded_body) : std::string_view(body);
  }
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type = "application/json";
};

using Responder = std::function<void(HttpResponse)>;
using Handler = std::function<void(const HttpRequest&, Responder)>;
// Runs before routing: nullopt lets the request on, a response refuses it
// (the SigV4 check, src/auth/authorizer.h).
using Gate = std::function<std::optional<HttpResponse>(const HttpRequest&)>;

class Router {
 public:
  // Exact-path routes; later registrations for the same (method, path) win.
  void Add(std::string method, std::string path, Handler handler);
  // Handler for paths under a prefix (e.g. "/console/"); exact routes win.
  void AddPrefix(std::string method, std::string prefix, Handler handler);
  // Every request passes `gate` first (set before serving; one gate).
  void SetGate(Gate gate) { gate_ = std::move(gate); }
  // Cross-origin requests from the origins `cors` allows (cors.h): their
  // preflights are answered before the gate (a preflight cannot be signed),
  // their responses carry CORS headers. Set before serving; null: none.
  void SetCors(std::shared_ptr<const CorsPolicy> cors) { cors_ = std::move(cors); }
  // Dispatches (after CORS preflights and the gate); unknown path → 404,
  // known path with another method → 405, both in X-Ray's error shape.
  void Dispatch(const HttpRequest& request, Responder respond) const;
  // The registered path or prefix that serves `path` (whatever the method), or
  // "unmatched": a bounded label for per-route metrics.
  std::string_view RouteLabel(std::string_view path) const;
  // The registered routes as (method, path) pairs; a prefix route gives its prefix.
  std::vector<std::pair<std::string, std::string>> Routes() const;

 private:
  struct Route {
    std::string method;
    std::string path;
    bool prefix = false;
    Handler handler;
  };
  // Whether a route serves `method` at `path`.
  bool HasRoute(std::string_view method, std::string_view path) const;

  std::vector<Route> routes_;
  Gate gate_;
  std::shared_ptr<const CorsPolicy> cors_;
};

// X-Ray's error shape: status, header `x-amzn-ErrorType: <type>`, body
// {"__type": "<type>", "message": "<message>"}.
HttpResponse ErrorResponse(int status, std::string_view type, std::string_view message);

}  // namespace roentgen::api
