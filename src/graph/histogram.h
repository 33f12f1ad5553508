// Response-time and duration histograms as X-Ray reports them: a list of
// {Value (seconds), Count}.
//
// Durations are put in buckets whose width grows with the value, so memory is
// bounded (at most kHistogramBuckets entries) while short calls keep 1 ms
// resolution: 1 ms below 1 s, 10 ms below 10 s, 100 ms below 100 s, 1 s below
// 1,000 s, 10 s below 10,000 s, 100 s below 100,000 s; longer durations fall in
// the last bucket. A bucket's Value is its lower bound. X-Ray documents no
// bucket rule; this one is ours (docs/service-map.md).
//
// SparseHistogram holds signed counts so rollups can subtract a trace's old
// graph; an entry whose count reaches zero is removed. Plain value type,
// thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace roentgen::graph {

inline constexpr uint32_t kHistogramBuckets = 5'500;

// The bucket of a duration; negative durations count as zero.
uint32_t HistogramBucket(int64_t duration_us);
// The lower bound of a bucket, in microseconds.
int64_t HistogramBucketLowerUs(uint32_t bucket);

struct HistogramEntry {
  double value = 0;  // seconds
  int64_t count = 0;
  bool operator==(const HistogramEntry&) const = default;
};

class SparseHistogram {
 public:
  using Entry = std::pair<uint16_t, int64_t>;  // bucket, count

  // Adds `delta` to a bucket. Returns +1 if an entry was created, −1 if one was
  // removed (its count reached zero), 0 otherwise.
  int Add(uint32_t bucket, int64_t delta);
  int AddDuration(int64_t duration_us, int64_t delta) {
    return Add(HistogramBucket(duration_us), delta);
  }
  // Adds every count of `other` times `sign`, in one linear merge.
  void Merge(const SparseHistogram& other, int64_t sign = 1);

  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  int64_t TotalCount() const;
  void Clear() { entries_.clear(); }
  void Append(uint16_t bucket, int64_t count) { entries_.emplace_back(bucket, count); }
  // Room for `n` entries: a decoder or a sum that knows its count appends
  // without regrowing, and holds no more than it needs.
  void Reserve(size_t n) { entries_.reserve(n); }
  // Entries with a positive count, ascending by value.
  std::vector<HistogramEntry> ToEntries() const;

 private:
  std::vector<Entry> entries_;  // sorted by bucket, no zero counts
};

// The sum of many histograms, accumulated densely in one pass over their
// entries (much cheaper than pairwise merges when there are many parts).
SparseHistogram SumHistograms(const std::vector<const SparseHistogram*>& parts);

}  // namespace roentgen::graph
