#!/usr/bin/env bash
# Start-up of `roentgen serve --store-engine block` on an existing data dir
# (e.g. the one bench/block_rollups_bench filled: its --dir): the time from
# exec to the first /healthz 200, and to the first GetServiceGraph answer
# over the last 30 days (every stored minute), the server's CPU until /healthz
# answered, and its peak RSS.
# The server is stopped by its PID; the data dir is kept.
#
#   bench/block_start.sh /tmp/roentgen-block-rollups-bench [runs] [port]
set -euo pipefail

data=${1:?usage: $0 DATA_DIR [RUNS] [PORT]}
runs=${2:-3}
port=${3:-2719}
here=$(cd "$(dirname "$0")/.." && pwd)
roentgen=${ROENTGEN:-$here/build/src/cli/roentgen}
[[ -d "$data/blocks" ]] || { echo "$data holds no block store" >&2; exit 2; }

now_ms() { date +%s%3N; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$runs"); do
  start=$(now_ms)
  "$roentgen" serve --store-engine block --listen "127.0.0.1:$port" --data-dir "$data" \
    --otlp-grpc-listen off --log-level info 2>"/tmp/rg-block-start.$port.log" &
  pid=$!
  trap 'kill "$pid" 2>/dev/null || true' EXIT
  healthz=
  for _ in $(seq 6000); do
    if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
      healthz=$(now_ms)
      break
    fi
    kill -0 "$pid" 2>/dev/null || { echo "serve exited" >&2; cat "/tmp/rg-block-start.$port.log" >&2; exit 1; }
    sleep 0.01
  done
  [[ -n "$healthz" ]] || { echo "no /healthz in 60 s" >&2; exit 1; }
  # CPU of every thread until then (utime + stime, /proc/PID/stat fields 14-15).
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", ($14 + $15) * 1000 / hz }' "/proc/$pid/stat")
  end_s=$(( $(date +%s) + 60 ))
  body=$(printf '{"StartTime": %d, "EndTime": %d}' $((end_s - 30 * 86400)) "$end_s")
  map=$(curl -sf -X POST -H 'Content-Type: application/json' -d "$body" \
    "http://127.0.0.1:$port/ServiceGraph")
  answered=$(now_ms)
  summary=$(python3 -c '
import json, sys
m = json.load(sys.stdin)
s = m.get("Services", [])
n = sum(x.get("SummaryStatistics", {}).get("TotalCount", 0) for x in s)
print(len(s), "services,", n, "observations counted")
' <<<"$map")
  hwm=$(awk '/VmHWM/ {print $2 / 1024 " MiB"}' "/proc/$pid/status")
  loaded=$(grep -o 'service-graph rollups loaded.*' "/tmp/rg-block-start.$port.log" || true)
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  trap - EXIT
  echo "run $run: /healthz 200 after $((healthz - start)) ms ($cpu ms of CPU); full GetServiceGraph answered after $((answered - start)) ms ($summary); peak RSS $hwm"
  echo "  $loaded"
done
