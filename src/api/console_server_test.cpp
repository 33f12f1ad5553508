// The console's files on the Router: a hand-made table for negotiation,
// conditional requests and headers, and the table built into this binary.
#include "api/console_server.h"

#include <gtest/gtest.h>

#if ROENTGEN_CONSOLE_EMBEDDED
#include <brotli/decode.h>
#endif

#include <cctype>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "api/gunzip.h"

namespace roentgen::api {
namespace {

using namespace std::string_view_literals;

constexpr ConsoleAsset kAssets[] = {
    {"/index.html"sv, "text/html; charset=utf-8"sv, "<html>page</html>"sv, "GZ-page"sv, "BR-page"sv,
     R"("page-tag")"sv, false},
    {"/favicon.svg"sv, "image/svg+xml"sv, "<svg/>"sv, ""sv, ""sv, R"("icon-tag")"sv, false},
    {"/assets/main-ABC123.js"sv, "text/javascript; charset=utf-8"sv, "console.log(1)"sv,
     "GZ-main"sv, "BR-main"sv, R"("main-tag")"sv, true},
    {"/assets/main-DEF456.css"sv, "text/css; charset=utf-8"sv, "body{}"sv, "GZ-css"sv, ""sv,
     R"("css-tag")"sv, true},
};

class ConsoleServerTest : public ::testing::Test {
 protected:
  void SetUp() override { RegisterConsole(router_, kAssets); }

  HttpResponse Get(const std::string& path,
                   std::vector<std::pair<std::string, std::string>> headers = {},
                   const std::string& method = "GET") {
    HttpRequest request;
    request.method = method;
    request.path = request.target = path;
    request.headers = std::move(headers);
    HttpResponse response;
    bool answered = false;
    router_.Dispatch(request, [&](HttpResponse r) {
      response = std::move(r);
      answered = true;
    });
    EXPECT_TRUE(answered);
    return response;
  }

