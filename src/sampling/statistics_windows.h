// Sampling statistics per rule per 10-second window, for
// GetSamplingStatisticSummaries: what the clients reported in
// GetSamplingTargets (RequestCount, SampledCount, BorrowCount) added up over
// every client, in the window holding each report's Timestamp.
//
// Kept in memory only: a restart starts with no statistics (clients report
// every 10 s, so the summaries fill again at once). Retention: windows that
// started more than kStatisticsRetentionUs (1 hour) ago are dropped, and at
// most kMaxWindows windows are kept (the oldest go first), which bounds
// memory whatever the clients send.
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"

namespace roentgen::sampling {

inline constexpr int64_t kWindowUs = 10'000'000;
inline constexpr int64_t kStatisticsRetentionUs = 3600LL * 1'000'000;
inline constexpr size_t kMaxWindows = 50'000;

struct Counts {
  int64_t request_count = 0;
  int64_t sampled_count = 0;
  int64_t borrow_count = 0;
};

struct WindowSummary {
  std::string rule_name;
  int64_t window_start_us = 0;
  Counts counts;
};

struct SummaryPage {
  std::vector<WindowSummary> summaries;
  std::optional<std::string> next_token;
};

class StatisticsWindows {
 public:
  explicit StatisticsWindows(const Clock& clock) : clock_(clock) {}

  // Adds `counts` to the window of `timestamp_us` (floor to 10 s).
  // InvalidArgument when the window is already past the retention.
  Status Add(std::string_view rule_name, int64_t timestamp_us, const Counts& counts) EXCLUDES(mu_);

  // Oldest window first, rules by name within a window; at most `page_size`
  // from `token` (a NextToken of an earlier page, empty for the first).
  // InvalidArgument for a token not issued here.
  Result<SummaryPage> Page(std::string_view token, size_t page_size) EXCLUDES(mu_);

  size_t size() EXCLUDES(mu_);

 private:
  void Prune() REQUIRES(mu_);

  const Clock& clock_;
  Mutex mu_;
  // (window start, rule name) → counts: time order first, so pruning takes
  // from the front and new windows go to the end (pages stay stable).
  std::map<std::pair<int64_t, std::string>, Counts> windows_ GUARDED_BY(mu_);
};

}  // namespace roentgen::sampling
