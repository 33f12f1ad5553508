#include "ingest/udp_receiver.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace roentgen::ingest {
namespace {

// Sends datagrams to 127.0.0.1:port.
class Sender {
 public:
  explicit Sender(uint16_t port) : fd_(socket(AF_INET, SOCK_DGRAM, 0)) {
    to_.sin_family = AF_INET;
    to_.sin_port = htons(port);
    to_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }
  ~Sender() { close(fd_); }
  void Send(const std::string& datagram) {
    ASSERT_EQ(sendto(fd_, datagram.data(), datagram.size(), 0,
                     reinterpret_cast<const sockaddr*>(&to_), sizeof(to_)),
              static_cast<ssize_t>(datagram.size()));
  }

 private:
  int fd_;
  sockaddr_in to_{};
};

// Collects delivered datagrams; Wait() blocks until `n` have arrived.
class Collector {
 public:
  DatagramCallback Callback() {
    return [this](std::string_view d) {
      std::lock_guard lock(mu_);
      got_.emplace_back(d);
      cv_.notify_all();
    };
  }
  std::vector<std::string> Wait(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return got_.size() >= n; });
    return got_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> got_;
};

// Sends one datagram from a socket bound to `from` (an IPv4 or IPv6 loopback
// address) to `to`:port.
void SendFrom(const char* from, const char* to, uint16_t port, const std::string& datagram) {
  const bool v6 = std::string_view(from).find(':') != std::string_view::npos;
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_storage source{};
  sockaddr_storage target{};
  socklen_t length = 0;
  if (v6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&source);
    auto* t6 = reinterpret_cast<sockaddr_in6*>(&target);
    s6->sin6_family = t6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, from, &s6->sin6_addr);
    inet_pton(AF_INET6, to, &t6->sin6_addr);
    t6->sin6_port = htons(port);
    length = sizeof(sockaddr_in6);
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&source);
    auto* t4 = reinterpret_cast<sockaddr_in*>(&target);
    s4->sin_family = t4->sin_family = AF_INET;
    inet_pton(AF_INET, from, &s4->sin_addr);
    inet_pton(AF_INET, to, &t4->sin_addr);
    t4->sin_port = htons(port);
    length = sizeof(sockaddr_in);
  }
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&source), length), 0) << from;
  EXPECT_EQ(
      sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&target), length),
      static_cast<ssize_t>(datagram.size()));
  close(fd);
}

UdpReceiverConfig LoopbackConfig() {
  UdpReceiverConfig config;
  config.host = "127.0.0.1";
  config.port = 0;
  return config;
}

TEST(UdpReceiverTest, DeliversEveryDatagramInOrder) {
  MetricsRegistry metrics;
  Collector collector;
  UdpReceiverConfig config = LoopbackConfig();
  config.batch_size = 8;  // several recvmmsg batches
  UdpReceiver receiver(config, collector.Callback(), metrics);
  ASSERT_TRUE(receiver.Start().ok());
  ASSERT_NE(receiver.port(), 0);
  Sender sender(receiver.port());
  std::vector<std::string> sent;
  uint64_t bytes = 0;
  for (int i = 0; i < 100; ++i) {
    sent.push_back("{\"format\":\"json\",\"version\":1}\n{\"id\":\"" + std::to_string(i) + "\"}");
    bytes += sent.back().size();
    sender.Send(sent.back());
  }
  sender.Send("");  // an empty datagram is delivered too (ingest reports it)
  sent.push_back("");
  EXPECT_EQ(collector.Wait(sent.size()), sent);
  receiver.Stop();
  EXPECT_EQ(metrics.GetCounter("roentgen_udp_datagrams_received_total", "").Value(), 101u);
  EXPECT_EQ(metrics.GetCounter("roentgen_udp_bytes_received_total", "").Value(), bytes);
}

