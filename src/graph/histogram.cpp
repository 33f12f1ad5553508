// Bucketing and merging of service-graph histograms. See histogram.h.
#include "graph/histogram.h"

#include <algorithm>
#include <array>
#include <limits>

namespace roentgen::graph {
namespace {

struct Range {
  int64_t lower_us;  // first value of the range
  int64_t step_us;   // bucket width inside it
  uint32_t first;    // index of its first bucket
};

// Each range spans 900 buckets except the first (1,000 one-millisecond buckets).
constexpr std::array<Range, 6> kRanges = {{
    {0, 1'000, 0},
    {1'000'000, 10'000, 1'000},
    {10'000'000, 100'000, 1'900},
    {100'000'000, 1'000'000, 2'800},
    {1'000'000'000, 10'000'000, 3'700},
    {10'000'000'000, 100'000'000, 4'600},
}};

}  // namespace

uint32_t HistogramBucket(int64_t duration_us) {
  if (duration_us <= 0) return 0;
  for (size_t i = kRanges.size(); i-- > 0;) {
    const Range& r = kRanges[i];
    if (duration_us >= r.lower_us) {
      const int64_t index = r.first + (duration_us - r.lower_us) / r.step_us;
      return static_cast<uint32_t>(std::min<int64_t>(index, kHistogramBuckets - 1));
    }
  }
  return 0;
}

int64_t HistogramBucketLowerUs(uint32_t bucket) {
  bucket = std::min(bucket, kHistogramBuckets - 1);
  for (size_t i = kRanges.size(); i-- > 0;) {
    const Range& r = kRanges[i];
    if (bucket >= r.first) return r.lower_us + static_cast<int64_t>(bucket - r.first) * r.step_us;
  }
  return 0;
}

int SparseHistogram::Add(uint32_t bucket, int64_t delta) {
  if (delta == 0) return 0;
  const auto key = static_cast<uint16_t>(std::min(bucket, kHistogramBuckets - 1));
  auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                             [](const Entry& e, uint16_t k) { return e.first < k; });
  if (it != entries_.end() && it->first == key) {
    it->second += delta;
    if (it->second == 0) {
      entries_.erase(it);
      return -1;
    }
    return 0;
  }
  entries_.insert(it, {key, delta});
  return 1;
}

void SparseHistogram::Merge(const SparseHistogram& other, int64_t sign) {
  if (other.entries_.empty() || sign == 0) return;
  std::vector<Entry> merged;
  merged.reserve(entries_.size() + other.entries_.size());
  auto a = entries_.begin();
  auto b = other.entries_.begin();
  while (a != entries_.end() || b != other.entries_.end()) {
    if (b == other.entries_.end() || (a != entries_.end() && a->first < b->first)) {
      merged.push_back(*a++);
    } else if (a == entries_.end() || b->first < a->first) {
      merged.emplace_back(b->first, b->second * sign);
      ++b;
    } else {
      const int64_t count = a->second + b->second * sign;
      if (count != 0) merged.emplace_back(a->first, count);
      ++a;
      ++b;
    }
  }
  entries_ = std::move(merged);
}

int64_t SparseHistogram::TotalCount() const {
  int64_t total = 0;
  for (const Entry& e : entries_) total += e.second;
  return total;
}

std::vector<HistogramEntry> SparseHistogram::ToEntries() const {
  std::vector<HistogramEntry> out;
  out.reserve(entries_.size());
  for (const Entry& e : entries_) {
    if (e.second > 0) {
      out.push_back({static_cast<double>(HistogramBucketLowerUs(e.first)) / 1e6, e.second});
    }
  }
  return out;
}

SparseHistogram SumHistograms(const std::vector<const SparseHistogram*>& parts) {
  SparseHistogram out;
  if (parts.size() == 1) {
    out = *parts[0];
    return out;
  }
  thread_local std::vector<int64_t> dense(kHistogramBuckets, 0);
  thread_local std::vector<uint8_t> seen(kHistogramBuckets, 0);
  std::vector<uint16_t> touched;
  uint16_t lowest = std::numeric_limits<uint16_t>::max();
  uint16_t highest = 0;
  for (const SparseHistogram* part : parts) {
    for (const auto& [bucket, count] : part->entries()) {
      if (!seen[bucket]) {
        seen[bucket] = 1;
        touched.push_back(bucket);
        lowest = std::min(lowest, bucket);
        highest = std::max(highest, bucket);
      }
      dense[bucket] += count;
    }
  }
  if (touched.empty()) return out;
  out.Reserve(touched.size());
  auto take = [&out](uint16_t bucket) {
    if (dense[bucket] != 0) out.Append(bucket, dense[bucket]);
    dense[bucket] = 0;
    seen[bucket] = 0;
  };
  // Busy cells touch most buckets of their range (1 ms ones): a pass over
  // the range then costs less than sorting the buckets touched.
  if (touched.size() * 8 >= static_cast<size_t>(highest - lowest) + 1) {
    for (uint32_t bucket = lowest; bucket <= highest; ++bucket) {
      if (seen[bucket]) take(static_cast<uint16_t>(bucket));
    }
    return out;
  }
  std::sort(touched.begin(), touched.end());
  for (uint16_t bucket : touched) take(bucket);
  return out;
}

}  // namespace roentgen::graph
