// Aggregates over the traces a TraceAnalytics request matches (Roentgen's
// extension POST /roentgen/TraceAnalytics, docs/api.md "Roentgen
// extensions"): status counts, response-time and duration histograms, a time
// series, and the most frequent annotation values, users, URLs, HTTP methods
// and statuses, services and root causes.
//
// TraceAnalytics is fed one TraceSummary per matching trace (Add) and renders
// the response's aggregate fields (ToJson). The rules:
//  - Status: each trace counts once in Fault, else Throttle, else Error, else
//    Ok (the service map's precedence, docs/service-map.md "Statistics"), and
//    in Partial when it is partial.
//  - Histograms: graph/histogram.h buckets; traces without a response time
//    (duration) are left out of that histogram.
//  - TimeSeries: by the sort time the caller passes (the TimeRangeType's), in
//    periods aligned to the epoch; empty periods are left out.
//  - Value lists: a trace counts at most once per value; sorted by TraceCount
//    descending, ties by value ascending; `limit` values per list. Memory is
//    bounded: a list tracks at most `max_values` distinct values (the first
//    met), annotation keys at most `max_annotation_keys`, and all annotation
//    keys together at most `max_annotation_values` values. What is not listed,
//    whether past the limit or past a cap, is counted in the list's Other…
//    figure: the sum of TraceCount over the values not listed (a trace with
//    two unlisted values counts twice), so nothing is dropped silently.
//  - Root causes: per FaultRootCauses / ErrorRootCauses /
//    ResponseTimeRootCauses entry, the last service of its path (where the
//    cause is), that service's entity path joined with " > ", and the first
//    exception name along the whole path.
//
// ScanCoverage tracks how much of a most-recent-first scan was covered when
// it stops at a maximum number of candidates.
//
// Thread-compatible value types: one request, one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "xray/trace.h"

namespace roentgen::api {

struct TraceAnalyticsConfig {
  int64_t period_us = 60'000'000;  // time-series period: whole seconds, > 0
  size_t limit = 20;               // values listed per list
  size_t max_annotation_keys_listed = 1'000;
  size_t max_values = 10'000;           // distinct values tracked per list (and per annotation key)
  size_t max_annotation_keys = 10'000;  // distinct annotation keys tracked
  size_t max_annotation_values = 100'000;  // distinct values tracked over all keys
};

class TraceAnalytics {
 public:
  explicit TraceAnalytics(const TraceAnalyticsConfig& config);
  ~TraceAnalytics();
  TraceAnalytics(const TraceAnalytics&) = delete;
  TraceAnalytics& operator=(const TraceAnalytics&) = delete;

  // One matching trace; `sort_time_us` places it in the time series.
  void Add(const xray::TraceSummary& summary, int64_t sort_time_us);

  int64_t trace_count() const;

  // {TraceCount, Status, ResponseTimeHistogram, DurationHistogram,
  //  TimeSeries, Annotations, OtherAnnotations, Users, OtherUsers, Urls,
  //  OtherUrls, HttpMethods, OtherHttpMethods, HttpStatuses,
  //  OtherHttpStatuses, Services, OtherServices, RootCauses}
  nlohmann::json ToJson() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Candidates of a descending scan, at most `max_candidates` of them.
class ScanCoverage {
 public:
  explicit ScanCoverage(size_t max_candidates) : max_(max_candidates) {}

  // Called with each candidate's sort time, most recent first. True: take it;
  // false: the maximum was reached, stop the scan (this one is not taken).
  bool Take(int64_t sort_time_us);

  size_t taken() const { return taken_; }
  // Whether the scan was never stopped: every candidate was taken.
  bool complete() const { return !cut_at_us_.has_value(); }
  // The earliest time T such that every candidate in [T, end) was taken:
  // `start_us` when complete; else the oldest taken candidate's time, or one
  // microsecond after it when the first candidate left out shares that time.
  int64_t ScannedFromUs(int64_t start_us) const;

 private:
  size_t max_;
  size_t taken_ = 0;
  std::optional<int64_t> last_taken_us_;
  std::optional<int64_t> cut_at_us_;  // the first candidate not taken
};

}  // namespace roentgen::api
