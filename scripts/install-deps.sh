#!/usr/bin/env bash
# Installs what Roentgen needs on Debian 12, only what is missing. Idempotent.
# Usage: scripts/install-deps.sh [--with-tests] [--with-fuzz]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake ninja-build pkg-config
  libsimdjson-dev librocksdb-dev libboost-dev libboost-system-dev libssl-dev zlib1g-dev
  libfmt-dev libspdlog-dev libzstd-dev liblz4-dev libxxhash-dev libcli11-dev nlohmann-json3-dev libjemalloc-dev
  protobuf-compiler libprotobuf-dev libgrpc++-dev protobuf-compiler-grpc
  libsqlite3-dev)  # the notes example's function (examples/notes/, scripts/demo.sh)
# Node.js and npm build the web console (console/, embedded into the binary).
# Debian's packages only when there is no node at all: Debian's npm conflicts
# with a Node.js installed from elsewhere (such as Node.js 20, which brings its
# own npm).
if ! command -v node >/dev/null; then
  packages+=(nodejs npm)
fi
with_tests=0
with_fuzz=0
for arg in "$@"; do
  case "$arg" in
    --with-tests) with_tests=1 ;;
    --with-fuzz) with_fuzz=1 ;;
    *) echo "unknown option $arg" >&2; exit 2 ;;
  esac
done
if ((with_tests)); then
  # libbrotli-dev: the console test decodes the embedded brotli files;
  # chromium: the console's browser tests drive it (playwright-core);
  # openssl: the HTTPS tests make their certificates with its command;
  # curl and systemd (systemd-analyze, which checks the unit file without a
  # running systemd): the install test (tests/install/install_test.sh);
  # clickhouse-server and clickhouse-client: the ClickHouse engine's tests
  # start servers of their own on loopback, by PID
  # (src/store/clickhouse/testing/, tests/compat/lib/clickhouse.mjs); the
  # package's own service is never used (in a container its start is
  # refused, which is fine).
  packages+=(libgtest-dev libgmock-dev libbenchmark-dev libbrotli-dev chromium awscli openssl
    curl systemd clickhouse-server clickhouse-client)
fi
if ((with_fuzz)); then
  # The fuzz targets (scripts/fuzz.sh): Debian's clang and its libFuzzer and
  # sanitizer runtimes.
  packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v npm >/dev/null; then
  echo "node is installed but npm is not: install the npm that goes with this Node.js" \
    "(Debian's npm package conflicts with a Node.js from elsewhere), or build with" \
    "-DROENTGEN_BUILD_CONSOLE=OFF" >&2
  exit 1
fi

if ((with_tests)); then
  # The compatibility and browser tests' npm packages, the browser SDK's
  # build tools and the OpenTelemetry web recipe's packages, exactly as pinned
  # in their lockfiles.
  for dir in tests/compat tests/e2e sdk/browser examples/otel-web examples/notes; do
    if [[ ! -d $dir/node_modules ]] || [[ $dir/package-lock.json -nt $dir/node_modules ]]; then
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
  done
fi
