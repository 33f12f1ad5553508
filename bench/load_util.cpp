#include "load_util.h"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>

namespace roentgen::bench {

std::pair<std::string, std::string> SplitHostPort(const std::string& target) {
  auto colon = target.rfind(':');
  return {target.substr(0, colon), target.substr(colon + 1)};
}

ProcSample SampleProcess(int pid) {
  ProcSample s;
  if (pid <= 0) return s;
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string content((std::istreambuf_iterator<char>(stat)), {});
  auto paren = content.rfind(')');
  if (paren == std::string::npos || paren + 2 > content.size()) return s;
  std::istringstream fields(content.substr(paren + 2));
  std::string f;
  unsigned long utime = 0, stime = 0;
  // Fields 14 and 15 of /proc/PID/stat (1-based; the first two precede ')').
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoul(f);
    if (i == 15) stime = std::stoul(f);
  }
  s.cpu_seconds = double(utime + stime) / sysconf(_SC_CLK_TCK);
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) s.peak_rss_kb = std::stol(line.substr(6));
  }
  return s;
}

}  // namespace roentgen::bench
