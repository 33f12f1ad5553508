#include "ingest/udp_receiver.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <linux/sock_diag.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "common/thread_name.h"

namespace roentgen::ingest {
namespace {

// Ancillary data of one datagram: room for the SO_RXQ_OVFL drop counter.
struct alignas(cmsghdr) Control {
  char bytes[CMSG_SPACE(sizeof(uint32_t))];
};

std::string Errno(int err) { return std::strerror(err); }

// The socket's cumulative drop counter (sk_drops, what SO_RXQ_OVFL reports),
// or nullopt when the kernel does not say.
std::optional<uint32_t> SocketDrops(int fd) {
  uint32_t meminfo[SK_MEMINFO_VARS] = {};
  socklen_t len = sizeof(meminfo);
  if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, meminfo, &len) != 0 ||
      len < (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t)) {
    return std::nullopt;
  }
  return meminfo[SK_MEMINFO_DROPS];
}

std::string AddressText(const sockaddr* from) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (from->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(from)->sin_addr, text, sizeof(text));
  } else if (from->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(from)->sin6_addr, text,
              sizeof(text));
  }
  return text;
}

}  // namespace

std::chrono::microseconds BusyPause(std::chrono::microseconds configured, int buffer_bytes,
                                    uint64_t drained_bytes, std::chrono::nanoseconds elapsed) {
  if (configured.count() <= 0 || buffer_bytes <= 0) return std::chrono::microseconds(0);
  if (drained_bytes == 0 || elapsed.count() <= 0) return configured;
  // Payload bytes an eighth of the buffer holds: the kernel reports twice
  // the requested size, and charges ~2x the payload of a small datagram.
  const double room = static_cast<double>(buffer_bytes) / 2 / 2 / 8;
  const double bytes_per_us =
      static_cast<double>(drained_bytes) / (static_cast<double>(elapsed.count()) / 1000.0);
  const double fits_us = room / bytes_per_us;
  if (fits_us < 50) return std::chrono::microseconds(0);
  if (fits_us >= static_cast<double>(configured.count())) return configured;
  return std::chrono::microseconds(static_cast<int64_t>(fits_us));
}

uint32_t NewKernelDrops(uint32_t last, uint32_t cumulative) {
  const uint32_t ahead = cumulative - last;  // modulo 2^32, as the kernel's counter wraps
  return ahead < (uint32_t{1} << 31) ? ahead : 0;
}

Status UdpReceiverConfig::Validate() const {
  if (host.empty()) return Status::InvalidArgument("udp: host is empty");
  if (max_datagram_bytes == 0 || max_datagram_bytes > (1 << 20)) {
    return Status::InvalidArgument(
        fmt::format("udp: max_datagram_bytes must be in [1, 1 MiB], got {}", max_datagram_bytes));
  }
  if (batch_size == 0 || batch_size > 1024) {
    return Status::InvalidArgument(
        fmt::format("udp: batch_size must be in [1, 1024], got {}", batch_size));
  }
  if (receive_buffer_bytes <= 0) {
    return Status::InvalidArgument("udp: receive_buffer_bytes must be > 0");
  }
  if (busy_pause.count() < 0 || busy_pause > std::chrono::milliseconds(10)) {
    return Status::InvalidArgument("udp: busy_pause must be between 0 and 10 ms");
  }
  if (allow.empty()) {
    return Status::InvalidArgument("udp: no network is allowed to send (allow is empty)");
  }
  return Status::Ok();
}

