#include "store/read_failure.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <string>
#include <string_view>

namespace roentgen::store {
namespace {
constexpr std::string_view kCorruptionPrefix = "store corruption detected: ";
}  // namespace

Status ReadFailureLog::Report(Status s) {
  if (s.code() != StatusCode::kCorruption && s.code() != StatusCode::kIOError) return s;
  const bool corrupt = s.code() == StatusCode::kCorruption;
  if (corrupt && s.message().starts_with(kCorruptionPrefix)) return s;  // reported already
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  int64_t prev = last_log_seconds_.load(std::memory_order_relaxed);
  if (prev != now &&
      last_log_seconds_.compare_exchange_strong(prev, now, std::memory_order_relaxed)) {
    if (corrupt) {
      spdlog::error(
          "store: corruption detected, the read is refused: {} (restore the data dir from a "
          "backup: docs/storage.md, \"Damaged files\")",
          s.message());
    } else {
      spdlog::error("store: a read failed: {}", s.message());
    }
  }
  if (!corrupt) return s;
  return Status::Corruption(std::string(kCorruptionPrefix) + s.message());
}

}  // namespace roentgen::store
