#include "api/http.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "api/cors.h"

namespace roentgen::api {

std::string_view HttpRequest::Header(std::string_view lowercase_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lowercase_name) return value;
  }
  return {};
}

void Router::Add(std::string method, std::string path, Handler handler) {
  for (Route& r : routes_) {
    if (!r.prefix && r.method == method && r.path == path) {
      r.handler = std::move(handler);
      return;
    }
  }
  routes_.push_back({std::move(method), std::move(path), false, std::move(handler)});
}

void Router::AddPrefix(std::string method, std::string prefix, Handler handler) {
  for (Route& r : routes_) {
    if (r.prefix && r.method == method && r.path == prefix) {
      r.handler = std::move(handler);
      return;
    }
  }
  routes_.push_back({std::move(method), std::move(prefix), true, std::move(handler)});
}

bool Router::HasRoute(std::string_view method, std::string_view path) const {
  return std::any_of(routes_.begin(), routes_.end(), [&](const Route& r) {
    return r.method == method && (r.prefix ? path.starts_with(r.path) : path == r.path);
  });
}

void Router::Dispatch(const HttpRequest& request, Responder respond) const {
  if (cors_) {
    std::string allow_origin = cors_->AllowOrigin(request.Header("origin"));
    if (!allow_origin.empty()) {
      if (CorsPolicy::IsPreflight(request) &&
          HasRoute(request.Header("access-control-request-method"), request.path)) {
        respond(cors_->Preflight(allow_origin));
        return;
      }
      respond = [allow_origin = std::move(allow_origin),
                 respond = std::move(respond)](HttpResponse response) {
        CorsPolicy::Decorate(allow_origin, response);
        respond(std::move(response));
      };
    }
  }
  if (gate_) {
    if (std::optional<HttpResponse> refused = gate_(request)) {
      respond(std::move(*refused));
      return;
    }
  }
  // 1. exact path and method; 2. longest prefix with the method; otherwise the
  // path is either known under other methods (405) or unknown (404).
  const Route* best_prefix = nullptr;
  std::vector<std::string_view> allowed;
  for (const Route& r : routes_) {
    bool covers = r.prefix ? request.path.starts_with(r.path) : request.path == r.path;
    if (!covers) continue;
    if (r.method != request.method) {
      if (std::find(allowed.begin(), allowed.end(), r.method) == allowed.end()) {
        allowed.push_back(r.method);
      }
      continue;
    }
    if (!r.prefix) {
      r.handler(request, std::move(respond));
      return;
    }
    if (best_prefix == nullptr || r.path.size() > best_prefix->path.size()) best_prefix = &r;
  }
  if (best_prefix != nullptr) {
    best_prefix->handler(request, std::move(respond));
    return;
  }
  if (!allowed.empty()) {
    std::sort(allowed.begin(), allowed.end());
    HttpResponse response =
        ErrorResponse(405, "MethodNotAllowedException",
                      fmt::format("{} is not allowed on {}", request.method, request.path));
    response.headers.emplace_back("Allow", fmt::format("{}", fmt::join(allowed, ", ")));
    respond(std::move(response));
    return;
  }
  respond(ErrorResponse(404, "UnknownOperationException",
                        fmt::format("no operation at {} {}", request.method, request.path)));
}

std::string_view Router::RouteLabel(std::string_view path) const {
  const Route* best_prefix = nullptr;
  for (const Route& r : routes_) {
    if (!r.prefix && r.path == path) return r.path;
    if (r.prefix && path.starts_with(r.path) &&
        (best_prefix == nullptr || r.path.size() > best_prefix->path.size())) {
      best_prefix = &r;
    }
  }
  if (best_prefix != nullptr) return best_prefix->path;
  return "unmatched";
}

std::vector<std::pair<std::string, std::string>> Router::Routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(routes_.size());
  for (const Route& r : routes_) out.emplace_back(r.method, r.path);
  return out;
}

HttpResponse ErrorResponse(int status, std::string_view type, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back("x-amzn-ErrorType", std::string(type));
  nlohmann::json body = {{"__type", type}, {"message", message}};
  // Messages may quote client bytes: never throw on invalid UTF-8.
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  response.content_type = "application/json";
  return response;
}

}  // namespace roentgen::api
