#!/usr/bin/env bash
# Soak: sustained ingest plus queries against one `roentgen serve` for
# --minutes, recording the server's memory, CPU, disk and metrics, and each
# call's latency, over time; at the end it checks that nothing was dropped and
# that the last traces sent are queryable, stops the server by PID and writes a
# summary and a plot (docs/benchmarks.md, "Soak").
#
#   bench/soak/soak.sh --bin build/src/cli/roentgen --load-bin build/bench/ingest_load \
#       [--minutes 10] [--rate 5000] [--http-rate 500] [--out DIR] [--svg FILE]
#
# Options:
#   --bin FILE          roentgen (default build/src/cli/roentgen)
#   --load-bin FILE     bench/ingest_load (default build/bench/ingest_load)
#   --minutes N         how long the load runs (default 10)
#   --rate N            UDP segments/s, the daemon protocol (default 5000)
#   --http-rate N       PutTraceSegments segments/s, batches of 50 over 2
#                       keep-alive connections (default 500)
#   --query-interval S  a round of queries every S seconds (default 1)
#   --window S          the queries' time range: the last S seconds (default 300;
#                       full after 5 minutes, so later rounds read as much data)
#   --sample-interval S server samples every S seconds (default 5)
#   --port N            loopback port (default: the first free one from 28140)
#   --out DIR           results (default /tmp/roentgen-soak-DATE); the data dir
#                       is DIR/data, removed at the end unless --keep-data
#   --svg FILE          the plot (default DIR/soak.svg)
#   --keep-data         keep DIR/data
#
# The load: two bench/ingest_load processes (UDP at --rate, PutTraceSegments at
# --http-rate) send bench/segment_gen documents of ~1.4 KB, each a new trace
# starting when sent (an ingest_load from c9b0cd6 on: older ones left the
# subsegments at the generator's start, and the sliding --window then found
# none of the load's traces).
# The reads: bench/soak/queries.mjs, through the real @aws-sdk/client-xray
# (tests/compat/node_modules): GetTraceSummaries without a filter, with an
# annotation filter and with `responsetime > 1`, BatchGetTraces of ids just
# listed, GetServiceGraph and GetTimeSeriesServiceStatistics, one round every
# --query-interval; plus canaries through aws-xray-sdk-core (UDP) timed until
# BatchGetTraces finds them, and one-document PutTraceSegments calls.
#
# Output in DIR: server.log, samples.csv (every --sample-interval: RSS, peak
# RSS, CPU seconds, threads, fds, load average, data dir bytes, and metrics:
# received, stored, dropped, queue depth, spool backlog, memtables, block
# cache, pending compaction), queries.csv (one row a call), run.json,
# summary.md / summary.json (bench/soak/summarize.mjs), the SVG.
# Exits 1 when a segment was dropped or lost (fewer stored than were sent over
# UDP or acknowledged by PutTraceSegments), or a last trace is not found.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

bin=$repo/build/src/cli/roentgen
load_bin=$repo/build/bench/ingest_load
minutes=10
rate=5000
http_rate=500
query_interval=1
window=300
sample_interval=5
port=
out=/tmp/roentgen-soak-$(date +%Y%m%d-%H%M%S)
svg=
keep_data=0
while (($#)); do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --load-bin) load_bin=$2; shift 2 ;;
    --minutes) minutes=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --http-rate) http_rate=$2; shift 2 ;;
    --query-interval) query_interval=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --sample-interval) sample_interval=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --svg) svg=$2; shift 2 ;;
    --keep-data) keep_data=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (--help)" >&2; exit 2 ;;
  esac
done
bin=$(realpath "$bin")
load_bin=$(realpath "$load_bin")
[[ -x $bin ]] || { echo "no roentgen at $bin (--bin)" >&2; exit 2; }
[[ -x $load_bin ]] || { echo "no ingest_load at $load_bin (--load-bin)" >&2; exit 2; }
seconds=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }')
udp_count=$((rate * seconds))
http_count=$((http_rate * seconds))

