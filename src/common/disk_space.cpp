#include "common/disk_space.h"

#include <fmt/format.h>
#include <sys/statvfs.h>

#include <array>
#include <cerrno>
#include <system_error>

namespace roentgen {

Result<DiskSpace> GetDiskSpace(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) {
    return Status::IOError(fmt::format("statvfs {}: {}", path,
                                       std::system_category().message(errno)));
  }
  return DiskSpace{static_cast<uint64_t>(st.f_bavail) * st.f_frsize,
                   static_cast<uint64_t>(st.f_blocks) * st.f_frsize};
}

std::string FormatBytes(uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} bytes", bytes);
  constexpr std::array<const char*, 5> kUnits = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < kUnits.size()) {
    value /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string DescribeDiskSpace(const std::string& path) {
  Result<DiskSpace> space = GetDiskSpace(path);
  if (!space.ok()) return fmt::format("free space unknown: {}", space.status().message());
  return fmt::format("{} free of {} on the disk holding {}", FormatBytes(space->available_bytes),
                     FormatBytes(space->total_bytes), path);
}

}  // namespace roentgen
