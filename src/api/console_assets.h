// The web console's static files, embedded into the binary at build time
// (console/build.mjs writes the table; console/CMakeLists.txt compiles it).
//
// Every file is kept as built and, where smaller, gzip- and brotli-compressed,
// so the server never compresses at run time. Files under /assets/ have
// content-hashed names and never change; index.html names them.
#pragma once

#include <span>
#include <string_view>

namespace roentgen::api {

struct ConsoleAsset {
  std::string_view path;          // "/index.html", "/assets/main-3FZ2K4QX.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view body;          // as built
  std::string_view gzip;          // empty: not smaller than body
  std::string_view brotli;        // empty: not smaller than body
  std::string_view etag;          // quoted, strong: "\"…\""
  bool immutable = false;         // content-hashed name: cache for a year
};

// The files built into this binary; empty when it was built without the
// console (-DROENTGEN_BUILD_CONSOLE=OFF).
std::span<const ConsoleAsset> EmbeddedConsoleAssets();

}  // namespace roentgen::api
