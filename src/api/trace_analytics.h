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
// ScannedFromUs says how much of a most-recent-first scan was covered when
// it stops at a maximum number of examined traces.
//
// Thread-compatible value types: one request, one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "store/store.h"
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

// How much of [start_us, end) a descending scan covered, from its progress:
// the earliest time T such that every trace in [T, end) was examined.
// `start_us` when the scan was not stopped; else the last examined trace's
// time, or one microsecond after it when the trace the scan stopped at shares
// that time (nothing examined: one microsecond after the stop).
int64_t ScannedFromUs(const store::ScanProgress& progress, int64_t start_us);

}  // namespace roentgen::api
