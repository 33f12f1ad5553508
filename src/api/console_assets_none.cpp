// The console asset table of a binary built with -DROENTGEN_BUILD_CONSOLE=OFF:
// empty, so GET / explains that the console was not built
// (console_server.h). With the option ON, console/build.mjs generates the
// real table instead of this file.
#include "api/console_assets.h"

namespace roentgen::api {

std::span<const ConsoleAsset> EmbeddedConsoleAssets() { return {}; }

}  // namespace roentgen::api
