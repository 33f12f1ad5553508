// Sampling statistics per rule per 10-second window. See statistics_windows.h.
#include "sampling/statistics_windows.h"

#include <fmt/format.h>

#include <charconv>
#include <utility>
#include <vector>

#include "common/coding.h"

namespace roentgen::sampling {
namespace {

int64_t WindowStart(int64_t us) {
  const int64_t q = us / kWindowUs;
  return (us % kWindowUs < 0 ? q - 1 : q) * kWindowUs;
}

std::string WindowKey(std::string_view process_id, int64_t start_us) {
  return fmt::format("{}/{:020d}", process_id, start_us);
}

// The counts of every rule in one window: a varint count of rules, then per
// rule its length-prefixed name and its three counts (zigzag varints).
std::string EncodeWindow(const std::vector<std::pair<std::string, Counts>>& rules) {
  std::string out;
  coding::PutVarint(rules.size(), out);
  for (const auto& [name, c] : rules) {
    coding::PutLengthPrefixed(name, out);
    coding::PutSigned(c.request_count, out);
    coding::PutSigned(c.sampled_count, out);
    coding::PutSigned(c.borrow_count, out);
  }
  return out;
}

// Adds the stored window `key` → `value` into `sums`; false when the key or
// value does not decode.
bool AddStoredWindow(std::string_view key, std::string_view value, int64_t cutoff_us,
                     std::string_view skip_process,
                     std::map<std::pair<int64_t, std::string>, Counts>& sums) {
  const size_t slash = key.rfind('/');
  if (slash == std::string_view::npos) return false;
  const std::string_view digits = key.substr(slash + 1);
  int64_t start = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), start);
  if (ec != std::errc() || end != digits.data() + digits.size()) return false;
  if (key.substr(0, slash) == skip_process || start < cutoff_us) return true;
  coding::Reader in(value);
  uint64_t n = 0;
  if (!in.Varint(n)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view name;
    Counts c;
    if (!in.LengthPrefixed(name) || !in.Signed(c.request_count) || !in.Signed(c.sampled_count) ||
        !in.Signed(c.borrow_count)) {
      return false;
    }
    Counts& sum = sums[{start, std::string(name)}];
    sum.request_count += c.request_count;
    sum.sampled_count += c.sampled_count;
    sum.borrow_count += c.borrow_count;
  }
  return in.remaining() == 0;
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
  if (store_ != nullptr) dirty_.insert(start);
  Prune();
  return Status::Ok();
}

Status StatisticsWindows::Flush() {
  if (store_ == nullptr) return Status::Ok();
  MutexLock flush_lock(flush_mu_);
  // Copies of the changed windows (a pruned window is written empty, which
  // Page reads as nothing; the sweep deletes it).
  std::vector<std::pair<int64_t, std::vector<std::pair<std::string, Counts>>>> changed;
  {
    MutexLock lock(mu_);
    for (int64_t start : dirty_) {
      auto& rules = changed.emplace_back(start, std::vector<std::pair<std::string, Counts>>{});
      for (auto it = windows_.lower_bound({start, ""});
           it != windows_.end() && it->first.first == start; ++it) {
        rules.second.emplace_back(it->first.second, it->second);
      }
    }
    dirty_.clear();
  }
  Status first = Status::Ok();
  for (const auto& [start, rules] : changed) {
    Status s = store_->PutConfig(kStatisticsNamespace, WindowKey(process_id_, start),
                                 EncodeWindow(rules));
    if (!s.ok()) {
      MutexLock lock(mu_);
      dirty_.insert(start);
      if (first.ok()) first = s;
    }
  }
  const int64_t now = clock_.NowMicros();
  if (first.ok() && (last_sweep_us_ == INT64_MIN || now - last_sweep_us_ >= kStatisticsSweepUs)) {
    first = Sweep(now);
    if (first.ok()) last_sweep_us_ = now;
  }
  return first;
}

Status StatisticsWindows::Sweep(int64_t now_us) {
  Result<std::vector<std::pair<std::string, std::string>>> stored =
      store_->ListConfig(kStatisticsNamespace);
  if (!stored.ok()) return stored.status();
  const int64_t cutoff = now_us - kStatisticsRetentionUs;
  for (const auto& [key, value] : *stored) {
    const size_t slash = key.rfind('/');
    int64_t start = 0;
    if (slash != std::string::npos) {
      auto [end, ec] = std::from_chars(key.data() + slash + 1, key.data() + key.size(), start);
      // A key that does not decode is left for Page to report.
      if (ec != std::errc() || end != key.data() + key.size()) continue;
    }
    if (slash == std::string::npos || start >= cutoff) continue;
    Status s = store_->DeleteConfig(kStatisticsNamespace, key);
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  return Status::Ok();
}

Status StatisticsWindows::AddOthers(WindowMap& sums) {
  Result<std::vector<std::pair<std::string, std::string>>> stored =
      store_->ListConfig(kStatisticsNamespace);
  if (!stored.ok()) return stored.status();
  const int64_t cutoff = clock_.NowMicros() - kStatisticsRetentionUs;
  for (const auto& [key, value] : *stored) {
    if (!AddStoredWindow(key, value, cutoff, process_id_, sums)) {
      return Status::Corruption(
          fmt::format("sampling statistics '{}' in the store do not decode", key));
    }
  }
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
  WindowMap shared;
  if (store_ != nullptr) {
    RG_RETURN_IF_ERROR(AddOthers(shared));
    MutexLock lock(mu_);
    Prune();
    for (const auto& [window, c] : windows_) {
      Counts& sum = shared[window];
      sum.request_count += c.request_count;
      sum.sampled_count += c.sampled_count;
      sum.borrow_count += c.borrow_count;
    }
  }
  MutexLock lock(mu_);
  Prune();
  const WindowMap& windows = store_ != nullptr ? shared : windows_;
  SummaryPage page;
  auto it = windows.lower_bound(from);
  for (; it != windows.end() && page.summaries.size() < page_size; ++it) {
    page.summaries.push_back(WindowSummary{it->first.second, it->first.first, it->second});
  }
  if (it != windows.end()) {
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
