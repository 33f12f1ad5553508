// Tests only: a small tmpfs mounted on a fresh directory, to run out of space
// on purpose. Mounting needs CAP_SYS_ADMIN (root on CI); where it is not
// permitted, mounted() is false and why() says so, and the test skips:
//
//   SmallDisk disk(4 << 20);
//   if (!disk.mounted()) GTEST_SKIP() << disk.why();
//   disk.Fill();      // writes a filler file until the disk is full
//   disk.FreeFill();  // deletes it
//
// The destructor unmounts (lazily, so files still open cannot keep the mount)
// and removes the directory, also when the test failed. Not thread-safe.
#pragma once

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <string>
#include <system_error>
#include <vector>

namespace roentgen::testing {

class SmallDisk {
 public:
  explicit SmallDisk(uint64_t bytes) {
    std::string tmpl = "/tmp/rg-small-disk-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      why_ = "mkdtemp: " + std::system_category().message(errno);
      return;
    }
    dir_ = tmpl;
    const std::string options = fmt::format("size={}", bytes);
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
      why_ = fmt::format("cannot mount a {}-byte tmpfs on {} ({}): run as root to test a full disk",
                         bytes, dir_, std::system_category().message(errno));
      return;
    }
    mounted_ = true;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    if (!dir_.empty()) ::rmdir(dir_.c_str());
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }
  const std::string& dir() const { return dir_; }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // Writes `name` until the disk is full (or `max_bytes` are written); the
  // bytes written.
  uint64_t Fill(const std::string& name = "filler", uint64_t max_bytes = UINT64_MAX) {
    const std::string path = Path(name);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return 0;
    std::vector<char> block(4096, 'f');
    uint64_t written = 0;
    while (written < max_bytes) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(block.size(), max_bytes - written));
      const ssize_t n = ::write(fd, block.data(), want);
      if (n <= 0) break;
      written += static_cast<uint64_t>(n);
    }
    ::close(fd);
    return written;
  }
  void FreeFill(const std::string& name = "filler") {
    ::unlink(Path(name).c_str());
  }

 private:
  std::string dir_;
  std::string why_;
  bool mounted_ = false;
};

}  // namespace roentgen::testing
