// The UDP intake of the X-Ray daemon protocol: one socket, one dedicated
// receive thread reading datagrams in batches (recvmmsg) and handing each to a
// callback.
//
// The callback runs on the receive thread and must be fast and never block
// (the pipeline pushes into a bounded queue and drops when it is full): while it
// runs, datagrams pile up in the kernel buffer. It must not throw.
//
// Only senders in `allow` are heard: a datagram from any other address is
// dropped before the callback (the daemon protocol has no credentials, so the
// network is its only fence).
//
// Limits and counters (in the MetricsRegistry):
//   roentgen_udp_datagrams_received_total, roentgen_udp_bytes_received_total,
//   roentgen_udp_datagrams_dropped_total{reason="too_large"}   (> max_datagram_bytes)
//   roentgen_udp_datagrams_dropped_total{reason="not_allowed"} (sender not in `allow`)
//   roentgen_udp_datagrams_dropped_total{reason="kernel_buffer_full"} (the
//     socket's drop counter: datagrams the kernel dropped because the receive
//     buffer was full, read from each datagram (SO_RXQ_OVFL) and after each
//     drain of the socket (SO_MEMINFO), so the drops at the end of a burst,
//     with no datagram after them, are counted too)
//   roentgen_udp_receive_buffer_bytes (gauge: what the kernel granted)
//
// Lifetime: Start() once, Stop() (idempotent, also run by the destructor) wakes
// and joins the thread; after Stop() returns the callback is never called
// again. The MetricsRegistry must outlive the receiver.
// Thread safety: Start/Stop/accessors from one controlling thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

#include "common/metrics.h"
#include "common/network_allowlist.h"
#include "common/status.h"

namespace roentgen::ingest {

struct UdpReceiverConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 2000;                   // 0: any free port (see UdpReceiver::port)
  size_t max_datagram_bytes = 64 * 1024;  // larger datagrams are dropped and counted
  size_t batch_size = 64;                 // datagrams per recvmmsg call
  int receive_buffer_bytes = 16 << 20;    // SO_RCVBUF asked for; the kernel may cap it
  // After a wake-up that drained at least a full batch (a busy stream), the
  // thread pauses this long before polling again, so the next datagrams
  // gather in the kernel buffer and are read in full batches: fewer wake-ups
  // of this thread and of the senders' softirqs. A trickle is read at once;
  // the pause is shortened when, at the stream's rate, it would fill more
  // than an eighth of the buffer (BusyPause). 0 = never pause.
  std::chrono::microseconds busy_pause{500};
  // The senders whose datagrams are taken (--udp-allow); others are dropped
  // and counted. Default: this machine only.
  NetworkAllowlist allow = NetworkAllowlist::Loopback();
  Status Validate() const;
};

using DatagramCallback = std::function<void(std::string_view datagram)>;

// How long the receiver pauses after a wake-up that read `drained_bytes` of
// datagrams which arrived over `elapsed` (since the previous wake-up ended):
// `configured`, shortened so that the same rate fills at most an eighth of
// the `buffer_bytes` the kernel reports (it doubles the request for its own
// bookkeeping, and each small datagram costs it about twice its size); zero
// when that leaves less than 50 µs. Pure; public for its test.
std::chrono::microseconds BusyPause(std::chrono::microseconds configured, int buffer_bytes,
                                    uint64_t drained_bytes, std::chrono::nanoseconds elapsed);

// The drops to count on reading the kernel's cumulative drop counter
// (`cumulative`, a wrapping 32-bit count) after `last` was counted: the
// difference, or 0 when `cumulative` is not ahead (a datagram queued before
// drops that SO_MEMINFO reported already carries an older count). Pure;
// public for its test.
uint32_t NewKernelDrops(uint32_t last, uint32_t cumulative);

class UdpReceiver {
 public:
  UdpReceiver(UdpReceiverConfig config, DatagramCallback callback, MetricsRegistry& metrics);
  ~UdpReceiver();
  UdpReceiver(const UdpReceiver&) = delete;
  UdpReceiver& operator=(const UdpReceiver&) = delete;

  // Validates, resolves and binds host:port, sizes the buffer, starts the
  // thread. Errors: InvalidArgument (config, unresolvable host), IOError (bind
  // failed, e.g. the port is busy).
  Status Start();
  void Stop();

  uint16_t port() const { return port_; }  // bound port, 0 before Start()
  // The socket's receive buffer as reported by the kernel (which doubles the
  // requested value for bookkeeping and caps it at net.core.rmem_max unless
  // SO_RCVBUFFORCE is permitted).
  int receive_buffer_bytes() const { return receive_buffer_bytes_; }

 private:
  void Run();
  // Counts and, at most every 10 s, logs a datagram from outside `allow`.
  void DropNotAllowed(const sockaddr* from);

  UdpReceiverConfig config_;
  DatagramCallback callback_;
  Counter& received_;
  Counter& bytes_;
  Counter& too_large_;
  Counter& kernel_drops_;
  Counter& not_allowed_;
  Gauge& buffer_gauge_;
  std::chrono::steady_clock::time_point next_not_allowed_log_{};
  uint64_t not_allowed_since_log_ = 0;

  int fd_ = -1;
  int wake_fd_ = -1;  // eventfd written by Stop()
  std::atomic<bool> stopping_{false};
  uint16_t port_ = 0;
  int receive_buffer_bytes_ = 0;
  std::thread thread_;
};

}  // namespace roentgen::ingest