TEST(UdpReceiverTest, BusyStreamPausesBetweenFullBatchesAndLosesNothing) {
  MetricsRegistry metrics;
  Collector collector;
  UdpReceiverConfig config = LoopbackConfig();
  config.batch_size = 4;
  config.busy_pause = std::chrono::milliseconds(10);  // the longest allowed
  UdpReceiver receiver(config, collector.Callback(), metrics);
  ASSERT_TRUE(receiver.Start().ok());
  Sender sender(receiver.port());
  std::vector<std::string> sent;
  for (int round = 0; round < 5; ++round) {  // full batches: each wake-up ends in a pause
    for (int i = 0; i < 40; ++i) {
      sent.push_back(fmt::format("datagram {}-{}", round, i));
      sender.Send(sent.back());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  EXPECT_EQ(collector.Wait(sent.size()), sent);
  receiver.Stop();  // also from within a pause
  EXPECT_EQ(metrics.GetCounter("roentgen_udp_datagrams_received_total", "").Value(), sent.size());
}

TEST(UdpReceiverTest, BusyPauseIsShortenedToWhatTheBufferHolds) {
  using std::chrono::microseconds;
  using std::chrono::milliseconds;
  const microseconds configured(500);
  // 200k datagrams/s of 1,380 bytes: 276 MB/s.
  const uint64_t one_ms = 276'000;
  // A 16 MB buffer (reported as 32 MB) holds far more than 500 µs of it.
  EXPECT_EQ(BusyPause(configured, 32 << 20, one_ms, milliseconds(1)), configured);
  // Linux's default 208 KB limit (reported as 416 KB): an eighth holds ~47 µs.
  EXPECT_EQ(BusyPause(configured, 416 << 10, one_ms, milliseconds(1)), microseconds(0));
  // The same buffer at 25k datagrams/s: 13,312 payload bytes take ~386 µs.
  EXPECT_EQ(BusyPause(configured, 416 << 10, one_ms / 8, milliseconds(1)), microseconds(385));
  EXPECT_EQ(BusyPause(microseconds(0), 32 << 20, one_ms, milliseconds(1)), microseconds(0));
  EXPECT_EQ(BusyPause(configured, 32 << 20, 0, milliseconds(1)), configured);
}

TEST(UdpReceiverTest, OversizeDatagramIsDroppedAndCounted) {
  MetricsRegistry metrics;
  Collector collector;
  UdpReceiverConfig config = LoopbackConfig();
  config.max_datagram_bytes = 1024;
  UdpReceiver receiver(config, collector.Callback(), metrics);
  ASSERT_TRUE(receiver.Start().ok());
  Sender sender(receiver.port());
  sender.Send(std::string(1025, 'x'));
  sender.Send(std::string(1024, 'y'));  // exactly the limit is fine
  std::vector<std::string> got = collector.Wait(1);
  receiver.Stop();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], std::string(1024, 'y'));
  EXPECT_EQ(
      metrics.GetCounter("roentgen_udp_datagrams_dropped_total", "", {{"reason", "too_large"}})
          .Value(),
      1u);
  EXPECT_EQ(metrics.GetCounter("roentgen_udp_datagrams_received_total", "").Value(), 1u);
}

TEST(UdpReceiverTest, MaxSizeDatagramOf64KiBIsDelivered) {
  MetricsRegistry metrics;
  Collector collector;
  UdpReceiver receiver(LoopbackConfig(), collector.Callback(), metrics);
  ASSERT_TRUE(receiver.Start().ok());
  Sender sender(receiver.port());
  std::string big(65507, 'z');  // the largest IPv4 UDP payload
  sender.Send(big);
  std::vector<std::string> got = collector.Wait(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], big);
}

