// Per-minute service-graph rollups, kept up to date at ingest.
//
// Every observation of a trace graph (node or edge) is added to the minute in
// which it started. When a trace changes (a segment arrives late, an
// in-progress segment completes), the writer calls Replace(old, new): the old
// graph is subtracted and the new one added, so each observation is counted
// exactly once whatever the arrival order. Counters are exact integers, so
// subtraction leaves no drift.
//
// Resolution: a minute for the recent `minute_window_us`, an hour before
// that. Expire() folds the minutes of each hour that has left the window
// into one aggregate for the hour (as Prometheus and Thanos downsample old
// samples): the counters stay exact, a query merely covers whole hours
// where it reaches that far back. A minute's response-time histograms (1 ms
// buckets) take about as much room as an hour's, so an hour costs about a
// sixtieth of its minutes.
//
// Bounded memory: minutes older than the retention are dropped by Expire().
// When the estimated memory exceeds `max_bytes`, the oldest hour still kept
// per minute is folded first (counted in stats().folded_minutes), and only
// when every minute left is in the newest hour are the oldest periods
// evicted (counted in stats().evicted_minutes). Observations that fall in a
// dropped period are skipped and counted. After a restart they are either loaded
// from what the store persists (Load(); the block engine keeps them with its
// blocks: store.h, Store::LoadRollups) or rebuilt from the stored traces
// while ingest already runs (the rebuild section below; docs/service-map.md).
//
// Thread-safe: writers take an exclusive lock, queries a shared one.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <shared_mutex>
#include <unordered_set>
#include <vector>

#include "common/small_distinct_set.h"
#include "common/status.h"
#include "graph/entity_selector.h"
#include "graph/service_graph.h"
#include "graph/trace_graph.h"
#include "xray/ids.h"

namespace roentgen::graph {

inline constexpr int64_t kMinuteUs = 60'000'000;
inline constexpr int64_t kMinutesPerHour = 60;

// Per-minute aggregates, minute index (start time / kMinuteUs, rounded down)
// → aggregate: the form in which the rollups are persisted and loaded. After
// FoldRollupMinutes(m, below), a key below `below` is the first minute of an
// hour and holds that whole hour.
using RollupMinutes = std::map<int64_t, GraphAggregate>;

// The minute index of a time in microseconds (rounded towards −∞).
int64_t RollupMinuteOf(int64_t us);

// Adds (+1) or subtracts (−1) every observation of `graph` in the minute it
// started, as RollupStore does. A subtraction from a minute or cell that is
// not there is skipped; a minute left empty is removed.
void AddToRollupMinutes(RollupMinutes& minutes, const TraceGraph& graph, int64_t sign);

// A copy of `graph` holding only what the rollups read: each node's key
// (name, type, account) and flags, each edge's ends, and each observation's
// times and outcome, without their strings. Adding or subtracting it changes
// the rollups as the whole graph does, so a writer that keeps a trace's graph
// only to subtract it later (Replace) keeps this cheaper copy.
TraceGraph RollupCopyOf(const TraceGraph& graph);

// Sums the minutes below `below_minute` (a multiple of kMinutesPerHour) per
// hour, each under its hour's first minute. Returns how many minutes were
// folded (an hour's first minute, already there, counts as folded too).
size_t FoldRollupMinutes(RollupMinutes& minutes, int64_t below_minute);

// The first minute of the hour that holds `minute` (rounded towards −∞).
int64_t RollupHourStart(int64_t minute);

struct RollupConfig {
  int64_t retention_us = 30LL * 24 * 3600 * 1'000'000;  // X-Ray keeps traces 30 days
  // Kept per minute for this long before now (Expire's), then per hour.
  // Six hours of bench/segment_gen traffic at 100 traces/s (about 320 KB a
  // minute, most of it the histograms) take about 115 MB, within max_bytes
  // with room for 30 days of hours.
  int64_t minute_window_us = 6LL * 3600 * 1'000'000;
  size_t max_bytes = size_t{256} << 20;
  Status Validate() const;
};

struct RollupStats {
  size_t minutes = 0;  // kept per minute
  size_t hours = 0;    // kept per hour (each the sum of its minutes)
  size_t bytes = 0;
  uint64_t folded_minutes = 0;        // minutes summed into their hour
  uint64_t evicted_minutes = 0;       // dropped for the memory cap (an hour counts 60)
  uint64_t skipped_observations = 0;  // fell in an expired or evicted minute
  bool rebuilding = false;
  uint64_t rebuilt_traces = 0;  // added by the current or last rebuild
  uint64_t loaded_minutes = 0;  // minutes taken from persisted rollups by Load()
};

// One point of GetTimeSeriesServiceStatistics.
struct TimeSeriesPoint {
  int64_t timestamp_us = 0;  // the start of the period
  std::optional<SummaryStatistics> edge_summary;
  std::optional<SummaryStatistics> service_summary;
  std::vector<HistogramEntry> response_time_histogram;
};

class RollupStore {
 public:
  explicit RollupStore(RollupConfig config = {});

  // Adds (+1) or subtracts (−1) every observation of `graph`.
  void Add(const TraceGraph& graph, int64_t sign);
  // Subtracts `old_graph` (if any) and adds `new_graph`, atomically for queries.
  // Only while no rebuild runs; the writer uses the overload below.
  void Replace(const TraceGraph* old_graph, const TraceGraph& new_graph);
  // The writer's change of trace `id`: `old_graph` is the graph of its stored
  // record (nullptr for a new trace), whose start time is `old_start_us`.
  void Replace(const xray::TraceId& id, const TraceGraph* old_graph, int64_t old_start_us,
               const TraceGraph& new_graph);

