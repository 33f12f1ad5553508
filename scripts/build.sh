#!/usr/bin/env bash
# Configures and builds Roentgen. Usage: scripts/build.sh [build-dir] [cmake args…]
# The cmake arguments are applied on every call (a no-op when unchanged), so one
# build directory can serve `scripts/serve.sh` (tests off) and then
# `scripts/test.sh` (tests on).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build}"
shift || true
generator=()
[[ -f "$dir/CMakeCache.txt" ]] || generator=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo)
cmake -S . -B "$dir" "${generator[@]}" "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
