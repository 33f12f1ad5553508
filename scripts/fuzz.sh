#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang, ASan + UBSan) in build-fuzz/ and
# runs each for a while, two at a time. Any crash, leak, timeout, UBSan report
# or broken invariant fails the run; the input is kept and printed.
# docs/fuzzing.md describes the targets and how to run them for long.
#
# Usage: scripts/fuzz.sh [--seconds N] [--jobs N] [--build-only] [TARGET…]
#   --seconds N   fuzzing time per target (default 10)
#   --jobs N      targets run at once (default 2)
#   --build-only  build, run nothing
#   TARGET        segment_parser, filter, … (default: all of them)
# Environment: FUZZ_DIR (default build-fuzz), FUZZ_FLAGS (more libFuzzer flags),
# FUZZ_CXX_FLAGS (optimization and debug flags, default "-O1 -g1").
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(segment_parser daemon_datagram trace_header filter api_request api_router
  page_token gunzip otlp_protobuf otlp_json sigv4 record_codec block spool_block)
seconds=10
jobs=2
build_only=0
targets=()
while (($#)); do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --build-only) build_only=1; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=("${all_targets[@]}")
dir="${FUZZ_DIR:-build-fuzz}"

scripts/install-deps.sh --with-fuzz
start=$(date +%s)
# Only the libraries the targets link are built (not the server, the console,
# the tests or the benchmarks).
cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Fuzz \
  -DCMAKE_CXX_FLAGS_FUZZ="${FUZZ_CXX_FLAGS:--O1 -g1}" -DROENTGEN_BUILD_FUZZ=ON \
  -DROENTGEN_BUILD_TESTS=OFF -DROENTGEN_BUILD_BENCH=OFF -DROENTGEN_BUILD_CONSOLE=OFF >/dev/null
cmake --build "$dir" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"
echo "fuzz targets built in $(( $(date +%s) - start ))s"
((build_only)) && exit 0

# Seeds beyond fuzz/corpus/<target>/: the golden files of the tests.
seeds_for() {
  local target="$1"
  echo "fuzz/corpus/$target"
  case "$target" in
    segment_parser) printf '%s\n' tests/testdata/segments/valid tests/testdata/segments/invalid ;;
    filter)
      # One expression per file from the filter tests' golden corpus.
      local out="$dir/seeds/filter"
      rm -rf "$out" && mkdir -p "$out"
      grep -v -e '^#' -e '^\[' -e '^$' tests/testdata/filter/corpus.txt | sed 's/ ==> .*//' |
        awk -v out="$out" '{ f = sprintf("%s/line-%03d", out, NR); printf "%s", $0 > f; close(f) }'
      echo "$out" ;;
  esac
}

dict_for() {
  local name="$1"
  [[ $name == daemon_datagram ]] && name=segment_parser
  [[ -f fuzz/dict/$name.dict ]] && echo "-dict=fuzz/dict/$name.dict"
  return 0
}

run_target() {
  local target="$1"
  local corpus="$dir/corpus/$target" artifacts="$dir/artifacts/$target/" log="$dir/logs/$target.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  # Inputs of earlier failures are kept; this run's are those newer than this.
  local marker="$dir/logs/$target.start"
  touch "$marker"
  local seeds
  mapfile -t seeds < <(seeds_for "$target")
  # The first directory collects what the fuzzer finds; the seeds are only read.
  # shellcheck disable=SC2046,SC2086
  if ASAN_OPTIONS=detect_leaks=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     nice -n "${FUZZ_NICE:-0}" "$dir/fuzz/fuzz_$target" "$corpus" "${seeds[@]}" \
       -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$artifacts" $(dict_for "$target") ${FUZZ_FLAGS:-} >"$log" 2>&1; then
    local execs rate line
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED)' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' || true)
    printf '%-16s ok   %10s execs %7s/s  %s\n' "$target" "$execs" "$rate" "$line"
  else
    printf '%-16s FAILED (log: %s)\n' "$target" "$log"
    grep -v -E '^(#[0-9]+|INFO:|MERGE)' "$log" | tail -60
    for f in "$artifacts"*; do
      [[ -f $f && $f -nt $marker ]] || continue
      echo "== input $f ($(stat -c %s "$f") bytes), base64:"
      head -c 4096 "$f" | base64
    done
    return 1
  fi
}

failed=0
running=0
for target in "${targets[@]}"; do
  run_target "$target" &
  running=$((running + 1))
  if ((running >= jobs)); then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while ((running > 0)); do
  wait -n || failed=1
  running=$((running - 1))
done
echo "fuzzing finished in $(( $(date +%s) - start ))s"
exit "$failed"
