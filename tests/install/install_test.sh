#!/usr/bin/env bash
# `cmake --install` (packaging/CMakeLists.txt, docs/operations.md): installs
# the build in BUILD_DIR into a temporary prefix and checks the layout; the
# systemd unit (its user, data dir and hardening, and `systemd-analyze
# verify` when systemd's tools are there: systemd need not run); that the
# sample config names every option of `roentgen serve`; that the installed
# binary starts a server from the installed config (with a temporary data dir
# and port) and stops cleanly on SIGTERM; that a second install keeps an
# edited config; and a packager's install (DESTDIR, prefix /usr, /etc).
#
# Usage: tests/install/install_test.sh BUILD_DIR   (CTest runs it: install_layout)
set -euo pipefail
build="$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)"
work="$(mktemp -d /tmp/roentgen-install-test-XXXXXX)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill -9 "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" || {
  cat "$work/install.log" >&2
  fail "cmake --install"
}

# --- the layout ---
for f in bin/roentgen etc/roentgen/roentgen.toml lib/systemd/system/roentgen.service \
  lib/sysusers.d/roentgen.conf share/doc/roentgen/roentgen.toml share/doc/roentgen/README.md \
  share/doc/roentgen/operations.md; do
  [[ -f "$prefix/$f" ]] || fail "$f is not installed"
done
[[ -x "$prefix/bin/roentgen" ]] || fail "bin/roentgen is not executable"
"$prefix/bin/roentgen" version | grep -q '^roentgen ' || fail "roentgen version"
grep -q '^u roentgen ' "$prefix/lib/sysusers.d/roentgen.conf" || fail "sysusers.d: no user roentgen"

# --- the unit ---
unit="$prefix/lib/systemd/system/roentgen.service"
grep -qxF "ExecStart=$prefix/bin/roentgen serve --config $prefix/etc/roentgen/roentgen.toml" "$unit" ||
  fail "the unit's ExecStart does not name the installed binary and config"
for line in 'User=roentgen' 'Group=roentgen' 'StateDirectory=roentgen' 'StateDirectoryMode=0700' \
  'ExecReload=/bin/kill -HUP $MAINPID' 'Restart=on-failure' 'LimitNOFILE=65536' \
  'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
  'PrivateDevices=yes' 'ProtectKernelTunables=yes' 'ProtectKernelModules=yes' \
  'ProtectKernelLogs=yes' 'ProtectControlGroups=yes' \
  'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' 'RestrictNamespaces=yes' \
  'LockPersonality=yes' 'MemoryDenyWriteExecute=yes' 'SystemCallFilter=@system-service' \
  'CapabilityBoundingSet=' 'UMask=0077'; do
  grep -qxF "$line" "$unit" || fail "the unit lacks '$line'"
done
if command -v systemd-analyze >/dev/null; then
  # verify prints what it dislikes (unknown keys, bad values) and still exits 0.
  verify="$(systemd-analyze verify "$unit" 2>&1)" || fail "systemd-analyze verify: $verify"
  [[ -z "$verify" ]] || fail "systemd-analyze verify: $verify"
  exposure="$(systemd-analyze security --offline=true "$unit" 2>&1 | sed -n 's/.*Overall exposure level for roentgen.service: \([0-9.]*\).*/\1/p')"
  [[ -n "$exposure" ]] || fail "systemd-analyze security gave no exposure level"
  awk -v e="$exposure" 'BEGIN { exit !(e <= 2.5) }' ||
    fail "systemd-analyze security: exposure $exposure (was 1.5; more than 2.5 means hardening was lost)"
else
  echo "systemd-analyze not installed: the unit's syntax is not verified"
fi

# --- the sample config names every option of `roentgen serve` ---
config="$prefix/etc/roentgen/roentgen.toml"
cmp -s "$config" "$prefix/share/doc/roentgen/roentgen.toml" || fail "the installed config is not the sample"
options="$("$prefix/bin/roentgen" serve --help | grep -oE '^ +--[a-z][a-z-]+' | sed 's/^ *--//' | sort -u)"
[[ -n "$options" ]] || fail "roentgen serve --help lists no options"
for option in $options; do
  [[ "$option" == help || "$option" == config ]] && continue
  grep -qE "^(# )?$option = " "$config" ||
    fail "the sample config (packaging/roentgen.toml) does not mention --$option"
done

# --- the installed binary serves with the installed config ---
# Starts `roentgen serve --config $1` with a temporary data dir and a free
# loopback port; sets server_pid and port once it answers /healthz.
start_server() {
  local conf="$1" log="$2"
  "$prefix/bin/roentgen" serve --config "$conf" --data-dir "$work/data" \
    --listen 127.0.0.1:0 --otlp-grpc-listen off >"$log" 2>&1 &
  server_pid=$!
  port=""
  for _ in $(seq 200); do
    port="$(sed -n 's/.*roentgen serving X-Ray on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$log")"
    [[ -n "$port" ]] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; fail "roentgen serve --config $conf exited"; }
    sleep 0.1
  done
  [[ -n "$port" ]] || { cat "$log" >&2; fail "roentgen serve did not start"; }
  [[ "$(curl -fsS "http://127.0.0.1:$port/healthz")" == ok ]] || fail "/healthz is not ok"
}
stop_server() {
  kill -TERM "$server_pid"
  local code=0
  wait "$server_pid" || code=$?
  server_pid=""
  [[ $code -eq 0 ]] || fail "roentgen serve exited $code on SIGTERM"
}

start_server "$config" "$work/serve.log"
grep -q "data dir $work/data (rocksdb engine), retention 30d" "$work/serve.log" || fail "unexpected start-up: $(cat "$work/serve.log")"
[[ -S "$work/data/control.sock" ]] || fail "no control socket in the data dir"
stop_server

# The file's values are used (here: a retention), the command line's win.
sed 's/^retention = .*/retention = "7d"/; s/^# udp-allow = .*/udp-allow = ["127.0.0.0\/8"]/' \
  "$config" >"$work/edited.toml"
start_server "$work/edited.toml" "$work/serve2.log"
grep -q "retention 7d" "$work/serve2.log" || fail "the config's retention was not used"
grep -q "UDP datagrams are taken from 127.0.0.0/8 only" "$work/serve2.log" || fail "the config's udp-allow was not used"
stop_server

# --- a second install keeps an edited config, and replaces the rest ---
echo '# edited by the operator' >>"$config"
cmake --install "$build" --prefix "$prefix" >"$work/install2.log"
grep -q 'Keeping: .*roentgen.toml' "$work/install2.log" || fail "a second install did not say it kept the config"
tail -1 "$config" | grep -q 'edited by the operator' || fail "a second install overwrote the edited config"

# --- a packager's install: DESTDIR, prefix /usr, config in /etc ---
DESTDIR="$work/dest" cmake --install "$build" --prefix /usr >"$work/install3.log"
for f in usr/bin/roentgen etc/roentgen/roentgen.toml usr/lib/systemd/system/roentgen.service; do
  [[ -f "$work/dest/$f" ]] || fail "DESTDIR install: no $f"
done
grep -qxF "ExecStart=/usr/bin/roentgen serve --config /etc/roentgen/roentgen.toml" \
  "$work/dest/usr/lib/systemd/system/roentgen.service" || fail "DESTDIR install: the unit's ExecStart"

echo "install layout: ok ($prefix)"
