#!/usr/bin/env bash
# The notes function as the API invokes it (an event on stdin, the trace
# header in _X_AMZN_TRACE_ID): notes persist in SQLite per user, "boom" and
# bad events answer with the function's error, and the process still exits 0
# (a failed invocation is an answer, as Lambda's). Usage: function_test.sh BIN
set -euo pipefail
bin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export NOTES_DB=$dir/notes.db AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:9
export _X_AMZN_TRACE_ID="Root=1-$(printf %08x "$(date +%s)")-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"
call() { "$bin" <<<"$1"; }
# $2 is a glob: * stands for the time (and an escaped quote), brackets are escaped.
expect() {
  local got
  got=$(call "$1")
  if [[ $got != $2 ]]; then
    echo "event $1: got $got, expected $2" >&2
    exit 1
  fi
}
expect '{"info":{"fieldName":"signIn"},"arguments":{"email":"alice@example.com"}}' '{"email":"alice@example.com","notes":\[\]}'
expect '{"info":{"fieldName":"addNote"},"arguments":{"email":"alice@example.com","text":"buy milk"}}' \
  '{"createdAt":"20*","email":"alice@example.com","id":"1","text":"buy milk"}'
expect '{"info":{"fieldName":"addNote"},"arguments":{"email":"bob@example.com","text":"hi"}}' '*"email":"bob@example.com","id":"2","text":"hi"}'
expect '{"info":{"fieldName":"addNote"},"arguments":{"email":"alice@example.com","text":"boom"}}' \
  '{"errorMessage":"the note said boom","errorType":"Error"}'
expect '{"info":{"fieldName":"signIn"},"arguments":{"email":"alice@example.com"}}' \
  '{"email":"alice@example.com","notes":\[{"createdAt":"20*","email":"alice@example.com","id":"1","text":"buy milk"}\]}'
expect '{"info":{"fieldName":"signOut"},"arguments":{"email":"alice@example.com"}}' 'true'
expect '{"info":{"fieldName":"addNote"},"arguments":{"email":"alice@example.com"}}' \
  '{"errorMessage":"argument text must be a non-empty string","errorType":"BadRequest"}'
expect '{"info":{"fieldName":"deleteEverything"},"arguments":{}}' '{"errorMessage":"unknown field *deleteEverything*","errorType":"BadRequest"}'
expect 'not json' '{"errorMessage":"the event is not a JSON object","errorType":"BadRequest"}'
echo "notes function: ok"