TEST(UdpReceiverTest, KernelDropsAreCounted) {
  MetricsRegistry metrics;
  Counter& drops = metrics.GetCounter("roentgen_udp_datagrams_dropped_total", "",
                                      {{"reason", "kernel_buffer_full"}});
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  size_t delivered = 0;
  // Taken when the first marker arrives: it carries the kernel's cumulative
  // drop count for everything queued before it.
  int marker = -1;
  size_t delivered_at_marker = 0;
  uint64_t drops_at_marker = 0;
  UdpReceiverConfig config = LoopbackConfig();
  config.receive_buffer_bytes = 1;  // the kernel's minimum: a few datagrams
  UdpReceiver receiver(
      config,
      [&](std::string_view d) {
        std::unique_lock lock(mu);
        ++delivered;
        if (marker < 0 && d.starts_with("marker-")) {
          marker = std::stoi(std::string(d.substr(7)));
          delivered_at_marker = delivered;
          drops_at_marker = drops.Value();
        }
        cv.notify_all();
        cv.wait(lock, [&] { return release; });  // a stalled consumer
      },
      metrics);
  ASSERT_TRUE(receiver.Start().ok());
  Sender sender(receiver.port());
  constexpr size_t kSent = 500;
  for (size_t i = 0; i < kSent; ++i) sender.Send(std::string(100, 'd'));
  {
    std::lock_guard lock(mu);
    release = true;
    cv.notify_all();
  }
  // Markers until one gets through (the first may find the buffer still full).
  for (int i = 0; i < 50; ++i) {
    sender.Send("marker-" + std::to_string(i));
    std::unique_lock lock(mu);
    if (cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return marker >= 0; })) break;
  }
  receiver.Stop();
  ASSERT_GE(marker, 0);
  EXPECT_GT(drops_at_marker, 0u);
  EXPECT_EQ(delivered_at_marker + drops_at_marker, kSent + static_cast<size_t>(marker) + 1);
  EXPECT_GT(receiver.receive_buffer_bytes(), 0);
}