# What the script needs beyond the build: gnuplot (Debian's, without X) for
# the plot, curl for /metrics, and the compatibility tests' npm packages for
# the real AWS clients.
need=()
command -v gnuplot >/dev/null || need+=(gnuplot-nox)
command -v curl >/dev/null || need+=(curl)
if ((${#need[@]})); then
  echo "installing: ${need[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if [[ ! -d $repo/tests/compat/node_modules/@aws-sdk/client-xray || ! -d $repo/tests/compat/node_modules/aws-xray-sdk-core ]]; then
  (cd "$repo/tests/compat" && npm ci --no-audit --no-fund --loglevel=error)
fi

mkdir -p "$out"
out=$(realpath "$out")
svg=${svg:-$out/soak.svg}
data=$out/data
rm -rf "$data"

port_in_use() { ss -Hltun "( sport = :$1 )" | grep -q .; }
if [[ -z $port ]]; then
  port=28140
  while port_in_use "$port"; do port=$((port + 1)); done
fi
target=127.0.0.1:$port

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# ------------------------------------------------------------------- server
server_cmd="$bin serve --listen $target --data-dir $data --otlp-grpc-listen off --log-level warn"
echo "server: $server_cmd"
$server_cmd >"$out/server.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
for _ in $(seq 200); do
  curl -sf "http://$target/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { echo "the server exited:" >&2; cat "$out/server.log" >&2; exit 1; }
  sleep 0.1
done
curl -sf "http://$target/healthz" >/dev/null || { echo "the server is not healthy" >&2; exit 1; }

# Sums of the metrics the soak follows, over their labels.
metric_values() {
  curl -s --max-time 5 "http://$target/metrics" | awk '
    /^#/ { next }
    { name = $1; sub(/\{.*/, "", name); v[name] += $NF }
    END {
      split("roentgen_segments_received_total roentgen_segments_stored_total roentgen_segments_dropped_total " \
            "roentgen_segments_rejected_total roentgen_udp_datagrams_dropped_total roentgen_ingest_queue_depth " \
            "roentgen_spool_backlog_bytes roentgen_store_memtable_bytes roentgen_store_block_cache_bytes " \
            "roentgen_store_pending_compaction_bytes roentgen_store_disk_bytes roentgen_store_writes_stalled " \
            "roentgen_store_running_compactions", names, " ")
      line = ""
      for (i = 1; i <= length(names); i++) line = line (i > 1 ? "," : "") (v[names[i]] + 0)
      print line
    }'
}
metric() {  # metric NAME: the sum of NAME's series
  curl -s --max-time 5 "http://$target/metrics" | awk -v want="$1" '
    /^#/ { next } { name = $1; sub(/\{.*/, "", name); if (name == want) s += $NF } END { printf "%.0f\n", s + 0 }'
}

tck=$(getconf CLK_TCK)
sample_loop() {
  set +e +o pipefail  # files come and go under du and ls; a sample must not end the loop
  echo "t_unix,rss_kb,hwm_kb,cpu_s,threads,fds,load1,data_bytes,received,stored,dropped,rejected,udp_dropped,queue_depth,spool_backlog_bytes,memtable_bytes,block_cache_bytes,pending_compaction_bytes,store_disk_bytes,writes_stalled,running_compactions"
  while kill -0 "$server_pid" 2>/dev/null; do
    local now rss hwm threads cpu fds load1 du_bytes m
    now=$(date +%s.%N)
    read -r rss hwm threads < <(awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } /^Threads:/ { t = $2 } END { print r, h, t }' "/proc/$server_pid/status" 2>/dev/null) || break
    cpu=$(sed 's/.*) //' "/proc/$server_pid/stat" | awk -v tck="$tck" '{ printf "%.2f", ($12 + $13) / tck }')
    fds=$(ls "/proc/$server_pid/fd" 2>/dev/null | wc -l)
    load1=$(cut -d' ' -f1 /proc/loadavg)
    du_bytes=$(du -sb "$data" 2>/dev/null | cut -f1)
    m=$(metric_values)
    echo "${now:0:14},$rss,$hwm,$cpu,$threads,$fds,$load1,$du_bytes,$m"
    sleep "$sample_interval"
  done
}
sample_loop >"$out/samples.csv" &
sampler_pid=$!
pids+=("$sampler_pid")
sleep 2

# ------------------------------------------------------------- load + queries
udp_cmd="$load_bin --target $target --mode udp --count $udp_count --rate $rate --server-pid $server_pid"
http_cmd="$load_bin --target $target --mode http --count $http_count --rate $http_rate --http-connections 2 --server-pid $server_pid"
query_cmd="node $here/queries.mjs --endpoint http://$target --seconds $seconds --interval $query_interval --window $window --out $out/queries.csv"
echo "load: $udp_cmd"
echo "load: $http_cmd"
echo "queries: $query_cmd"
echo "for $minutes min; results in $out"
load_start=$(date +%s.%N)
$udp_cmd >"$out/udp-load.txt" 2>&1 &
udp_pid=$!
$http_cmd >"$out/http-load.txt" 2>&1 &
http_pid=$!
$query_cmd >"$out/queries.out" 2>"$out/queries.err" &
query_pid=$!
pids+=("$udp_pid" "$http_pid" "$query_pid")

udp_rc=0; http_rc=0; query_rc=0
wait "$udp_pid" || udp_rc=$?
wait "$http_pid" || http_rc=$?
load_end=$(awk -v a="$load_start" -v s="$seconds" 'BEGIN { printf "%.3f", a + s }')
wait "$query_pid" || query_rc=$?
echo "load done (ingest_load exit $udp_rc / $http_rc, queries exit $query_rc)"

# ----------------------------------------------------------------- the checks
# Everything sent indexed: the spool and the queue empty, the stored count
# standing still.
prev=-1
for _ in $(seq 300); do
  IFS=, read -r _ stored _ _ _ depth backlog _ < <(metric_values) || true
  [[ $depth == 0 && $backlog == 0 && $stored == "$prev" ]] && break
  prev=$stored
  sleep 1
done
curl -s "http://$target/metrics" >"$out/metrics-end.txt"
canaries=$(tail -n 1 "$out/queries.out")
[[ $canaries == \{* ]] || canaries='{"udp_sent":0,"udp_found":0,"put_sent":0,"put_ok":0,"missing":[]}'
canaries_sent=$(node -e 'const c = JSON.parse(process.argv[1]); console.log(c.udp_sent + c.put_sent)' "$canaries")
# A PutTraceSegments that failed (no answer) is not acknowledged: it may or
# may not have been stored, and the client knows to send it again.
canaries_acked=$(node -e 'const c = JSON.parse(process.argv[1]); console.log(c.udp_sent + c.put_ok)' "$canaries")
# What the generators say they sent (PutTraceSegments: answered 200).
loaded() { sed -n 's/^mode=[a-z]* sent=\([0-9]*\).*/\1/p' "$1" | head -n 1; }
udp_sent=$(loaded "$out/udp-load.txt"); udp_sent=${udp_sent:-0}
http_sent=$(loaded "$out/http-load.txt"); http_sent=${http_sent:-0}
check_last=$(node "$here/queries.mjs" --check-last --endpoint "http://$target" --udp-count "$udp_count" \
  --http-count "$http_count" --http-connections 2 --last 3 \
  --after "$(awk -v t="$load_end" 'BEGIN { printf "%d", t - 60 }')" --before "$(date +%s)" 2>"$out/check-last.err" | tail -n 1 || true)
[[ $check_last == \{* ]] || { echo "the check of the last traces failed: $(tail -n 3 "$out/check-last.err")" >&2; check_last='{"checked":0,"found":0,"rows":[]}'; }
stored_total=$(metric roentgen_segments_stored_total)
dropped_total=$(metric roentgen_segments_dropped_total)
rejected_total=$(metric roentgen_segments_rejected_total)
udp_dropped_total=$(metric roentgen_udp_datagrams_dropped_total)
sent_total=$((udp_sent + http_sent + canaries_sent))
acked_total=$((udp_sent + http_sent + canaries_acked))

# ------------------------------------------------------------------- stop
stop_start=$(date +%s.%N)
kill -TERM "$server_pid"
server_exit=0
wait "$server_pid" || server_exit=$?
stop_seconds=$(awk -v a="$stop_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
wait "$sampler_pid" 2>/dev/null || true
pids=()  # all waited for: nothing for the trap to stop
du -sb "$data" | cut -f1 >"$out/data-bytes-end.txt"
((keep_data)) || rm -rf "$data"

machine="$(nproc) cores ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr)"
version=$("$bin" version 2>/dev/null | head -n 1 || true)
version="${version:-unknown} ($(sha256sum "$bin" | cut -c1-12))"
cat >"$out/run.json" <<EOF
{
  "started": "$(date -u -d "@${load_start%.*}" +%Y-%m-%dT%H:%M:%SZ)",
  "minutes": $minutes, "udp_rate": $rate, "http_rate": $http_rate,
  "server_command": "$server_cmd",
  "udp_command": "$udp_cmd",
  "http_command": "$http_cmd",
  "query_command": "$query_cmd",
  "machine": "$machine",
  "version": "$version",
  "load_start_unix": $load_start, "load_end_unix": $load_end,
  "udp_load_exit": $udp_rc, "http_load_exit": $http_rc, "queries_exit": $query_rc,
  "udp_count": $udp_count, "http_count": $http_count, "udp_sent": $udp_sent, "http_sent": $http_sent,
  "canaries_sent": $canaries_sent, "canaries_acked": $canaries_acked,
  "sent_total": $sent_total, "acked_total": $acked_total, "stored_total": $stored_total,
  "dropped_total": $dropped_total, "rejected_total": $rejected_total, "udp_dropped_total": $udp_dropped_total,
  "canaries": $canaries,
  "check_last": $check_last,
  "stop_seconds": $stop_seconds, "server_exit": $server_exit
}
EOF

node "$here/summarize.mjs" "$out" 30 >/dev/null
names=$(cat "$out/latency-names.txt")
gnuplot -e "dir='$out'; out='$svg'; minutes=$minutes; names='$names'; title='Soak: $minutes min, UDP $rate/s + PutTraceSegments $http_rate/s, queries every ${query_interval} s'" "$here/plot.gp"
cat "$out/summary.md"
echo "plot: $svg"

status=0
if ((stored_total < acked_total || stored_total > sent_total)); then
  echo "FAIL: $sent_total segments sent ($acked_total acknowledged or over UDP), $stored_total stored" >&2; status=1
fi
if ((udp_sent != udp_count || http_sent != http_count)); then
  echo "FAIL: the generators sent $udp_sent of $udp_count (UDP) and $http_sent of $http_count (HTTP)" >&2; status=1
fi
if ((dropped_total > 0 || udp_dropped_total > 0)); then
  echo "FAIL: dropped $dropped_total segments, $udp_dropped_total UDP datagrams" >&2; status=1
fi
if [[ $(node -e 'const c = JSON.parse(process.argv[1]); console.log(c.checked > 0 && c.found === c.checked ? 1 : 0)' "$check_last") != 1 ]]; then
  echo "FAIL: the last traces sent are not all queryable" >&2; status=1
fi
if ((server_exit != 0)); then
  echo "FAIL: the server exited with $server_exit after SIGTERM" >&2; status=1
fi
exit $status
