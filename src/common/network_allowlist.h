// NetworkAllowlist: the networks a peer may come from, as CIDR blocks
// ("127.0.0.0/8", "::1", "10.1.0.0/16", "fd00::/8"; a bare address is one
// host), IPv4 and IPv6. An IPv4-mapped IPv6 peer (::ffff:10.1.2.3, what a
// dual-stack socket reports for an IPv4 sender) matches the IPv4 blocks.
//
// Used by the UDP intake (--udp-allow: datagrams from elsewhere are dropped)
// and by the authorizer (routes that the X-Ray SDKs call unsigned at the
// daemon address are open to these networks only).
//
// Also here: whether a listen host is loopback only (serve refuses to open
// the API beyond loopback without keys).
//
// A value type: immutable after Parse, thread-safe to read, cheap to copy.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace roentgen {

class NetworkAllowlist {
 public:
  // Nothing allowed.
  NetworkAllowlist() = default;

  // A comma-separated list of CIDR blocks or addresses; spaces around items
  // are ignored. Errors (InvalidArgument, naming the item): not an address,
  // a prefix length out of range, host bits set below the prefix
  // ("10.1.2.3/8": did you mean 10.0.0.0/8?), an empty list.
  static Result<NetworkAllowlist> Parse(std::string_view list);
  // 127.0.0.0/8 and ::1: this machine only (the default of --udp-allow).
  static NetworkAllowlist Loopback();

  // Whether a peer address (AF_INET or AF_INET6) is in one of the blocks.
  bool Contains(const sockaddr* address) const;
  // The same for an address in text ("127.0.0.1", "::1", "::ffff:10.0.0.1");
  // false for anything that is not an address.
  bool Contains(std::string_view address) const;
  // Whether every address is allowed (0.0.0.0/0 and ::/0 both listed).
  bool AllowsAll() const;
  bool empty() const { return blocks_.empty(); }

  // "127.0.0.0/8,::1/128": the blocks, normalized, for logs.
  std::string ToString() const;

 private:
  struct Block {
    bool v6 = false;
    std::array<uint8_t, 16> bytes{};  // IPv4: the first 4
    int prefix = 0;
  };
  bool Matches(bool v6, const uint8_t* bytes) const;
  std::vector<Block> blocks_;
};

// Whether `host` (an address or a name) resolves to loopback addresses only:
// "127.0.0.1", "::1", "localhost" are; "0.0.0.0", "::" and other addresses
// are not. Errors: InvalidArgument when it cannot be resolved.
Result<bool> IsLoopbackHost(const std::string& host);

}  // namespace roentgen
