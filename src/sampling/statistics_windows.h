// Sampling statistics per rule per 10-second window, for
// GetSamplingStatisticSummaries: what the clients reported in
// GetSamplingTargets (RequestCount, SampledCount, BorrowCount) added up over
// every client, in the window holding each report's Timestamp.
//
// One process (the default): kept in memory only: a restart starts with no
// statistics (clients report every 10 s, so the summaries fill again at
// once). Retention: windows that started more than kStatisticsRetentionUs (1
// hour) ago are dropped, and at most kMaxWindows windows are kept (the oldest
// go first), which bounds memory whatever the clients send.
//
// Several processes over one store (the shared constructor): each process
// still adds its reports in memory, and Flush() writes the windows it changed
// to the store's config space under keys of its own — namespace
// kStatisticsNamespace, key "<process id>/<window start, 20 digits>", value
// the process's counts of every rule in that window — so no two processes
// write one key and no compare-and-swap is needed. Page() sums this
// process's windows (from memory) with every other process's (from the
// store). Keys whose window is past the retention are skipped by Page and
// deleted by Flush (at most once a kStatisticsSweepUs, whoever wrote them, so
// a process that stopped leaves nothing behind for longer than the retention
// and a sweep interval, as long as one process runs). A
// process's reports are in the others' summaries once it flushed them (the
// allocator flushes at the end of each GetSamplingTargets call).
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "store/store.h"

namespace roentgen::sampling {

inline constexpr int64_t kWindowUs = 10'000'000;
inline constexpr int64_t kStatisticsRetentionUs = 3600LL * 1'000'000;
inline constexpr size_t kMaxWindows = 50'000;
inline constexpr std::string_view kStatisticsNamespace = "xray.sampling_statistics";
inline constexpr int64_t kStatisticsSweepUs = 60'000'000;

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
  // Shared mode: `process_id` (not empty, no '/') names this process's keys;
  // `store` must outlive this.
  StatisticsWindows(const Clock& clock, store::Store& store, std::string process_id)
      : clock_(clock), store_(&store), process_id_(std::move(process_id)) {}

  // Adds `counts` to the window of `timestamp_us` (floor to 10 s).
  // InvalidArgument when the window is already past the retention.
  Status Add(std::string_view rule_name, int64_t timestamp_us, const Counts& counts) EXCLUDES(mu_);

  // Oldest window first, rules by name within a window; at most `page_size`
  // from `token` (a NextToken of an earlier page, empty for the first).
  // InvalidArgument for a token not issued here. Shared mode: the sums over
  // every process; errors from the store, Corruption for a stored window that
  // does not decode.
  Result<SummaryPage> Page(std::string_view token, size_t page_size) EXCLUDES(mu_);

  // Shared mode: writes the windows changed since the last Flush (a window
  // whose write fails is written again by the next). One-process mode: OK,
  // nothing to do.
  Status Flush() EXCLUDES(mu_, flush_mu_);

  // This process's windows.
  size_t size() EXCLUDES(mu_);

 private:
  using WindowMap = std::map<std::pair<int64_t, std::string>, Counts>;

  void Prune() REQUIRES(mu_);
  // Deletes the stored windows past the retention, of every process.
  Status Sweep(int64_t now_us);
  // Adds every other process's stored windows into `sums`.
  Status AddOthers(WindowMap& sums);

  const Clock& clock_;
  store::Store* const store_ = nullptr;  // null: one-process mode
  const std::string process_id_;
  Mutex mu_;
  // (window start, rule name) → counts: time order first, so pruning takes
  // from the front and new windows go to the end (pages stay stable).
  WindowMap windows_ GUARDED_BY(mu_);
  // Shared mode: the starts of the windows changed since the last Flush.
  std::set<int64_t> dirty_ GUARDED_BY(mu_);
  // Serializes flushes, so an older copy of a window never overwrites a newer.
  Mutex flush_mu_ ACQUIRED_BEFORE(mu_);
  int64_t last_sweep_us_ GUARDED_BY(flush_mu_) = INT64_MIN;
};

}  // namespace roentgen::sampling
