#!/usr/bin/env bash
# One command: install what is missing, build, and run every test: the C++ unit
# and integration tests (CTest), the console's unit tests, the compatibility
# tests with the real AWS clients, the console in real Chromium and the
# browser SDK (built, then tested under node and in real Chromium against the
# server), the OpenTelemetry web recipe and the notes example (the seed's
# scenario end to end) in real Chromium (node's test runner). Prints the counts of tests run.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { echo "== test.sh: $1 ($(( $(date +%s) - start )) s) =="; }
scripts/install-deps.sh --with-tests
step build
# ROENTGEN_CI_BUILD=ON (set by .ci/run): unity build and -g1 (CMakeLists.txt).
scripts/build.sh build -DROENTGEN_BUILD_TESTS=ON -DROENTGEN_BUILD_BENCH=ON \
  -DROENTGEN_CI_BUILD="${ROENTGEN_CI_BUILD:-OFF}"
step "C++ tests (CTest)"
(cd build && ctest --output-on-failure -j "$(nproc)" --timeout 300)
step "console unit tests"
node console/build.mjs --tests build/console-tests
node --test build/console-tests/
step "compatibility tests (real clients)"
ROENTGEN_BIN="$PWD/build/src/cli/roentgen" node --test --test-concurrency=1 tests/compat/
step "compatibility tests on the ClickHouse engine (the API, ingest and durability files)"
# The whole suite runs on ClickHouse with ROENTGEN_TEST_STORE_ENGINE=clickhouse
# (docs/storage.md, "ClickHouse engine"); these files cover what a store
# changes (each starts its own clickhouse-server on loopback, by PID).
ROENTGEN_BIN="$PWD/build/src/cli/roentgen" ROENTGEN_TEST_STORE_ENGINE=clickhouse \
  node --test --test-concurrency=1 tests/compat/{put-segments,filter,retrieval,service-map,durability,insights,sdk-roundtrip,otlp}.test.mjs
step "console in Chromium"
ROENTGEN_BIN="$PWD/build/src/cli/roentgen" node --test --test-concurrency=1 tests/e2e/
step "browser SDK"
node sdk/browser/build.mjs
ROENTGEN_BIN="$PWD/build/src/cli/roentgen" node --test --test-concurrency=1 sdk/browser/test/
step "OpenTelemetry web recipe"
node examples/otel-web/build.mjs
ROENTGEN_BIN="$PWD/build/src/cli/roentgen" node --test --test-concurrency=1 examples/otel-web/test/
step "notes example (the seed's scenario) in Chromium"
ROENTGEN_BIN="$PWD/build/src/cli/roentgen" \
  NOTES_FUNCTION="$PWD/build/examples/notes/function/notes_function" \
  node --test --test-concurrency=1 examples/notes/test/
step done
