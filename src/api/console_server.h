// Serves the web console's embedded files (console_assets.h) on the Router:
//   GET /  and  GET /index.html   the page (index.html)
//   GET /favicon.svg
//   GET /assets/<name>            content-hashed scripts and styles
//
// Each file is sent as stored: brotli when the request's Accept-Encoding
// allows `br` and the table has a brotli copy, else gzip likewise, else as
// built (tokens are case-insensitive; `q=0` refuses a coding; other q values
// do not reorder the preference br, gzip, identity). Every answer carries
// `Vary: Accept-Encoding`, the table's strong ETag, and Cache-Control
// (`public, max-age=31536000, immutable` for content-hashed files, `no-cache`
// for the page and the icon, which keep their names across builds); a
// matching If-None-Match (a list, weak or strong tags, or `*`) is answered
// 304 without a body. Every console answer, 304 and 404 included, carries the
// security headers (kConsoleSecurityHeaders). An unknown /assets/ file is a
// 404 in X-Ray's error shape. With an empty table (a binary built with
// -DROENTGEN_BUILD_CONSOLE=OFF) GET / and /index.html answer 404 with a
// plain-text explanation.
//
// Ownership: the handlers keep pointers into `assets`, which must outlive the
// router (EmbeddedConsoleAssets() is static). Thread safety: the handlers only
// read immutable state and may run concurrently. Errors: none at
// registration; requests are answered as above.
#pragma once

#include <array>
#include <span>
#include <string_view>
#include <utility>

#include "api/console_assets.h"
#include "api/http.h"

namespace roentgen::api {

inline constexpr std::array<std::pair<std::string_view, std::string_view>, 3>
    kConsoleSecurityHeaders = {{
        {"Content-Security-Policy",
         "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
         "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"},
        {"X-Content-Type-Options", "nosniff"},
        {"Referrer-Policy", "no-referrer"},
    }};

void RegisterConsole(Router& router, std::span<const ConsoleAsset> assets);

}  // namespace roentgen::api