  // Adds rollups the store persisted (Store::LoadRollups) as of one moment:
  // call it before the writer's first Replace after that moment, instead of
  // a rebuild. Minutes older than the retention floor (after Expire) are
  // skipped, those before hourly_before_us() join their hour (folded ones,
  // each under its hour's first minute, as they are); the memory cap
  // applies as to any addition. `hourly_before_us`: where the given minutes'
  // hours end (Store::LoadRollups may sum more than was asked, for the
  // cap): the rollups keep hours up to there too.
  void Load(RollupMinutes minutes, int64_t hourly_before_us = std::numeric_limits<int64_t>::min());
  // Observations that start before this time are kept per hour (always the
  // start of an hour; INT64_MIN while everything is kept per minute). Set
  // by Expire(now) and by the memory cap; it only grows.
  int64_t hourly_before_us() const;
  size_t max_bytes() const { return config_.max_bytes; }

  // Rebuild at start-up, while the writer already runs. BeginRebuild() (a
  // no-op while one runs; after an abandoned one it starts afresh); then one
  // thread scans the stored records in ascending (start time, trace id)
  // order, from one snapshot of the store taken before the writer's first
  // commit, and passes each to AddRebuilt(); EndRebuild() when the scan is
  // done. (A trace committed before the snapshot but replaced here after the
  // scan passed it would be counted twice: hence the order.)
  //
  // Every trace ends up counted exactly once, whatever the interleaving: the
  // first change the writer makes to a trace during the rebuild notes its id;
  // if the scan has not reached the trace's stored record yet, the writer adds
  // the new graph without subtracting the old one, and the scan skips the
  // trace when it gets there (it is noted). A trace the scan has already
  // added is replaced as usual. The noted ids (~64 bytes each: the traces
  // written during the rebuild) are freed by EndRebuild().
  void BeginRebuild();
  // `start_us` and `id` are the record's position in the scan.
  void AddRebuilt(const TraceGraph& graph, int64_t start_us, const xray::TraceId& id);
  void EndRebuild();
  // The scan failed: the writer's bookkeeping stops (the noted ids are freed)
  // but rebuilding() stays true, as the rollups lack traces for good.
  void AbandonRebuild();
  // True from BeginRebuild() until EndRebuild(): the rollups may lack stored
  // traces, and queries should scan the traces instead.
  bool rebuilding() const;
  // Drops the minutes (and the hours, once all of them) that ended before
  // now − retention, and folds into hours the minutes of the hours that
  // ended before now − minute_window_us.
  void Expire(int64_t now_us);

  // GetServiceGraph over the minutes and hours that overlap [start_us, end_us).
  ServiceGraphResult QueryServiceGraph(int64_t start_us, int64_t end_us) const;

  // GetTimeSeriesServiceStatistics. A service selector gives the service's own
  // statistics and, as edge statistics, the sum of the edges into it; an edge
  // selector gives the edge's statistics only. `period_s` must be a positive
  // multiple of 60. Periods with no data are left out. An hour kept whole
  // counts in the period of its start.
  Result<std::vector<TimeSeriesPoint>> QueryTimeSeries(const EntitySelector& selector,
                                                       int64_t start_us, int64_t end_us,
                                                       int64_t period_s) const;

  RollupStats stats() const;

 private:
  void AddLocked(const TraceGraph& graph, int64_t sign);
  void ReplaceLocked(const TraceGraph* old_graph, const TraceGraph& new_graph);
  // The periods an addition changed, for the memory accounting, and the
  // minute MinuteFor found last (a trace's observations mostly share one).
  struct Touched {
    // Distinct, in the order added; the usual one or two in place.
    SmallDistinctSet<int64_t, 4> minutes;
    SmallDistinctSet<int64_t, 4> hours;
    int64_t last_minute = 0;
    GraphAggregate* last = nullptr;  // MinuteFor's answer for last_minute, when not null
  };
  GraphAggregate* MinuteFor(int64_t start_us, int64_t sign, Touched& touched);
  GraphAggregate* FindMinuteLocked(int64_t minute, int64_t sign, Touched& touched);
  void SettleLocked(const Touched& touched);
  // Sums every minute below `below_minute` (a multiple of kMinutesPerHour)
  // into its hour.
  void FoldBelowLocked(int64_t below_minute);
  void EnforceCapLocked();

  const RollupConfig config_;
  mutable std::shared_mutex mu_;
  std::map<int64_t, GraphAggregate> minutes_;  // minute index → aggregate; ≥ hour_floor_minute_
  std::map<int64_t, size_t> minute_bytes_;     // last accounted size of each minute
  // Hour index (first minute / 60) → aggregate, for the minutes below
  // hour_floor_minute_: hours and minutes never overlap.
  std::map<int64_t, GraphAggregate> hours_;
  std::map<int64_t, size_t> hour_bytes_;
  size_t bytes_ = 0;
  int64_t floor_minute_;       // minutes below this were dropped
  int64_t hour_floor_minute_;  // minutes below this are kept per hour
  RollupStats counters_;

  struct Rebuild {
    bool running = false;    // the writer keeps the bookkeeping
    bool abandoned = false;  // the scan failed; the rollups stay incomplete
    bool scanned_any = false;
    int64_t cursor_start_us = 0;  // the last position AddRebuilt was given
    xray::TraceId cursor_id;
    std::unordered_set<xray::TraceId, xray::TraceIdHash> changed;  // by the writer
    // True if the scan has passed (start_us, id): that record was added.
    bool Passed(int64_t start_us, const xray::TraceId& id) const;
    bool incomplete() const { return running || abandoned; }
  };
  Rebuild rebuild_;
};

}  // namespace roentgen::graph
