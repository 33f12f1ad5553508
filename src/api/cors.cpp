#include "api/cors.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace roentgen::api {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Why `origin` is not a serialized origin as browsers send it, or empty.
std::string OriginProblem(std::string_view origin) {
  const std::string lower = Lower(origin);
  std::string_view rest = lower;
  std::string_view scheme;
  for (std::string_view s : {"http://", "https://"}) {
    if (rest.starts_with(s)) scheme = s;
  }
  if (scheme.empty()) return "it must begin with http:// or https://";
  rest.remove_prefix(scheme.size());
  if (rest.empty()) return "it has no host";
  std::string_view host = rest;
  std::string_view port;
  bool has_port = false;
  if (rest.front() == '[') {  // [IPv6]
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return "its IPv6 host has no ']'";
    host = rest.substr(0, close + 1);
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return "only a port may follow the host";
      has_port = true;
      port = rest.substr(1);
    }
  } else {
    const size_t colon = rest.find(':');
    host = rest.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port = rest.substr(colon + 1);
    }
    for (char c : host) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
        return "it may hold only a scheme, a host and a port (no path, not even '/')";
      }
    }
  }
  if (host.empty()) return "it has no host";
  if (has_port) {
    int number = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || number < 1 ||
        number > 65535) {
      return "its port must be a number from 1 to 65535, and nothing may follow it";
    }
    if ((scheme == "http://" && number == 80) || (scheme == "https://" && number == 443)) {
      return "browsers send it without the scheme's default port";
    }
  }
  return "";
}

}  // namespace

Status CorsConfig::Validate() const {
  for (const std::string& origin : origins) {
    if (origin == "*") {
      if (origins.size() > 1) {
        return Status::InvalidArgument("CORS origin '*' (any origin) stands alone");
      }
      continue;
    }
    if (std::string problem = OriginProblem(origin); !problem.empty()) {
      return Status::InvalidArgument(
          fmt::format("CORS origin '{}' is not an origin such as https://app.example.com or "
                      "http://127.0.0.1:8080: {}",
                      origin, problem));
    }
  }
  return Status::Ok();
}

CorsPolicy::CorsPolicy(CorsConfig config) {
  for (const std::string& origin : config.origins) {
    if (origin == "*") {
      any_ = true;
    } else {
      origins_.push_back(Lower(origin));
    }
  }
}

std::string CorsPolicy::AllowOrigin(std::string_view origin) const {
  if (origin.empty()) return "";
  if (any_) return "*";
  // Browsers send the scheme and host in lowercase; compare without regard to
  // case anyway, and answer with the origin as sent.
  const std::string lower = Lower(origin);
  for (const std::string& allowed : origins_) {
    if (allowed == lower) return std::string(origin);
  }
  return "";
}

bool CorsPolicy::IsPreflight(const HttpRequest& request) {
  return request.method == "OPTIONS" && !request.Header("origin").empty() &&
         !request.Header("access-control-request-method").empty();
}

HttpResponse CorsPolicy::Preflight(std::string_view allow_origin) const {
  HttpResponse response;
  response.status = 204;
  response.content_type.clear();
  response.headers = {
      {"Access-Control-Allow-Origin", std::string(allow_origin)},
      {"Access-Control-Allow-Methods", std::string(kCorsAllowMethods)},
      {"Access-Control-Allow-Headers", std::string(kCorsAllowHeaders)},
      {"Access-Control-Max-Age", std::to_string(kCorsMaxAgeSeconds)},
      {"Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"},
  };
  return response;
}

void CorsPolicy::Decorate(std::string_view allow_origin, HttpResponse& response) {
  response.headers.emplace_back("Access-Control-Allow-Origin", std::string(allow_origin));
  response.headers.emplace_back("Access-Control-Expose-Headers", std::string(kCorsExposeHeaders));
  response.headers.emplace_back("Vary", "Origin");
}

}  // namespace roentgen::api