  Router router_;
};

// The value of a response header, or "<absent>"; fails if it is repeated.
std::string HeaderOf(const HttpResponse& r, std::string_view name) {
  std::string value = "<absent>";
  int seen = 0;
  for (const auto& [k, v] : r.headers) {
    if (k == name) {
      value = v;
      ++seen;
    }
  }
  EXPECT_LE(seen, 1) << name;
  return value;
}

void ExpectSecurityHeaders(const HttpResponse& r) {
  EXPECT_EQ(HeaderOf(r, "Content-Security-Policy"),
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  EXPECT_EQ(HeaderOf(r, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(HeaderOf(r, "Referrer-Policy"), "no-referrer");
}

TEST_F(ConsoleServerTest, PageAtRootAndIndexHtml) {
  for (const char* path : {"/", "/index.html"}) {
    HttpResponse r = Get(path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, "<html>page</html>");
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
    EXPECT_EQ(HeaderOf(r, "Content-Encoding"), "<absent>");
    EXPECT_EQ(HeaderOf(r, "ETag"), R"("page-tag")");
    EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-cache");
    EXPECT_EQ(HeaderOf(r, "Vary"), "Accept-Encoding");
    ExpectSecurityHeaders(r);
  }
}

TEST_F(ConsoleServerTest, BrotliPreferredThenGzipThenIdentity) {
  struct Case {
    std::string path, accept, body, encoding;
  };
  const std::vector<Case> cases = {
      {"/", "gzip, deflate, br", "BR-page", "br"},
      {"/", "gzip;q=1.0, br;q=0.1", "BR-page", "br"},  // br preferred while acceptable
      {"/", "gzip", "GZ-page", "gzip"},
      {"/", "GZIP", "GZ-page", "gzip"},
      {"/", "Br", "BR-page", "br"},
      {"/", "br;q=0, gzip", "GZ-page", "gzip"},
      {"/", "br;q=0, gzip;q=0", "<html>page</html>", "<absent>"},
      {"/", "*", "BR-page", "br"},
      {"/", "*;q=0", "<html>page</html>", "<absent>"},
      {"/", "br;q=0, *", "GZ-page", "gzip"},
      {"/", "deflate", "<html>page</html>", "<absent>"},
      {"/", "", "<html>page</html>", "<absent>"},
      // No brotli copy (not smaller): gzip; no compressed copy at all: identity.
      {"/assets/main-DEF456.css", "br, gzip", "GZ-css", "gzip"},
      {"/favicon.svg", "br, gzip", "<svg/>", "<absent>"},
  };
  for (const Case& c : cases) {
    HttpResponse r = Get(c.path, {{"accept-encoding", c.accept}});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, c.body) << c.path << " with '" << c.accept << "'";
    EXPECT_EQ(HeaderOf(r, "Content-Encoding"), c.encoding)
        << c.path << " with '" << c.accept << "'";
    EXPECT_EQ(HeaderOf(r, "Vary"), "Accept-Encoding");
  }
}

TEST_F(ConsoleServerTest, CacheControlByKindOfFile) {
  EXPECT_EQ(HeaderOf(Get("/assets/main-ABC123.js"), "Cache-Control"),
            "public, max-age=31536000, immutable");
  EXPECT_EQ(HeaderOf(Get("/assets/main-DEF456.css"), "Cache-Control"),
            "public, max-age=31536000, immutable");
  EXPECT_EQ(HeaderOf(Get("/favicon.svg"), "Cache-Control"), "no-cache");
  EXPECT_EQ(HeaderOf(Get("/"), "Cache-Control"), "no-cache");
  HttpResponse js = Get("/assets/main-ABC123.js");
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(HeaderOf(js, "ETag"), R"("main-tag")");
  ExpectSecurityHeaders(js);
}

TEST_F(ConsoleServerTest, MatchingIfNoneMatchIs304WithoutBody) {
  for (const char* inm : {R"("main-tag")", R"("old", "main-tag")", R"(W/"main-tag")", "*"}) {
    HttpResponse r =
        Get("/assets/main-ABC123.js", {{"if-none-match", inm}, {"accept-encoding", "br, gzip"}});
    EXPECT_EQ(r.status, 304) << inm;
    EXPECT_EQ(r.body, "") << inm;
    EXPECT_EQ(r.content_type, "") << inm;
    EXPECT_EQ(HeaderOf(r, "Content-Encoding"), "<absent>");
    // What a 200 would have carried for caches to update.
    EXPECT_EQ(HeaderOf(r, "ETag"), R"("main-tag")");
    EXPECT_EQ(HeaderOf(r, "Cache-Control"), "public, max-age=31536000, immutable");
    EXPECT_EQ(HeaderOf(r, "Vary"), "Accept-Encoding");
    ExpectSecurityHeaders(r);
  }
  HttpResponse page = Get("/", {{"if-none-match", R"("page-tag")"}});
  EXPECT_EQ(page.status, 304);
  EXPECT_EQ(HeaderOf(page, "Cache-Control"), "no-cache");
  // Another build's tag: the file in full.
  HttpResponse changed = Get("/", {{"if-none-match", R"("old-page-tag")"}});
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(changed.body, "<html>page</html>");
}

TEST_F(ConsoleServerTest, UnknownAssetIs404InXRayShape) {
  HttpResponse r = Get("/assets/main-OLD999.js");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(HeaderOf(r, "x-amzn-ErrorType"), "ResourceNotFoundException");
  const nlohmann::json body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["__type"], "ResourceNotFoundException");
  EXPECT_EQ(body["message"],
            "no console asset at /assets/main-OLD999.js (the console may have been rebuilt: "
            "reload the page)");
  ExpectSecurityHeaders(r);
  // Only GET is served.
  EXPECT_EQ(Get("/", {}, "POST").status, 405);
  EXPECT_EQ(Get("/assets/main-ABC123.js", {}, "DELETE").status, 405);
}

TEST(ConsoleServerEmptyTest, WithoutTheConsoleTheRootExplains) {
  Router router;
  RegisterConsole(router, {});
  for (const char* path : {"/", "/index.html"}) {
    HttpRequest request;
    request.method = "GET";
    request.path = request.target = path;
    HttpResponse r;
    router.Dispatch(request, [&r](HttpResponse response) { r = std::move(response); });
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
    EXPECT_NE(r.body.find("built without the web console (-DROENTGEN_BUILD_CONSOLE=OFF)"),
              std::string::npos)
        << r.body;
    ExpectSecurityHeaders(r);
  }
  HttpRequest asset;
  asset.method = "GET";
  asset.path = asset.target = "/assets/main.js";
  HttpResponse r;
  router.Dispatch(asset, [&r](HttpResponse response) { r = std::move(response); });
  EXPECT_EQ(r.status, 404);
}

#if ROENTGEN_CONSOLE_EMBEDDED

std::string Unbrotli(std::string_view compressed, size_t size) {
  std::string out(size + 1, '\0');
  size_t out_size = out.size();
  if (BrotliDecoderDecompress(
          compressed.size(), reinterpret_cast<const uint8_t*>(compressed.data()), &out_size,
          reinterpret_cast<uint8_t*>(out.data())) != BROTLI_DECODER_RESULT_SUCCESS) {
    return "<not brotli>";
  }
  out.resize(out_size);
  return out;
}

const ConsoleAsset* Find(std::span<const ConsoleAsset> assets, std::string_view path) {
  for (const ConsoleAsset& a : assets) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

TEST(EmbeddedConsoleTest, TableIsConsistentAndIndexNamesOnlyItsFiles) {
  const std::span<const ConsoleAsset> assets = EmbeddedConsoleAssets();
  ASSERT_FALSE(assets.empty());
  const ConsoleAsset* index = Find(assets, "/index.html");
  ASSERT_NE(index, nullptr);
  ASSERT_NE(Find(assets, "/favicon.svg"), nullptr);

  std::set<std::string_view> paths;
  for (const ConsoleAsset& a : assets) {
    SCOPED_TRACE(std::string(a.path));
    EXPECT_TRUE(paths.insert(a.path).second) << "listed twice";
    EXPECT_FALSE(a.content_type.empty());
    EXPECT_FALSE(a.body.empty());
    EXPECT_TRUE(a.etag.size() > 2 && a.etag.front() == '"' && a.etag.back() == '"') << a.etag;
    EXPECT_EQ(a.immutable, a.path.starts_with("/assets/"));
    if (!a.gzip.empty()) {
      Result<std::string> plain = Gunzip(a.gzip, a.body.size());
      ASSERT_TRUE(plain.ok()) << plain.status().ToString();
      EXPECT_TRUE(*plain == a.body) << "the gzip copy differs";
      EXPECT_LT(a.gzip.size(), a.body.size());
    }
    if (!a.brotli.empty()) {
      EXPECT_TRUE(Unbrotli(a.brotli, a.body.size()) == a.body) << "the brotli copy differs";
      EXPECT_LT(a.brotli.size(), a.body.size());
    }
  }

  // Every absolute reference in the page (src=, href=) and every /assets/
  // URL or ./chunk import inside the scripts and styles is in the table.
  // (No std::regex: g++ 12 warns -Wmaybe-uninitialized inside it at -O1.)
  const std::string page(index->body);
  size_t references = 0;
  for (std::string_view attribute : {" src=\"", " href=\""}) {
    for (size_t at = page.find(attribute); at != std::string::npos;
         at = page.find(attribute, at + 1)) {
      const size_t begin = at + attribute.size();
      const std::string path = page.substr(begin, page.find('"', begin) - begin);
      if (!path.starts_with("/")) continue;
      EXPECT_NE(Find(assets, path), nullptr) << "index.html names " << path;
      ++references;
    }
  }
  EXPECT_GE(references, 2u) << "index.html names no script: " << page;
  EXPECT_NE(page.find("/assets/main-"), std::string::npos) << page;
  auto names_after = [](const std::string& text, std::string_view marker) {
    std::vector<std::string> names;
    for (size_t at = text.find(marker); at != std::string::npos;
         at = text.find(marker, at + marker.size())) {
      size_t end = at + marker.size();
      while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) ||
                                   text[end] == '.' || text[end] == '_' || text[end] == '-')) {
        ++end;
      }
      if (end > at + marker.size()) {
        names.push_back(text.substr(at + marker.size(), end - at - marker.size()));
      }
    }
    return names;
  };
  for (const ConsoleAsset& a : assets) {
    if (!a.content_type.starts_with("text/")) continue;
    const std::string text(a.body);
    for (const std::string& name : names_after(text, "/assets/")) {
      EXPECT_NE(Find(assets, "/assets/" + name), nullptr) << a.path << " names /assets/" << name;
    }
    for (const std::string& name : names_after(text, "./chunk-")) {
      EXPECT_NE(Find(assets, "/assets/chunk-" + name), nullptr)
          << a.path << " imports ./chunk-" << name;
    }
  }
}

#else

TEST(EmbeddedConsoleTest, BuiltWithoutTheConsoleTheTableIsEmpty) {
  EXPECT_TRUE(EmbeddedConsoleAssets().empty());
}

#endif

}  // namespace
}  // namespace roentgen::api
