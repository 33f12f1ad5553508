// CPU of the UDP receiver's sender check (--udp-allow, common/network_allowlist.h):
// NetworkAllowlist::Contains on the sender's address of each datagram, with
// the default list (127.0.0.0/8 and ::1) and a list of eight blocks, for an
// allowed IPv4 sender, a refused one (every block compared) and an IPv6 one.
// Figures in docs/benchmarks.md ("UDP sender allowlist").
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>

#include <string>

#include "common/network_allowlist.h"

namespace roentgen {
namespace {

sockaddr_storage Address(const char* text) {
  sockaddr_storage out{};
  if (inet_pton(AF_INET, text, &reinterpret_cast<sockaddr_in*>(&out)->sin_addr) == 1) {
    out.ss_family = AF_INET;
  } else {
    out.ss_family = AF_INET6;
    inet_pton(AF_INET6, text, &reinterpret_cast<sockaddr_in6*>(&out)->sin6_addr);
  }
  return out;
}

void BM_Contains(benchmark::State& state, const char* list, const char* sender) {
  const NetworkAllowlist allow = NetworkAllowlist::Parse(list).value();
  const sockaddr_storage address = Address(sender);
  for (auto _ : state) {
    benchmark::DoNotOptimize(allow.Contains(reinterpret_cast<const sockaddr*>(&address)));
  }
}

constexpr const char* kDefault = "127.0.0.0/8,::1";
constexpr const char* kEight =
    "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,127.0.0.0/8,fd00::/8,fe80::/10,::1";

BENCHMARK_CAPTURE(BM_Contains, default_allowed_v4, kDefault, "127.0.0.1");
BENCHMARK_CAPTURE(BM_Contains, default_allowed_v6, kDefault, "::1");
BENCHMARK_CAPTURE(BM_Contains, default_refused_v4, kDefault, "192.0.2.1");
BENCHMARK_CAPTURE(BM_Contains, eight_blocks_refused_v4, kEight, "192.0.2.1");
BENCHMARK_CAPTURE(BM_Contains, eight_blocks_allowed_v6, kEight, "::1");

}  // namespace
}  // namespace roentgen

BENCHMARK_MAIN();
