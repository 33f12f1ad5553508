// Realistic X-Ray segment documents for benchmarks: about 1 KB each, a segment
// with an http block, a user, annotations of high and low cardinality, metadata
// and three subsegments (a remote call, an AWS call, a local one).
// Not thread-safe: one generator per thread.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace roentgen::bench {

class SegmentGenerator {
 public:
  // `seeded_ids`: the trace and segment ids drawn from `seed` too, so that
  // the documents (and what is made of them) are the same run after run;
  // otherwise they are random, as a client makes them.
  explicit SegmentGenerator(uint64_t seed, bool seeded_ids = false);
  // A complete segment document of a new trace whose start is `epoch_seconds`.
  std::string Next(double epoch_seconds);

 private:
  std::string TraceId(double epoch_seconds);
  std::string SegmentId();

  std::mt19937_64 rng_;
  std::mt19937_64 id_rng_;
  bool seeded_ids_;
  uint64_t counter_ = 0;
};

}  // namespace roentgen::bench
