#include "common/network_allowlist.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

namespace roentgen {
namespace {

NetworkAllowlist Allow(std::string_view list) {
  Result<NetworkAllowlist> parsed = NetworkAllowlist::Parse(list);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? parsed.value() : NetworkAllowlist();
}

TEST(NetworkAllowlistTest, MatchesIpv4Blocks) {
  const NetworkAllowlist allow = Allow("10.1.0.0/16, 192.168.7.9 ,172.16.0.0/12");
  EXPECT_TRUE(allow.Contains("10.1.0.0"));
  EXPECT_TRUE(allow.Contains("10.1.255.255"));
  EXPECT_FALSE(allow.Contains("10.2.0.1"));
  EXPECT_TRUE(allow.Contains("192.168.7.9"));
  EXPECT_FALSE(allow.Contains("192.168.7.10"));
  EXPECT_TRUE(allow.Contains("172.31.255.1"));
  EXPECT_FALSE(allow.Contains("172.32.0.1"));
  EXPECT_FALSE(allow.Contains("::1"));
  EXPECT_FALSE(allow.Contains("not an address"));
  EXPECT_FALSE(allow.Contains(""));
  EXPECT_EQ(allow.ToString(), "10.1.0.0/16,192.168.7.9/32,172.16.0.0/12");
}

TEST(NetworkAllowlistTest, MatchesIpv6BlocksAndMappedIpv4) {
  const NetworkAllowlist allow = Allow("fd00::/8,::1,127.0.0.0/8");
  EXPECT_TRUE(allow.Contains("fd12:3456::1"));
  EXPECT_FALSE(allow.Contains("fe80::1"));
  EXPECT_TRUE(allow.Contains("::1"));
  EXPECT_FALSE(allow.Contains("::2"));
  // A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6 addresses.
  EXPECT_TRUE(allow.Contains("::ffff:127.0.0.1"));
  EXPECT_FALSE(allow.Contains("::ffff:10.0.0.1"));
  // A zone is not part of the address.
  EXPECT_TRUE(allow.Contains("fd00::1%eth0"));
}

TEST(NetworkAllowlistTest, MatchesSocketAddresses) {
  const NetworkAllowlist allow = NetworkAllowlist::Loopback();
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  inet_pton(AF_INET, "127.3.2.1", &v4.sin_addr);
  EXPECT_TRUE(allow.Contains(reinterpret_cast<const sockaddr*>(&v4)));
  inet_pton(AF_INET, "10.0.0.1", &v4.sin_addr);
  EXPECT_FALSE(allow.Contains(reinterpret_cast<const sockaddr*>(&v4)));
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::1", &v6.sin6_addr);
  EXPECT_TRUE(allow.Contains(reinterpret_cast<const sockaddr*>(&v6)));
  inet_pton(AF_INET6, "::ffff:127.0.0.1", &v6.sin6_addr);
  EXPECT_TRUE(allow.Contains(reinterpret_cast<const sockaddr*>(&v6)));
  inet_pton(AF_INET6, "2001:db8::1", &v6.sin6_addr);
  EXPECT_FALSE(allow.Contains(reinterpret_cast<const sockaddr*>(&v6)));
  EXPECT_FALSE(allow.Contains(static_cast<const sockaddr*>(nullptr)));
  EXPECT_EQ(allow.ToString(), "127.0.0.0/8,::1/128");
  EXPECT_FALSE(allow.AllowsAll());
}

TEST(NetworkAllowlistTest, PrefixLengthsOfEveryBitCount) {
  const NetworkAllowlist allow = Allow("10.0.0.0/9,0.0.0.0/0");
  EXPECT_TRUE(allow.Contains("8.8.8.8"));  // /0: every IPv4 address
  EXPECT_FALSE(allow.Contains("::1"));
  EXPECT_FALSE(allow.AllowsAll());
  EXPECT_TRUE(Allow("0.0.0.0/0,::/0").AllowsAll());
  const NetworkAllowlist nine = Allow("10.128.0.0/9");
  EXPECT_TRUE(nine.Contains("10.200.1.1"));
  EXPECT_FALSE(nine.Contains("10.127.1.1"));
}

TEST(NetworkAllowlistTest, BadListsAreRefusedWithTheItemNamed) {
  EXPECT_EQ(NetworkAllowlist::Parse("10.0.0.0/8,nope").status(),
            Status::InvalidArgument(
                "'nope' is not an IPv4 or IPv6 address or CIDR block (e.g. 10.0.0.0/8, fd00::/8)"));
  EXPECT_EQ(
      NetworkAllowlist::Parse("10.0.0.0/33").status(),
      Status::InvalidArgument("'10.0.0.0/33': the prefix length must be a number from 0 to 32"));
  EXPECT_EQ(NetworkAllowlist::Parse("::/x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NetworkAllowlist::Parse("10.1.2.3/8").status(),
            Status::InvalidArgument("'10.1.2.3/8' has host bits set below its prefix (did you "
                                    "mean 10.0.0.0/8?)"));
  EXPECT_EQ(NetworkAllowlist::Parse("fd00::1/8").status(),
            Status::InvalidArgument(
                "'fd00::1/8' has host bits set below its prefix (did you mean fd00::/8?)"));
  EXPECT_EQ(NetworkAllowlist::Parse(" , ").status(),
            Status::InvalidArgument("the list of networks is empty (e.g. 127.0.0.0/8,::1)"));
}

TEST(NetworkAllowlistTest, LoopbackHosts) {
  for (const char* host : {"127.0.0.1", "127.0.0.2", "::1", "localhost"}) {
    Result<bool> loopback = IsLoopbackHost(host);
    ASSERT_TRUE(loopback.ok()) << host;
    EXPECT_TRUE(*loopback) << host;
  }
  for (const char* host : {"0.0.0.0", "::", "10.0.0.1", "::ffff:10.0.0.1"}) {
    Result<bool> loopback = IsLoopbackHost(host);
    ASSERT_TRUE(loopback.ok()) << host;
    EXPECT_FALSE(*loopback) << host;
  }
}

}  // namespace
}  // namespace roentgen
