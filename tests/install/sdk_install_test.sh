#!/usr/bin/env bash
# The C++ X-Ray SDK installs alone and is found by find_package(roentgen):
# `cmake --install BUILD --component sdk` into a temporary prefix must hold
# the headers, the library and the CMake package and nothing else; a
# consumer project outside this tree (only CMAKE_PREFIX_PATH pointing at the
# prefix) configures, builds against roentgen::xray and runs: it records a
# segment and receives it on its own UDP socket as the daemon would.
#
# Usage: tests/install/sdk_install_test.sh BUILD_DIR   (CTest runs it: xray_sdk_install)
set -euo pipefail
build="$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)"
work="$(mktemp -d /tmp/roentgen-sdk-install-XXXXXX)"
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

prefix="$work/prefix"
cmake --build "$build" --target roentgen_xray -j2 >"$work/build.log" || { cat "$work/build.log" >&2; fail "build"; }
cmake --install "$build" --component sdk --prefix "$prefix" >"$work/install.log" || {
  cat "$work/install.log" >&2
  fail "cmake --install --component sdk"
}
for f in include/roentgen/xray.h include/roentgen/xray_trace_header.h lib/libroentgen-xray.a \
  lib/cmake/roentgen/roentgenConfig.cmake lib/cmake/roentgen/roentgenConfigVersion.cmake \
  lib/cmake/roentgen/roentgenTargets.cmake; do
  [[ -f "$prefix/$f" ]] || fail "$f is not installed"
done
[[ ! -e "$prefix/bin/roentgen" ]] || fail "the sdk component installed the server"
# The public headers include only each other and the standard library.
if grep -hE '^#include "' "$prefix"/include/roentgen/*.h | grep -vE '"roentgen/xray[a-z_]*\.h"'; then
  fail "a public header includes something outside include/roentgen"
fi

mkdir -p "$work/consumer"
cat >"$work/consumer/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.20)
project(consumer CXX)
find_package(roentgen 0.1 REQUIRED)
add_executable(consumer main.cpp)
target_link_libraries(consumer PRIVATE roentgen::xray)
CMAKE
cat >"$work/consumer/main.cpp" <<'CPP'
#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include <roentgen/xray.h>

int main() {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);

  roentgen::sdk::RecorderOptions options;
  options.service_name = "consumer";
  options.daemon_address = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  options.sampling = false;
  roentgen::sdk::Recorder recorder(options);
  std::string trace_id;
  {
    auto seg = recorder.BeginSegment();
    trace_id = seg.trace_id().ToString();
    auto sub = seg.BeginSubsegment("work");
    sub.AddAnnotation("ok", true);
  }
  recorder.Flush();
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 2000) != 1) return std::puts("no datagram"), 1;
  char buf[65536];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  std::string datagram(buf, n > 0 ? static_cast<size_t>(n) : 0);
  if (datagram.find(trace_id) == std::string::npos) return std::puts(datagram.c_str()), 1;
  std::printf("consumer: sent %s\n", trace_id.c_str());
  return 0;
}
CPP
cmake -S "$work/consumer" -B "$work/consumer/build" -DCMAKE_PREFIX_PATH="$prefix" >"$work/consumer.log" 2>&1 || {
  cat "$work/consumer.log" >&2
  fail "the consumer does not configure with find_package(roentgen)"
}
cmake --build "$work/consumer/build" >>"$work/consumer.log" 2>&1 || { cat "$work/consumer.log" >&2; fail "the consumer does not build"; }
"$work/consumer/build/consumer" || fail "the consumer did not send its segment"
echo "sdk install: ok ($prefix)"
