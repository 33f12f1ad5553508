// Summary statistics of a service-graph node or edge, as X-Ray defines them:
// OkCount, ErrorStatistics {ThrottleCount, OtherCount, TotalCount},
// FaultStatistics {OtherCount, TotalCount}, TotalCount, TotalResponseTime.
//
// One completed observation (a segment, or a call seen by its caller) counts
// once: as a fault if `fault` (5xx), else as a throttle if `throttle` (429),
// else as an other error if `error` (4xx), else as ok. So
// OkCount + ErrorStatistics.TotalCount + FaultStatistics.TotalCount = TotalCount,
// and an error's TotalCount includes its throttles. Roentgen keeps no per-status
// breakdown of faults, so FaultStatistics.OtherCount = TotalCount. Observations
// still in progress are not counted (they have no response time yet).
//
// Cell is the mergeable aggregate of one node or edge: exact signed counters
// (so a trace's old graph can be subtracted), histograms, and the time span.
// Plain value types, thread-compatible.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>

#include "graph/histogram.h"
#include "graph/trace_graph.h"

namespace roentgen::graph {

struct ErrorStatistics {
  int64_t throttle_count = 0;
  int64_t other_count = 0;
  int64_t total_count = 0;
  bool operator==(const ErrorStatistics&) const = default;
};

struct FaultStatistics {
  int64_t other_count = 0;
  int64_t total_count = 0;
  bool operator==(const FaultStatistics&) const = default;
};

struct SummaryStatistics {
  int64_t ok_count = 0;
  ErrorStatistics error_statistics;
  FaultStatistics fault_statistics;
  int64_t total_count = 0;
  double total_response_time = 0;  // seconds
  bool operator==(const SummaryStatistics&) const = default;
};

enum class Outcome { kPending, kOk, kThrottle, kErrorOther, kFault };

Outcome Classify(const Observation& obs);

// Exact, signed counters; response times in integer microseconds.
struct Counters {
  int64_t ok = 0;
  int64_t throttle = 0;
  int64_t error_other = 0;
  int64_t fault = 0;
  int64_t total = 0;
  int64_t response_us = 0;

  void Add(const Observation& obs, int64_t sign);
  void Merge(const Counters& other, int64_t sign = 1);
  SummaryStatistics ToSummary() const;
  bool operator==(const Counters&) const = default;
};

struct Cell {
  Counters counters;
  int64_t observations = 0;  // including those in progress; the cell exists while > 0
  int64_t roots = 0;         // observations of a root node
  // Earliest start and latest end ever added: not undone by a subtraction.
  int64_t first_start_us = std::numeric_limits<int64_t>::max();
  int64_t last_end_us = std::numeric_limits<int64_t>::min();
  SparseHistogram response_time;  // per completed observation: end − start
  SparseHistogram duration;       // nodes only: the trace's duration, per observation

  // Returns the change in histogram entries (for memory accounting).
  int AddObservation(const Observation& obs, std::optional<int64_t> trace_duration_us, bool root,
                     int64_t sign);
  void Merge(const Cell& other);
};

}  // namespace roentgen::graph
