// Durable file operations for copies that must survive a crash (backups,
// spool snapshots): copying with fsync, hard links with a copy as fallback,
// directory syncs, and errno turned into a Status an operator can act on.
//
// Errors, everywhere: NotFound (ENOENT), AlreadyExists (EEXIST),
// PermissionDenied (EACCES, EPERM), ResourceExhausted (ENOSPC, EDQUOT: the
// message says the disk is full, with its free space), IOError (the rest);
// messages name the path and the operation.
//
// Thread safety: every function may run on any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"

namespace roentgen {

// An owned file descriptor, closed by the destructor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  ~UniqueFd() { Reset(); }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  void Reset();
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// `what` (e.g. "write /backup/x.sst") failed with `err`, mapped as above;
// `path` is the file whose disk a full-disk message describes.
Status ErrnoStatus(int err, std::string_view what, const std::string& path);

// fsync of a directory, so the names created in it survive a crash.
Status SyncDir(const std::string& dir);

// Copies the first `max_bytes` (all by default) of `from` into `to`, which
// must not exist (created with `mode`), and fsyncs it. `on_bytes`, when
// given, sees every byte copied, in order (e.g. to digest them). The bytes
// copied, fewer than max_bytes when `from` is shorter. A failed copy removes
// its partial `to`.
Result<uint64_t> CopyFile(const std::string& from, const std::string& to,
                          uint64_t max_bytes = std::numeric_limits<uint64_t>::max(),
                          const std::function<void(std::string_view)>& on_bytes = nullptr,
                          unsigned mode = 0600);

// Hard-links `from` as `to`; copies it where the filesystem cannot link
// (another filesystem, or one without links). The bytes of the file.
Result<uint64_t> LinkOrCopyFile(const std::string& from, const std::string& to);

}  // namespace roentgen
