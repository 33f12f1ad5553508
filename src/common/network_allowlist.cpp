#include "common/network_allowlist.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>
#include <memory>

namespace roentgen {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Parses an IPv4 or IPv6 address (an IPv6 zone "%eth0" is ignored) into
// `bytes`; false when it is neither.
bool ParseAddress(std::string_view text, bool& v6, std::array<uint8_t, 16>& bytes) {
  text = text.substr(0, text.find('%'));
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
  char buffer[INET6_ADDRSTRLEN];
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  bytes = {};
  if (inet_pton(AF_INET, buffer, bytes.data()) == 1) {
    v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, buffer, bytes.data()) == 1) {
    v6 = true;
    return true;
  }
  return false;
}

// Whether the first `prefix` bits of `a` and `b` are equal.
bool PrefixEqual(const uint8_t* a, const uint8_t* b, int prefix) {
  const int whole = prefix / 8;
  if (std::memcmp(a, b, static_cast<size_t>(whole)) != 0) return false;
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

bool IsV4Mapped(const uint8_t* b) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(b, kPrefix, 12) == 0;
}

}  // namespace

Result<NetworkAllowlist> NetworkAllowlist::Parse(std::string_view list) {
  NetworkAllowlist out;
  while (true) {
    const size_t comma = list.find(',');
    const std::string_view item = Trim(list.substr(0, comma));
    if (!item.empty()) {
      Block block;
      const size_t slash = item.find('/');
      const std::string_view address = item.substr(0, slash);
      if (!ParseAddress(address, block.v6, block.bytes)) {
        return Status::InvalidArgument(fmt::format(
            "'{}' is not an IPv4 or IPv6 address or CIDR block (e.g. 10.0.0.0/8, fd00::/8)", item));
      }
      const int max_prefix = block.v6 ? 128 : 32;
      block.prefix = max_prefix;
      if (slash != std::string_view::npos) {
        const std::string_view length = item.substr(slash + 1);
        int prefix = -1;
        auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), prefix);
        if (ec != std::errc() || end != length.data() + length.size() || prefix < 0 ||
            prefix > max_prefix) {
          return Status::InvalidArgument(fmt::format(
              "'{}': the prefix length must be a number from 0 to {}", item, max_prefix));
        }
        block.prefix = prefix;
      }
      std::array<uint8_t, 16> network{};
      std::memcpy(network.data(), block.bytes.data(), static_cast<size_t>(block.prefix / 8));
      if (block.prefix % 8 != 0) {
        network[block.prefix / 8] =
            block.bytes[block.prefix / 8] & static_cast<uint8_t>(0xff << (8 - block.prefix % 8));
      }
      if (network != block.bytes) {
        Block shown = block;
        shown.bytes = network;
        char text[INET6_ADDRSTRLEN] = {};
        inet_ntop(block.v6 ? AF_INET6 : AF_INET, shown.bytes.data(), text, sizeof(text));
        return Status::InvalidArgument(
            fmt::format("'{}' has host bits set below its prefix (did you mean {}/{}?)", item, text,
                        block.prefix));
      }
      out.blocks_.push_back(block);
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (out.blocks_.empty()) {
    return Status::InvalidArgument("the list of networks is empty (e.g. 127.0.0.0/8,::1)");
  }
  return out;
}

NetworkAllowlist NetworkAllowlist::Loopback() { return Parse("127.0.0.0/8,::1").value(); }

bool NetworkAllowlist::Matches(bool v6, const uint8_t* bytes) const {
  if (v6 && IsV4Mapped(bytes)) {
    v6 = false;
    bytes += 12;
  }
  for (const Block& block : blocks_) {
    if (block.v6 == v6 && PrefixEqual(block.bytes.data(), bytes, block.prefix)) return true;
  }
  return false;
}

bool NetworkAllowlist::Contains(const sockaddr* address) const {
  if (address == nullptr) return false;
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    return Matches(false, reinterpret_cast<const uint8_t*>(&in->sin_addr));
  }
  if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    return Matches(true, in6->sin6_addr.s6_addr);
  }
  return false;
}

bool NetworkAllowlist::Contains(std::string_view address) const {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
  if (!ParseAddress(address, v6, bytes)) return false;
  return Matches(v6, bytes.data());
}

bool NetworkAllowlist::AllowsAll() const {
  bool v4_all = false;
  bool v6_all = false;
  for (const Block& block : blocks_) {
    if (block.prefix == 0) (block.v6 ? v6_all : v4_all) = true;
  }
  return v4_all && v6_all;
}

std::string NetworkAllowlist::ToString() const {
  std::string out;
  for (const Block& block : blocks_) {
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(block.v6 ? AF_INET6 : AF_INET, block.bytes.data(), text, sizeof(text));
    if (!out.empty()) out += ',';
    out += fmt::format("{}/{}", text, block.prefix);
  }
  return out;
}

Result<bool> IsLoopbackHost(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0 || found == nullptr) {
    return Status::InvalidArgument(
        fmt::format("cannot resolve host '{}': {}", host, gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, &freeaddrinfo);
  const NetworkAllowlist loopback = NetworkAllowlist::Loopback();
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (!loopback.Contains(a->ai_addr)) return false;
  }
  return true;
}

}  // namespace roentgen
