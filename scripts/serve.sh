#!/usr/bin/env bash
# One command: install what is missing, build, and start `roentgen serve` with
# the embedded store and demo-ready defaults (UDP + HTTP on 127.0.0.1:2000,
# data in ./data). Extra arguments go to `roentgen serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build -DROENTGEN_BUILD_TESTS=OFF -DROENTGEN_BUILD_BENCH=OFF
exec build/src/cli/roentgen serve --data-dir ./data "$@"