UdpReceiver::UdpReceiver(UdpReceiverConfig config, DatagramCallback callback,
                         MetricsRegistry& metrics)
    : config_(std::move(config)),
      callback_(std::move(callback)),
      received_(metrics.GetCounter("roentgen_udp_datagrams_received_total",
                                   "UDP datagrams handed to ingest.")),
      bytes_(metrics.GetCounter("roentgen_udp_bytes_received_total",
                                "Bytes of the UDP datagrams handed to ingest.")),
      too_large_(metrics.GetCounter("roentgen_udp_datagrams_dropped_total",
                                    "UDP datagrams dropped before ingest, by reason.",
                                    {{"reason", "too_large"}})),
      kernel_drops_(metrics.GetCounter("roentgen_udp_datagrams_dropped_total",
                                       "UDP datagrams dropped before ingest, by reason.",
                                       {{"reason", "kernel_buffer_full"}})),
      not_allowed_(metrics.GetCounter("roentgen_udp_datagrams_dropped_total",
                                      "UDP datagrams dropped before ingest, by reason.",
                                      {{"reason", "not_allowed"}})),
      buffer_gauge_(metrics.GetGauge("roentgen_udp_receive_buffer_bytes",
                                     "The UDP socket's receive buffer as granted by the kernel.")) {
}

UdpReceiver::~UdpReceiver() { Stop(); }

Status UdpReceiver::Start() {
  if (fd_ >= 0) return Status::Internal("udp: Start() called twice");
  RG_RETURN_IF_ERROR(config_.Validate());

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(config_.host.c_str(), std::to_string(config_.port).c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    return Status::InvalidArgument(
        fmt::format("udp: cannot resolve host '{}': {}", config_.host, gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, &freeaddrinfo);

  fd_ = socket(found->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) return Status::IOError("udp: socket: " + Errno(errno));
  auto fail = [this](std::string message) {
    close(fd_);
    fd_ = -1;
    return Status::IOError(std::move(message));
  };

  // SO_RCVBUFFORCE exceeds net.core.rmem_max when permitted (CAP_NET_ADMIN);
  // otherwise SO_RCVBUF gets what the limit allows.
  int wanted = config_.receive_buffer_bytes;
  if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &wanted, sizeof(wanted)) != 0) {
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &wanted, sizeof(wanted));
  }
  socklen_t len = sizeof(receive_buffer_bytes_);
  getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes_, &len);
  buffer_gauge_.Set(receive_buffer_bytes_);
  if (receive_buffer_bytes_ / 2 < wanted) {
    spdlog::warn(
        "udp: receive buffer is {} bytes, {} asked for; raise net.core.rmem_max to absorb bursts",
        receive_buffer_bytes_, wanted);
  }
  int one = 1;
  if (setsockopt(fd_, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) != 0) {
    const int err = errno;
    if (!SocketDrops(fd_).has_value()) {
      spdlog::warn(
          "udp: neither SO_RXQ_OVFL ({}) nor SO_MEMINFO is available; datagrams the "
          "kernel drops at a full buffer will not be counted",
          Errno(err));
    }
  }

  if (bind(fd_, found->ai_addr, found->ai_addrlen) != 0) {
    return fail(
        fmt::format("udp: cannot bind {}:{}: {}", config_.host, config_.port, Errno(errno)));
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);

  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) return fail("udp: eventfd: " + Errno(errno));
  stopping_.store(false);
  thread_ = std::thread([this] {
    SetCurrentThreadName("rg-udp");
    Run();
  });
  return Status::Ok();
}

void UdpReceiver::Stop() {
  if (thread_.joinable()) {
    stopping_.store(true);
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
    thread_.join();
  }
  if (wake_fd_ >= 0) close(wake_fd_);
  if (fd_ >= 0) close(fd_);
  wake_fd_ = -1;
  fd_ = -1;
}

void UdpReceiver::DropNotAllowed(const sockaddr* from) {
  not_allowed_.Inc();
  ++not_allowed_since_log_;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_not_allowed_log_) return;
  spdlog::warn(
      "udp: dropped {} datagram(s) from senders outside --udp-allow {} (the latest from {})",
      not_allowed_since_log_, config_.allow.ToString(), AddressText(from));
  not_allowed_since_log_ = 0;
  next_not_allowed_log_ = now + std::chrono::seconds(10);
}

