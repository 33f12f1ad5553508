#include "common/files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <memory>
#include <system_error>

#include "common/disk_space.h"

namespace roentgen {
namespace {

std::string ErrnoMessage(int err) { return std::system_category().message(err); }

// The directory whose disk a message about `path` (maybe not created yet) describes.
std::string ExistingAncestor(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p(path);
  while (!p.empty() && !std::filesystem::exists(p, ec)) p = p.parent_path();
  return p.empty() ? std::string(".") : p.string();
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    Reset();
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

void UniqueFd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status ErrnoStatus(int err, std::string_view what, const std::string& path) {
  std::string message = fmt::format("{}: {}", what, ErrnoMessage(err));
  switch (err) {
    case ENOENT:
      return Status::NotFound(std::move(message));
    case EEXIST:
      return Status::AlreadyExists(std::move(message));
    case EACCES:
    case EPERM:
      return Status::PermissionDenied(std::move(message));
    case ENOSPC:
    case EDQUOT:
      return Status::ResourceExhausted(fmt::format("{}: the disk is full ({})", message,
                                                   DescribeDiskSpace(ExistingAncestor(path))));
    default:
      return Status::IOError(std::move(message));
  }
}

Status SyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, fmt::format("open {}", dir), dir);
  if (::fsync(fd.get()) != 0) return ErrnoStatus(errno, fmt::format("fsync {}", dir), dir);
  return Status::Ok();
}

Result<uint64_t> CopyFile(const std::string& from, const std::string& to, uint64_t max_bytes,
                          const std::function<void(std::string_view)>& on_bytes, unsigned mode) {
  UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return ErrnoStatus(errno, fmt::format("open {}", from), from);
  UniqueFd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!out.valid()) return ErrnoStatus(errno, fmt::format("create {}", to), to);
  // From here a failure removes the partial copy: a half-written file must
  // never pass for a whole one.
  auto fail = [&](Status s) -> Result<uint64_t> {
    out.Reset();
    ::unlink(to.c_str());
    return s;
  };
  constexpr size_t kChunk = 1 << 20;
  std::unique_ptr<char[]> buf(new char[kChunk]);
  uint64_t copied = 0;
  while (copied < max_bytes) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, max_bytes - copied));
    ssize_t n = ::read(in.get(), buf.get(), want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrnoStatus(errno, fmt::format("read {}", from), from));
    }
    if (n == 0) break;
    if (on_bytes) on_bytes(std::string_view(buf.get(), static_cast<size_t>(n)));
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(out.get(), buf.get() + done, static_cast<size_t>(n - done));
      if (w < 0) {
        if (errno == EINTR) continue;
        return fail(ErrnoStatus(errno, fmt::format("write {}", to), to));
      }
      done += w;
    }
    copied += static_cast<uint64_t>(n);
  }
  if (::fsync(out.get()) != 0) return fail(ErrnoStatus(errno, fmt::format("fsync {}", to), to));
  return copied;
}

Result<uint64_t> LinkOrCopyFile(const std::string& from, const std::string& to) {
  if (::link(from.c_str(), to.c_str()) == 0) {
    struct stat st {};
    if (::stat(to.c_str(), &st) != 0) return ErrnoStatus(errno, fmt::format("stat {}", to), to);
    return static_cast<uint64_t>(st.st_size);
  }
  const int err = errno;
  // EXDEV: another filesystem; EPERM, EMLINK, ENOTSUP: no (more) links there.
  if (err != EXDEV && err != EPERM && err != EMLINK && err != ENOTSUP) {
    return ErrnoStatus(err, fmt::format("link {} to {}", from, to), to);
  }
  return CopyFile(from, to);
}

}  // namespace roentgen
