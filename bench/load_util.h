// Helpers shared by the load generators: the target address, the server
// process's CPU time and peak RSS read from /proc, and its /metrics. Linux
// only; thread-compatible.
#pragma once

#include <cstdint>
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

// Sums every sample of a metric in Prometheus text: `name` is a family (all
// label sets) or a family with its labels (`name{k="v"}`, that sample only).
double MetricSum(const std::string& text, const std::string& name);

}  // namespace roentgen::bench
