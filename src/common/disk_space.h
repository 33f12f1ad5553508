// The free and total space of the filesystem holding a path (statvfs), and a
// byte count written for people ("3.2 MiB"), for messages about a full disk.
//
// Thread safety: both functions are pure or read-only; any thread.
// Errors: IOError naming the path when statvfs fails.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace roentgen {

struct DiskSpace {
  uint64_t available_bytes = 0;  // what an unprivileged process may still write
  uint64_t total_bytes = 0;
};

Result<DiskSpace> GetDiskSpace(const std::string& path);

// "812 bytes", "4.0 KiB", "3.2 MiB", "1.5 GiB" (one decimal from KiB up).
std::string FormatBytes(uint64_t bytes);

// "3.2 MiB free of 8.0 MiB on the disk holding <path>", or, when statvfs fails,
// "free space unknown: <why>".
std::string DescribeDiskSpace(const std::string& path);

}  // namespace roentgen
