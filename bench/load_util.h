// Helpers shared by the load generators: the target address, the server
// process's CPU time and peak RSS read from /proc, and its /metrics. Linux
// only; thread-compatible.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace roentgen::bench {

// "HOST:PORT" → {"HOST", "PORT"} (split at the last colon).
std::pair<std::string, std::string> SplitHostPort(const std::string& target);

struct ProcSample {
  double cpu_seconds = 0;  // user + system
  long peak_rss_kb = 0;    // VmHWM
};

// Zeroes when pid <= 0 or the process cannot be read.
ProcSample SampleProcess(int pid);

// GET http://host:port/path; the body (throws on a connection error).
std::string HttpGet(const std::string& host, uint16_t port, const std::string& path);

// A keep-alive HTTP/1.1 connection for the load generators' API calls.
// Not thread-safe; one per thread.
class HttpClient {
 public:
  HttpClient(const std::string& host, uint16_t port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  // POST `body` (application/json) to `path`; the status and the body
  // (throws on a connection error).
  std::pair<int, std::string> Post(const std::string& path, const std::string& body);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// UDP counters of the kernel (/proc/net/snmp, "Udp:"): datagrams it dropped
// for want of socket buffer (RcvbufErrors) and all receive errors (InErrors,
// which includes them). Zeroes when unreadable.
struct KernelUdpDrops {
  uint64_t in_errors = 0;
  uint64_t rcvbuf_errors = 0;
};
KernelUdpDrops ReadKernelUdpDrops();

// Sums every sample of a metric in Prometheus text: `name` is a family (all
// label sets) or a family with its labels (`name{k="v"}`, that sample only).
double MetricSum(const std::string& text, const std::string& name);

}  // namespace roentgen::bench
