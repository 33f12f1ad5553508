#include "store/rocksdb/rocksdb_log.h"

#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string>
#include <utility>

namespace roentgen::store::rocks {
namespace {

spdlog::level::level_enum SpdLevel(rocksdb::InfoLogLevel level) {
  switch (level) {
    case rocksdb::InfoLogLevel::WARN_LEVEL:
      return spdlog::level::warn;
    case rocksdb::InfoLogLevel::ERROR_LEVEL:
      return spdlog::level::err;
    case rocksdb::InfoLogLevel::FATAL_LEVEL:
      return spdlog::level::critical;
    default:  // DEBUG, INFO, HEADER
      return spdlog::level::trace;
  }
}

// Lets through at most kPerSecond warnings and errors a second: a store that
// refuses writes repeats its error to every one of them. The count of those
// held back is logged with the next line let through. Thread-safe.
class RateLimit {
 public:
  // Whether to log now; sets `suppressed` to the lines held back before.
  bool Allow(uint64_t& suppressed) {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (now - window_ >= std::chrono::seconds(1)) {
      window_ = now;
      logged_ = 0;
    }
    if (logged_ >= kPerSecond) {
      ++suppressed_;
      return false;
    }
    ++logged_;
    suppressed = std::exchange(suppressed_, 0);
    return true;
  }

 private:
  static constexpr int kPerSecond = 5;
  std::mutex mu_;
  std::chrono::steady_clock::time_point window_{};
  int logged_ = 0;
  uint64_t suppressed_ = 0;
};

class ServerLogger final : public rocksdb::Logger {
 public:
  explicit ServerLogger(rocksdb::InfoLogLevel level) : rocksdb::Logger(level) {}

  // RocksDB calls this overload for lines without a level (as INFO).
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    const spdlog::level::level_enum spd = SpdLevel(level);
    if (!spdlog::should_log(spd)) return;
    std::array<char, 1024> small;
    va_list copy;
    va_copy(copy, ap);
    const int n = std::vsnprintf(small.data(), small.size(), format, copy);
    va_end(copy);
    if (n < 0) return;
    std::string line;
    if (static_cast<size_t>(n) < small.size()) {
      line.assign(small.data(), static_cast<size_t>(n));
    } else {
      line.resize(static_cast<size_t>(n) + 1);
      std::vsnprintf(line.data(), line.size(), format, ap);
      line.resize(static_cast<size_t>(n));
    }
    while (!line.empty() && line.back() == '\n') line.pop_back();
    // A checkpoint (a backup) disables file deletions inside a section that
    // already did, and RocksDB warns of the nesting: nothing is wrong.
    if (line.find("File Deletions ") != std::string::npos) {
      if (!spdlog::should_log(spdlog::level::trace)) return;
      spdlog::trace("rocksdb: {}", line);
      return;
    }
    uint64_t suppressed = 0;
    if (spd >= spdlog::level::warn && !limit_.Allow(suppressed)) return;
    if (suppressed > 0) spdlog::log(spd, "rocksdb: ({} more warnings and errors not logged)", suppressed);
    spdlog::log(spd, "rocksdb: {}", line);
  }
  void LogHeader(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::HEADER_LEVEL, format, ap);
  }

 protected:
  rocksdb::Status CloseImpl() override { return rocksdb::Status::OK(); }

 private:
  RateLimit limit_;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> MakeServerLogger() {
  // Below trace, RocksDB need not even format its informational lines.
  const rocksdb::InfoLogLevel level = spdlog::should_log(spdlog::level::trace)
                                          ? rocksdb::InfoLogLevel::DEBUG_LEVEL
                                          : rocksdb::InfoLogLevel::WARN_LEVEL;
  return std::make_shared<ServerLogger>(level);
}

}  // namespace roentgen::store::rocks
