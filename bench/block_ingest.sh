#!/usr/bin/env bash
# End-to-end ingest with the block engine: starts `roentgen serve --store-engine
# block` on loopback with a fresh data dir and default settings, runs
# bench/ingest_load against it on the same machine, prints the server's thread
# CPU, then stops the server (by its PID) and deletes the data dir.
#
#   bench/block_ingest.sh udp     # the 1M burst (1.4 KB segments, each a new trace) at 200k/s, verified through the API
#   bench/block_ingest.sh http 50 # PutTraceSegments, 200k segments in calls of 50 (or 100) over 8 connections
#   bench/block_ingest.sh udp --count 300000 --rate 0   # ingest_load's arguments instead of the defaults
#   bench/block_ingest.sh stream 30000 60   # a UDP stream of 30,000 segments/s for 60 s with latency
#       probes: every PROBE_MS (default 100) ms one segment of the stream is a
#       probe, timed from its send until GetTraceSummaries returns it (polled
#       every 15 ms, or less often so that the server's HTTP threads take at
#       most a tenth of a core); prints probes found and p50/p90/p99/max;
#       fails when a probe is not found 60 s after the last send; no --verify
#   bench/block_ingest.sh pages --filter-expression "responsetime > 1.5"   # page GetTraceSummaries
#       over a copy of the store block_store_bench left in STORE (default
#       /tmp/roentgen-block-store-bench; segment_gen's times, served with
#       --retention 3650d), sending nothing; TRACES (default 1000000) sets the range
#
# Environment: BUILD (build directory, default build), ROENTGEN and INGEST_LOAD
# (the binaries, default under BUILD), PORT (default 28123),
# SERVE_ARGS (extra `roentgen serve` arguments), PERF (a file: the server is
# sampled with `perf record` while the load runs, without call graphs unless
# PERF_ARGS adds them, e.g. PERF_ARGS="--call-graph dwarf,16384"),
# NO_VERIFY (set: skip --verify, which pages every trace of the run: about
# 6 ms a page of 100 under load average 5, docs/benchmarks.md "Block engine").
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
roentgen=${ROENTGEN:-$build/src/cli/roentgen}
ingest_load=${INGEST_LOAD:-$build/bench/ingest_load}
port=${PORT:-28123}
mode=${1:-udp}
shift || true

load_args=()
case "$mode" in
  udp)
    load_args=(--mode udp)
    (($#)) || load_args+=(--count 1000000 --rate 200000)
    ;;
  stream)
    rate=${1:?usage: $0 stream RATE SECONDS [ingest_load arguments]}
    seconds=${2:?usage: $0 stream RATE SECONDS [ingest_load arguments]}
    shift 2
    load_args=(--mode udp --rate "$rate" --count $((rate * seconds)) --probe-every-ms "${PROBE_MS:-100}"
      --probe-poll-ms 15 --probe-timeout 60 --settle 30)
    ;;
  pages)
    traces=${TRACES:-1000000}
    # block_store_bench's range: t0 = 1.7e9 s, a trace every 10 ms.
    load_args=(--page-only --start-time 1699999999 --end-time $((1700000000 + traces / 100 + 10)))
    ;;
  http)
    batch=${1:-50}
    shift || true
    load_args=(--mode http)
    (($#)) || load_args+=(--count 200000 --http-batch "$batch" --http-connections 8)
    ;;
  *)
    echo "usage: $0 udp|http [BATCH]|stream RATE SECONDS|pages [ingest_load arguments]" >&2
    exit 2
    ;;
esac
[[ -n "${NO_VERIFY:-}" || "$mode" == pages || "$mode" == stream ]] || load_args+=(--verify)

data=$(mktemp -d /tmp/rg-block-ingest.XXXXXX)
serve_args=${SERVE_ARGS:-}
if [[ "$mode" == pages ]]; then
  cp -r "${STORE:-/tmp/roentgen-block-store-bench}/." "$data/"
  serve_args="--retention 3650d $serve_args"
fi
# shellcheck disable=SC2086
nice -n 10 "$roentgen" serve --store-engine block --listen "127.0.0.1:$port" \
  --data-dir "$data" --otlp-grpc-listen off --log-level warn $serve_args &
pid=$!
perf_pid=
cleanup() {
  if [[ -n "$perf_pid" ]]; then kill -INT "$perf_pid" 2>/dev/null || true; wait "$perf_pid" || true; fi
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
for _ in $(seq 600); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done
if [[ -n "${PERF:-}" ]]; then
  # shellcheck disable=SC2086
  perf record -q -e cpu-clock -F 499 ${PERF_ARGS:-} -p "$pid" -o "$PERF" 2>/dev/null &
  perf_pid=$!
fi
echo "engine=block mode=$mode load average: $(cut -d' ' -f1-3 /proc/loadavg)"
rc=0
nice -n 10 stdbuf -oL "$ingest_load" --target "127.0.0.1:$port" --server-pid "$pid" \
  "${load_args[@]}" "$@" || rc=$?
# CPU seconds and minor page faults (a first touch of memory the allocator
# got from, or gave back to, the kernel) by thread name (utime + stime and
# minflt, /proc/PID/task/*/stat fields 14-15 and 10).
for stat in /proc/"$pid"/task/*/stat; do
  sed -E 's/^[0-9]+ \(([^)]*)\) (.*)$/\1 \2/' "$stat"
done | awk -v hz="$(getconf CLK_TCK)" '{ cpu[$1] += ($13 + $14) / hz; faults[$1] += $9 }
  END { for (t in cpu) if (cpu[t] >= 0.05) printf "thread %s %.2fs %d page faults\n", t, cpu[t], faults[t] }' |
  sort -k3 -rn
exit "$rc"
