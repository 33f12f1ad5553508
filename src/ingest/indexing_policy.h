// The indexing rule as ingest applies it: which new traces become searchable
// summaries (found by GetTraceSummaries) and which are only kept, retrievable
// by id (BatchGetTraces, trace retrieval, the service graph). X-Ray's Default
// probabilistic rule: DesiredSamplingPercentage of the traces, decided by the
// random part of the trace id, so every segment of a trace and every writer
// decide alike. The writer decides once, when a trace is first stored, and
// keeps the decision in the trace's record: changing the percentage changes
// what happens to new traces only.
//
// Thread-safe: lock-free reads on the ingest path.
#pragma once

#include <atomic>
#include <cstdint>

#include "xray/ids.h"

namespace roentgen::ingest {

class IndexingPolicy {
 public:
  // `percentage` in [0, 100] (clamped).
  explicit IndexingPolicy(double percentage = 100.0) { SetPercentage(percentage); }

  void SetPercentage(double percentage);
  double percentage() const { return percentage_.load(std::memory_order_relaxed); }

  // Whether a trace stored for the first time is indexed; counted.
  bool Decide(const xray::TraceId& id);

  // New traces decided since start, and how many of them were indexed.
  uint64_t decided() const { return decided_.load(std::memory_order_relaxed); }
  uint64_t indexed() const { return indexed_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> percentage_{100.0};
  // A trace is indexed when the first 8 bytes of its id's random part, as a
  // big-endian number, are below this; all_ when the percentage is 100.
  std::atomic<uint64_t> threshold_{0};
  std::atomic<bool> all_{true};
  std::atomic<uint64_t> decided_{0};
  std::atomic<uint64_t> indexed_{0};
};

}  // namespace roentgen::ingest
