#include "api/console_server.h"

#include <fmt/format.h>

#include <memory>
#include <string>
#include <unordered_map>

#include "api/content_negotiation.h"

namespace roentgen::api {
namespace {

constexpr std::string_view kImmutableCache = "public, max-age=31536000, immutable";
constexpr std::string_view kRevalidateCache = "no-cache";

void AddSecurityHeaders(HttpResponse& response) {
  for (const auto& [name, value] : kConsoleSecurityHeaders) {
    response.headers.emplace_back(std::string(name), std::string(value));
  }
}

HttpResponse AssetResponse(const ConsoleAsset& asset, const HttpRequest& request) {
  HttpResponse response;
  response.headers.emplace_back("ETag", std::string(asset.etag));
  response.headers.emplace_back("Cache-Control",
                                std::string(asset.immutable ? kImmutableCache : kRevalidateCache));
  response.headers.emplace_back("Vary", "Accept-Encoding");
  AddSecurityHeaders(response);
  if (IfNoneMatchMatches(request.Header("if-none-match"), asset.etag)) {
    response.status = 304;
    response.content_type.clear();  // a 304 has no content
    return response;
  }
  const AcceptedCodings accepted = ParseAcceptEncoding(request.Header("accept-encoding"));
  response.content_type = std::string(asset.content_type);
  if (accepted.brotli && !asset.brotli.empty()) {
    response.headers.emplace_back("Content-Encoding", "br");
    response.body = std::string(asset.brotli);
  } else if (accepted.gzip && !asset.gzip.empty()) {
    response.headers.emplace_back("Content-Encoding", "gzip");
    response.body = std::string(asset.gzip);
  } else {
    response.body = std::string(asset.body);
  }
  return response;
}

HttpResponse NotBuilt() {
  HttpResponse response;
  response.status = 404;
  response.content_type = "text/plain; charset=utf-8";
  response.body =
      "This roentgen binary was built without the web console "
      "(-DROENTGEN_BUILD_CONSOLE=OFF). The X-Ray API on this port works without it; "
      "rebuild with -DROENTGEN_BUILD_CONSOLE=ON (needs Node.js and npm) for the console.\n";
  AddSecurityHeaders(response);
  return response;
}

}  // namespace

void RegisterConsole(Router& router, std::span<const ConsoleAsset> assets) {
  if (assets.empty()) {
    for (const char* path : {"/", "/index.html"}) {
      router.Add("GET", path, [](const HttpRequest&, Responder respond) { respond(NotBuilt()); });
    }
    return;
  }
  auto by_path = std::make_shared<std::unordered_map<std::string_view, const ConsoleAsset*>>();
  for (const ConsoleAsset& asset : assets) (*by_path)[asset.path] = &asset;

  auto serve = [by_path](std::string_view path) {
    return [by_path, path](const HttpRequest& request, Responder respond) {
      auto it = by_path->find(path);
      if (it == by_path->end()) {
        HttpResponse missing = ErrorResponse(404, "ResourceNotFoundException",
                                             fmt::format("the console has no {}", path));
        AddSecurityHeaders(missing);
        return respond(std::move(missing));
      }
      respond(AssetResponse(*it->second, request));
    };
  };
  router.Add("GET", "/", serve("/index.html"));
  router.Add("GET", "/index.html", serve("/index.html"));
  router.Add("GET", "/favicon.svg", serve("/favicon.svg"));
  router.AddPrefix("GET", "/assets/", [by_path](const HttpRequest& request, Responder respond) {
    auto it = by_path->find(request.path);
    if (it == by_path->end()) {
      HttpResponse missing =
          ErrorResponse(404, "ResourceNotFoundException",
                        fmt::format("no console asset at {} (the console may have been rebuilt: "
                                    "reload the page)",
                                    request.path.substr(0, 200)));
      AddSecurityHeaders(missing);
      return respond(std::move(missing));
    }
    respond(AssetResponse(*it->second, request));
  });
}

}  // namespace roentgen::api
