#include "ingest/spool_snapshot.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string_view>
#include <system_error>

#include "common/files.h"
#include "ingest/spool_format.h"
#include "ingest/spool_reader.h"

namespace roentgen::ingest {
namespace {

using namespace spool_format;

// The length of the prefix of `path` that ends after its last whole record
// passing its checksum; 0 without a whole magic.
Result<uint64_t> WholeRecordsPrefix(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, fmt::format("open {}", path), path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, fmt::format("stat {}", path), path);
  SpoolFileReader reader(fd.get(), path);
  std::vector<std::string_view> records;
  uint64_t offset = 0;
  while (true) {
    records.clear();
    const SpoolFileReader::Outcome read =
        reader.Read(offset, static_cast<uint64_t>(st.st_size), 4096, records);
    switch (read.stop) {
      case SpoolFileReader::Stop::kBatchFull:
      case SpoolFileReader::Stop::kRefill:
        offset = read.next;
        continue;
      case SpoolFileReader::Stop::kEnd:
      case SpoolFileReader::Stop::kDamaged:  // a record being appended: not whole yet
        return read.next;
      case SpoolFileReader::Stop::kReadError:
        return read.error;
    }
  }
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