void UdpReceiver::Run() {
  const size_t batch = config_.batch_size;
  const size_t size = config_.max_datagram_bytes;
  const bool check_sender = !config_.allow.AllowsAll();
  std::vector<char> storage(batch * size);
  std::vector<iovec> iovecs(batch);
  std::vector<Control> controls(batch);
  std::vector<sockaddr_storage> senders(batch);
  std::vector<mmsghdr> messages(batch);
  for (size_t i = 0; i < batch; ++i) {
    iovecs[i] = {storage.data() + i * size, size};
  }
  uint32_t counted_drops = 0;  // the kernel's cumulative count, as far as counted
  auto note_drops = [&](uint32_t cumulative) {
    if (const uint32_t n = NewKernelDrops(counted_drops, cumulative); n != 0) {
      kernel_drops_.Inc(n);
      counted_drops = cumulative;
    }
  };
  auto last_drain_end = std::chrono::steady_clock::now();

  while (!stopping_.load(std::memory_order_relaxed)) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("udp: poll failed: {}; receiver stops", Errno(errno));
      return;
    }
    if (fds[1].revents != 0) return;

    // Drain the socket batch by batch until it is empty.
    size_t drained = 0;
    uint64_t drained_bytes = 0;
    while (!stopping_.load(std::memory_order_relaxed)) {
      for (size_t i = 0; i < batch; ++i) {
        msghdr& h = messages[i].msg_hdr;
        h = {};
        h.msg_iov = &iovecs[i];
        h.msg_iovlen = 1;
        h.msg_control = controls[i].bytes;
        h.msg_controllen = sizeof(controls[i].bytes);
        h.msg_name = &senders[i];
        h.msg_namelen = sizeof(senders[i]);
        messages[i].msg_len = 0;
      }
      int n = recvmmsg(fd_, messages.data(), static_cast<unsigned>(batch), MSG_DONTWAIT, nullptr);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          spdlog::warn("udp: recvmmsg failed: {}", Errno(errno));
        }
        break;
      }
      uint64_t delivered = 0;
      uint64_t delivered_bytes = 0;
      for (int i = 0; i < n; ++i) {
        msghdr& h = messages[i].msg_hdr;
        for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
          if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
            uint32_t overflow = 0;
            std::memcpy(&overflow, CMSG_DATA(c), sizeof(overflow));
            note_drops(overflow);  // as of this datagram's arrival
          }
        }
        if (check_sender &&
            !config_.allow.Contains(reinterpret_cast<const sockaddr*>(&senders[i]))) {
          DropNotAllowed(reinterpret_cast<const sockaddr*>(&senders[i]));
          continue;
        }
        if ((h.msg_flags & MSG_TRUNC) != 0) {
          too_large_.Inc();
          continue;
        }
        ++delivered;
        delivered_bytes += messages[i].msg_len;
        callback_(
            std::string_view(static_cast<const char*>(iovecs[i].iov_base), messages[i].msg_len));
      }
      received_.Inc(delivered);
      bytes_.Inc(delivered_bytes);
      drained += static_cast<size_t>(n);
      drained_bytes += delivered_bytes;
      if (static_cast<size_t>(n) < batch) break;
    }
    // The socket is empty: drops since the last datagram read (the end of a
    // burst) are counted now, not when the next datagram comes.
    if (std::optional<uint32_t> drops = SocketDrops(fd_)) note_drops(*drops);
    const auto now = std::chrono::steady_clock::now();
    const std::chrono::microseconds pause =
        drained >= batch ? BusyPause(config_.busy_pause, receive_buffer_bytes_, drained_bytes,
                                     now - last_drain_end)
                         : std::chrono::microseconds(0);
    last_drain_end = now;
    if (pause.count() > 0) {
      // Only Stop() ends the pause early.
      const timespec wait{static_cast<time_t>(pause.count() / 1000000),
                          static_cast<long>(pause.count() % 1000000) * 1000};
      pollfd wake = {wake_fd_, POLLIN, 0};
      if (ppoll(&wake, 1, &wait, nullptr) > 0) return;
    }
  }
}

}  // namespace roentgen::ingest