// The end of a burst: every datagram after the buffer filled is dropped and
// none follows to carry the count (SO_RXQ_OVFL): the drops are counted once
// the receiver has drained the socket (SO_MEMINFO). Every datagram sent is
// either delivered or counted, and the count matches the kernel's own
// (/proc/net/udp's drops column, what `ss -u -m` shows as d).
TEST(UdpReceiverTest, DropsAtTheEndOfABurstAreCountedWithoutALaterDatagram) {
  MetricsRegistry metrics;
  Counter& drops = metrics.GetCounter("roentgen_udp_datagrams_dropped_total", "",
                                      {{"reason", "kernel_buffer_full"}});
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  size_t delivered = 0;
  UdpReceiverConfig config = LoopbackConfig();
  config.receive_buffer_bytes = 1;  // the kernel's minimum: a few datagrams
  UdpReceiver receiver(
      config,
      [&](std::string_view) {
        std::unique_lock lock(mu);
        ++delivered;
        cv.notify_all();
        cv.wait(lock, [&] { return release; });  // a stalled consumer
      },
      metrics);
  ASSERT_TRUE(receiver.Start().ok());
  Sender sender(receiver.port());
  constexpr size_t kSent = 300;
  for (size_t i = 0; i < kSent; ++i) sender.Send(std::string(200, 'd'));
  {
    std::lock_guard lock(mu);
    release = true;
    cv.notify_all();
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(mu);
      if (delivered + drops.Value() >= kSent) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::lock_guard lock(mu);
  EXPECT_GT(drops.Value(), 0u);
  EXPECT_EQ(delivered + drops.Value(), kSent) << delivered << " delivered";
  // The kernel's figure for this socket: the last column of /proc/net/udp.
  std::ifstream udp("/proc/net/udp");
  const std::string port_hex = fmt::format(":{:04X} ", receiver.port());
  std::string line;
  bool found = false;
  while (std::getline(udp, line)) {
    if (line.find("0100007F" + port_hex) == std::string::npos) continue;
    std::istringstream fields(line);
    std::string field, last;
    while (fields >> field) last = field;
    EXPECT_EQ(std::stoull(last), drops.Value()) << line;
    found = true;
  }
  EXPECT_TRUE(found) << "no 127.0.0.1" << port_hex << "in /proc/net/udp";
}

TEST(UdpReceiverTest, NewKernelDropsFollowTheWrappingCounter) {
  EXPECT_EQ(NewKernelDrops(0, 0), 0u);
  EXPECT_EQ(NewKernelDrops(0, 5), 5u);
  EXPECT_EQ(NewKernelDrops(5, 3), 0u);  // an older count, carried by an earlier datagram
  EXPECT_EQ(NewKernelDrops(0xfffffffe, 3), 5u);
  EXPECT_EQ(NewKernelDrops(3, 0xfffffffe), 0u);
}

TEST(UdpReceiverTest, BusyPortIsAnIOErrorAndStopIsIdempotent) {
  MetricsRegistry metrics;
  UdpReceiver first(
      LoopbackConfig(), [](std::string_view) {}, metrics);
  ASSERT_TRUE(first.Start().ok());
  UdpReceiverConfig config = LoopbackConfig();
  config.port = first.port();
  UdpReceiver second(
      config, [](std::string_view) {}, metrics);
  Status s = second.Start();
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_EQ(s.message(), "udp: cannot bind 127.0.0.1:" + std::to_string(first.port()) +
                             ": Address already in use");
  first.Stop();
  first.Stop();
}

TEST(UdpReceiverTest, DatagramsFromOutsideTheAllowedNetworksAreDroppedAndCounted) {
  MetricsRegistry metrics;
  Collector collector;
  UdpReceiverConfig config = LoopbackConfig();
  config.allow = NetworkAllowlist::Parse("127.0.0.2/32").value();
  UdpReceiver receiver(config, collector.Callback(), metrics);
  ASSERT_TRUE(receiver.Start().ok());
  // Sent in this order over loopback, they arrive in this order.
  SendFrom("127.0.0.1", "127.0.0.1", receiver.port(), "from-127.0.0.1");
  SendFrom("127.0.0.3", "127.0.0.1", receiver.port(), "from-127.0.0.3");
  SendFrom("127.0.0.2", "127.0.0.1", receiver.port(), "from-127.0.0.2");
  EXPECT_EQ(collector.Wait(1), std::vector<std::string>{"from-127.0.0.2"});
  receiver.Stop();
  EXPECT_EQ(
      metrics.GetCounter("roentgen_udp_datagrams_dropped_total", "", {{"reason", "not_allowed"}})
          .Value(),
      2u);
  EXPECT_EQ(metrics.GetCounter("roentgen_udp_datagrams_received_total", "").Value(), 1u);
}

TEST(UdpReceiverTest, Ipv6SendersAreCheckedToo) {
  for (const char* allow : {"127.0.0.0/8", "127.0.0.0/8,::1"}) {
    SCOPED_TRACE(allow);
    MetricsRegistry metrics;
    Collector collector;
    UdpReceiverConfig config = LoopbackConfig();
    config.host = "::1";
    config.allow = NetworkAllowlist::Parse(allow).value();
    UdpReceiver receiver(config, collector.Callback(), metrics);
    ASSERT_TRUE(receiver.Start().ok());
    SendFrom("::1", "::1", receiver.port(), "v6");
    // Refused, it shows up in the counter only.
    const bool v6_allowed = std::string_view(allow).find("::1") != std::string_view::npos;
    if (!v6_allowed) {
      for (int i = 0; i < 200; ++i) {
        if (metrics
                .GetCounter("roentgen_udp_datagrams_dropped_total", "", {{"reason", "not_allowed"}})
                .Value() == 1) {
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    const std::vector<std::string> got = collector.Wait(v6_allowed ? 1 : 0);
    receiver.Stop();
    EXPECT_EQ(got, v6_allowed ? std::vector<std::string>{"v6"} : std::vector<std::string>{});
    EXPECT_EQ(
        metrics.GetCounter("roentgen_udp_datagrams_dropped_total", "", {{"reason", "not_allowed"}})
            .Value(),
        v6_allowed ? 0u : 1u);
  }
}

TEST(UdpReceiverTest, ConfigValidation) {
  UdpReceiverConfig config;
  EXPECT_TRUE(config.Validate().ok());
  config.batch_size = 0;
  EXPECT_EQ(config.Validate(),
            Status::InvalidArgument("udp: batch_size must be in [1, 1024], got 0"));
  config = {};
  config.busy_pause = std::chrono::milliseconds(11);
  EXPECT_EQ(config.Validate(),
            Status::InvalidArgument("udp: busy_pause must be between 0 and 10 ms"));
  config = {};
  config.max_datagram_bytes = 0;
  EXPECT_EQ(config.Validate().code(), StatusCode::kInvalidArgument);
  config = {};
  config.allow = NetworkAllowlist();
  EXPECT_EQ(config.Validate(),
            Status::InvalidArgument("udp: no network is allowed to send (allow is empty)"));
  config = {};
  config.host = "no.such.host.invalid";
  config.port = 0;
  MetricsRegistry metrics;
  UdpReceiver receiver(
      config, [](std::string_view) {}, metrics);
  EXPECT_EQ(receiver.Start().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace roentgen::ingest
