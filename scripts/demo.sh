#!/usr/bin/env bash
# The seed's scenario in one command (docs/tutorial.md): Roentgen
# with keys, the notes page (browser SDK), the notes API (GraphQL, in the
# AppSync role) and the notes function (C++, in the Lambda role, SQLite), all
# on loopback. Builds what is missing first. Prints
#   console: URL
#   app: URL
#   keys: ACCESS_KEY_ID SECRET_ACCESS_KEY    (may read: the console, the CLI)
# and runs until Ctrl-C or SIGTERM, which stop everything it started.
#
# Environment:
#   ROENTGEN_PORT (2000), API_PORT (4000), WEB_PORT (8080)
#   BUILD_DIR (build)            where roentgen and notes_function are built
#   ROENTGEN_BIN                 a roentgen binary to use instead of building one
#   NOTES_FUNCTION               a notes_function binary, likewise
#   DEMO_DIR                     keep the keys, the data and the notes here
#                                (default: a temporary directory, removed at exit)
#   JOBS                         parallel build jobs (default: nproc)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rport=${ROENTGEN_PORT:-2000}
aport=${API_PORT:-4000}
wport=${WEB_PORT:-8080}
build=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}
log() { echo "demo: $*" >&2; }

# --- Build what is missing -------------------------------------------------
bin=${ROENTGEN_BIN:-$build/src/cli/roentgen}
fn=${NOTES_FUNCTION:-$build/examples/notes/function/notes_function}
targets=()
[[ -x $bin ]] || targets+=(roentgen)
[[ -x $fn ]] || targets+=(notes_function)
need_npm=0
[[ -f sdk/browser/dist/xray.js && -d examples/notes/node_modules ]] || need_npm=1
if ((${#targets[@]} || need_npm)); then
  scripts/install-deps.sh >&2
fi
if ((${#targets[@]})); then
  [[ -z ${ROENTGEN_BIN:-} || -x $bin ]] || { log "ROENTGEN_BIN=$bin is not executable"; exit 1; }
  [[ -z ${NOTES_FUNCTION:-} || -x $fn ]] || { log "NOTES_FUNCTION=$fn is not executable"; exit 1; }
  log "building ${targets[*]} in $build"
  generator=()
  [[ -f $build/CMakeCache.txt ]] ||
    generator=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DROENTGEN_BUILD_TESTS=OFF -DROENTGEN_BUILD_BENCH=OFF)
  cmake -S . -B "$build" "${generator[@]}" -DROENTGEN_BUILD_EXAMPLES=ON >/dev/null
  cmake --build "$build" -j "$jobs" --target "${targets[@]}" >&2
fi
if [[ ! -f sdk/browser/dist/xray.js ]]; then
  log "building the browser SDK (sdk/browser)"
  (cd sdk/browser && { [[ -d node_modules ]] || npm ci --no-audit --no-fund >&2; } && node build.mjs >&2)
fi
if [[ ! -d examples/notes/node_modules ]]; then
  log "installing the example's npm packages (examples/notes)"
  (cd examples/notes && npm ci --no-audit --no-fund >&2)
fi
bin=$(realpath "$bin")
fn=$(realpath "$fn")

# --- Start everything, and stop it all at exit -----------------------------
pids=()
tmp=""
stop() {
  trap - EXIT INT TERM
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -n $tmp ]] && rm -rf "$tmp"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -n ${DEMO_DIR:-} ]]; then
  dir=$DEMO_DIR
  mkdir -p "$dir"
else
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/roentgen-demo.XXXXXX")
  dir=$tmp
fi
keys=$dir/keys.json
roentgen=http://127.0.0.1:$rport
api=http://127.0.0.1:$aport
web=http://127.0.0.1:$wport

# Three keys (docs/security.md): the API's backend may make session keys
# for the page and write; the reader is for the console and the CLI.
key() { "$bin" keys create --keys "$keys" "$@"; }
field() { node -e 'const k = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(k[process.argv[1]])' "$1"; }
backend=$(key --name notes-api --actions roentgen:CreateSessionKeys,xray:PutTraceSegments,xray:GetSamplingRules,xray:GetSamplingTargets)
reader=$(key --name reader --actions 'xray:Get*,xray:BatchGetTraces,roentgen:TraceAnalytics')

"$bin" serve --listen "127.0.0.1:$rport" --data-dir "$dir/data" --keys "$keys" --cors-origins "$web" \
  --otlp-grpc-listen off --log-level warn &
pids+=($!)

AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:$rport NOTES_DB=$dir/notes.db NOTES_FUNCTION=$fn \
  PORT=$aport WEB_ORIGIN=$web ROENTGEN_ENDPOINT=$roentgen \
  ROENTGEN_ACCESS_KEY_ID=$(field AccessKeyId <<<"$backend") ROENTGEN_SECRET_ACCESS_KEY=$(field SecretAccessKey <<<"$backend") \
  AWS_XRAY_DEBUG_MODE='' node examples/notes/api/server.mjs >&2 &
pids+=($!)

PORT=$wport API_URL=$api ROENTGEN_ENDPOINT=$roentgen XRAY_BUNDLE=$root/sdk/browser/dist/xray.js \
  node examples/notes/web/server.mjs >&2 &
pids+=($!)

ready() {
  for _ in $(seq 100); do
    node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$1" && return 0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || { log "a process exited early (pid $pid)"; exit 1; }; done
    sleep 0.1
  done
  log "$1 did not answer"
  exit 1
}
ready "$roentgen/healthz"
ready "$api/healthz"
ready "$web/"

echo "console: $roentgen/"
echo "app: $web/"
echo "keys: $(field AccessKeyId <<<"$reader") $(field SecretAccessKey <<<"$reader")"
log "running; Ctrl-C stops it"
wait -n "${pids[@]}" || true
log "a process exited; stopping the others"
exit 1
