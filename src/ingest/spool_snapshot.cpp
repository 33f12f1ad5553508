#include "ingest/spool_snapshot.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string_view>
#include <system_error>

#include "common/files.h"

namespace roentgen::ingest {
namespace {

// The spool's file format (spool.h, docs/storage.md "The spools"); spool.cpp
// writes it, spool_snapshot_test.cpp checks that a copy made here reads back
// through a Spool.
constexpr char kMagic[8] = {'R', 'G', 'S', 'P', 'O', 'O', 'L', '1'};
constexpr uint64_t kRecordHeaderBytes = 8;      // length (u32 LE) · crc32 (u32 LE)
constexpr uint64_t kMaxRecordBytes = 16 << 20;  // larger lengths are damage
constexpr size_t kFileNameDigits = 20;
constexpr std::string_view kFileSuffix = ".spool";
constexpr std::string_view kCheckpointName = "checkpoint";

uint32_t GetU32(const unsigned char* at) {
  return static_cast<uint32_t>(at[0]) | static_cast<uint32_t>(at[1]) << 8 |
         static_cast<uint32_t>(at[2]) << 16 | static_cast<uint32_t>(at[3]) << 24;
}

std::optional<uint64_t> ParseFileName(std::string_view name) {
  if (name.size() != kFileNameDigits + kFileSuffix.size() || !name.ends_with(kFileSuffix)) {
    return std::nullopt;
  }
  uint64_t number = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + kFileNameDigits, number);
  if (ec != std::errc() || end != name.data() + kFileNameDigits) return std::nullopt;
  return number;
}

// The length of the prefix of `path` that ends after its last whole record
// passing its checksum; 0 without a whole magic. Reads the file once.
Result<uint64_t> WholeRecordsPrefix(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, fmt::format("open {}", path), path);
  std::string buf;
  uint64_t buf_offset = 0;  // file offset of buf[0]
  // Makes [offset, offset + n) readable in buf; false at the end of the file.
  auto have = [&](uint64_t offset, uint64_t n) -> Result<bool> {
    if (offset >= buf_offset && offset + n <= buf_offset + buf.size()) return true;
    buf.assign(static_cast<size_t>(std::max<uint64_t>(n, 1 << 20)), '\0');
    buf_offset = offset;
    size_t got = 0;
    while (got < buf.size()) {
      ssize_t r =
          ::pread(fd.get(), buf.data() + got, buf.size() - got, static_cast<off_t>(offset + got));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, fmt::format("read {}", path), path);
      }
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    buf.resize(got);
    return got >= n;
  };
  Result<bool> magic = have(0, sizeof(kMagic));
  if (!magic.ok()) return magic.status();
  if (!*magic || std::memcmp(buf.data(), kMagic, sizeof(kMagic)) != 0) return uint64_t{0};
  uint64_t end = sizeof(kMagic);
  while (true) {
    Result<bool> header = have(end, kRecordHeaderBytes);
    if (!header.ok()) return header.status();
    if (!*header) break;
    const auto* h = reinterpret_cast<const unsigned char*>(buf.data() + (end - buf_offset));
    const uint32_t length = GetU32(h);
    const uint32_t crc = GetU32(h + 4);
    if (length > kMaxRecordBytes) break;
    Result<bool> record = have(end, kRecordHeaderBytes + length);
    if (!record.ok()) return record.status();
    if (!*record) break;
    const auto* r = reinterpret_cast<const Bytef*>(buf.data() + (end - buf_offset));
    uLong sum = crc32_z(0, r, 4);  // the length bytes, then the payload
    sum = crc32_z(sum, r + kRecordHeaderBytes, length);
    if (static_cast<uint32_t>(sum) != crc) break;
    end += kRecordHeaderBytes + length;
  }
  return end;
}

}  // namespace

Result<SpoolSnapshotStats> SnapshotSpool(const std::string& spool_dir, const std::string& to) {
  SpoolSnapshotStats stats;
  std::error_code ec;
  if (!std::filesystem::is_directory(spool_dir, ec)) return stats;  // no such spool
  if (::mkdir(to.c_str(), 0700) != 0) {
    return ErrnoStatus(errno, fmt::format("spool snapshot: mkdir {}", to), to);
  }
  // The checkpoint first (see the header): a link to the version in place now.
  const std::string checkpoint = fmt::format("{}/{}", spool_dir, kCheckpointName);
  Result<uint64_t> linked = LinkOrCopyFile(checkpoint, fmt::format("{}/{}", to, kCheckpointName));
  if (linked.ok()) {
    stats.checkpoint = true;
  } else if (linked.status().code() != StatusCode::kNotFound) {
    return linked.status();
  }

  std::map<uint64_t, std::string> files;  // by number: log order
  for (std::filesystem::directory_iterator it(spool_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (std::optional<uint64_t> number = ParseFileName(name)) files[*number] = name;
  }
  if (ec) {
    return Status::IOError(
        fmt::format("spool snapshot: cannot list {}: {}", spool_dir, ec.message()));
  }
  for (auto it = files.begin(); it != files.end(); ++it) {
    const std::string from = fmt::format("{}/{}", spool_dir, it->second);
    const std::string copy = fmt::format("{}/{}", to, it->second);
    const bool newest = std::next(it) == files.end();
    Result<uint64_t> bytes = uint64_t{0};
    if (newest) {
      Result<uint64_t> whole = WholeRecordsPrefix(from);
      if (whole.ok() && *whole == 0) continue;  // not even its magic yet: nothing in it
      bytes = whole.ok() ? CopyFile(from, copy, *whole) : whole;
    } else {
      bytes = LinkOrCopyFile(from, copy);
    }
    // Gone since the listing: the spool deleted it after a newer checkpoint,
    // so its records were stored before now.
    if (!bytes.ok() && bytes.status().code() == StatusCode::kNotFound &&
        !std::filesystem::exists(copy, ec)) {
      continue;
    }
    if (!bytes.ok()) return bytes.status();
    ++stats.files;
    stats.bytes += *bytes;
  }
  RG_RETURN_IF_ERROR(SyncDir(to));
  return stats;
}

}  // namespace roentgen::ingest
