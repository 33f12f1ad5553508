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
  explicit SegmentGenerator(uint64_t seed);
  // A complete segment document of a new trace whose start is `epoch_seconds`.
  std::string Next(double epoch_seconds);

 private:
  std::mt19937_64 rng_;
  uint64_t counter_ = 0;
};

}  // namespace roentgen::bench
