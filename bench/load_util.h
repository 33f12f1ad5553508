// Helpers shared by the load generators: the target address, and the server
// process's CPU time and peak RSS read from /proc. Linux only; thread-compatible.
#pragma once

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

}  // namespace roentgen::bench
