// Classification and counting of observations. See statistics.h.
#include "graph/statistics.h"

#include <algorithm>

namespace roentgen::graph {

Outcome Classify(const Observation& obs) {
  if (!obs.end_us) return Outcome::kPending;
  if (obs.fault) return Outcome::kFault;
  if (obs.throttle) return Outcome::kThrottle;
  if (obs.error) return Outcome::kErrorOther;
  return Outcome::kOk;
}

void Counters::Add(const Observation& obs, int64_t sign) {
  const Outcome outcome = Classify(obs);
  switch (outcome) {
    case Outcome::kPending:
      return;
    case Outcome::kOk:
      ok += sign;
      break;
    case Outcome::kThrottle:
      throttle += sign;
      break;
    case Outcome::kErrorOther:
      error_other += sign;
      break;
    case Outcome::kFault:
      fault += sign;
      break;
  }
  total += sign;
  response_us += sign * (*obs.end_us - obs.start_us);
}

void Counters::Merge(const Counters& other, int64_t sign) {
  ok += sign * other.ok;
  throttle += sign * other.throttle;
  error_other += sign * other.error_other;
  fault += sign * other.fault;
  total += sign * other.total;
  response_us += sign * other.response_us;
}

SummaryStatistics Counters::ToSummary() const {
  SummaryStatistics s;
  s.ok_count = ok;
  s.error_statistics = {throttle, error_other, throttle + error_other};
  s.fault_statistics = {fault, fault};
  s.total_count = total;
  s.total_response_time = static_cast<double>(response_us) / 1e6;
  return s;
}

int Cell::AddObservation(const Observation& obs, std::optional<int64_t> trace_duration_us,
                         bool root, int64_t sign) {
  counters.Add(obs, sign);
  observations += sign;
  if (root) roots += sign;
  int entries = 0;
  if (sign > 0) {
    first_start_us = std::min(first_start_us, obs.start_us);
    if (obs.end_us) last_end_us = std::max(last_end_us, *obs.end_us);
  }
  if (obs.end_us) {
    entries += response_time.AddDuration(*obs.end_us - obs.start_us, sign);
    if (trace_duration_us) entries += duration.AddDuration(*trace_duration_us, sign);
  }
  return entries;
}

void Cell::Merge(const Cell& other) {
  counters.Merge(other.counters);
  observations += other.observations;
  roots += other.roots;
  first_start_us = std::min(first_start_us, other.first_start_us);
  last_end_us = std::max(last_end_us, other.last_end_us);
  response_time.Merge(other.response_time);
  duration.Merge(other.duration);
}

}  // namespace roentgen::graph
