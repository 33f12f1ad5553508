// Sampling statistics per rule per 10-second window. See statistics_windows.h.
#include "sampling/statistics_windows.h"

#include <fmt/format.h>

#include <charconv>

namespace roentgen::sampling {
namespace {

int64_t WindowStart(int64_t us) {
  const int64_t q = us / kWindowUs;
  return (us % kWindowUs < 0 ? q - 1 : q) * kWindowUs;
}

}  // namespace

void StatisticsWindows::Prune() {
  const int64_t cutoff = clock_.NowMicros() - kStatisticsRetentionUs;
  while (!windows_.empty() &&
         (windows_.begin()->first.first < cutoff || windows_.size() > kMaxWindows)) {
    windows_.erase(windows_.begin());
  }
}

Status StatisticsWindows::Add(std::string_view rule_name, int64_t timestamp_us,
                              const Counts& counts) {
  const int64_t start = WindowStart(timestamp_us);
  MutexLock lock(mu_);
  if (start < clock_.NowMicros() - kStatisticsRetentionUs) {
    return Status::InvalidArgument(
        fmt::format("Timestamp: older than the {}-second retention of sampling statistics",
                    kStatisticsRetentionUs / 1'000'000));
  }
  Counts& c = windows_[{start, std::string(rule_name)}];
  c.request_count += counts.request_count;
  c.sampled_count += counts.sampled_count;
  c.borrow_count += counts.borrow_count;
  Prune();
  return Status::Ok();
}

Result<SummaryPage> StatisticsWindows::Page(std::string_view token, size_t page_size) {
  std::pair<int64_t, std::string> from{INT64_MIN, ""};
  if (!token.empty()) {
    const size_t slash = token.find('/');
    const std::string_view digits = token.substr(0, slash);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), from.first);
    if (slash == std::string_view::npos || ec != std::errc() ||
        end != digits.data() + digits.size()) {
      return Status::InvalidArgument("NextToken: not a token this server issued");
    }
    from.second = std::string(token.substr(slash + 1));
  }
  MutexLock lock(mu_);
  Prune();
  SummaryPage page;
  auto it = windows_.lower_bound(from);
  for (; it != windows_.end() && page.summaries.size() < page_size; ++it) {
    page.summaries.push_back(WindowSummary{it->first.second, it->first.first, it->second});
  }
  if (it != windows_.end()) {
    page.next_token = fmt::format("{}/{}", it->first.first, it->first.second);
  }
  return page;
}

size_t StatisticsWindows::size() {
  MutexLock lock(mu_);
  Prune();
  return windows_.size();
}

}  // namespace roentgen::sampling
