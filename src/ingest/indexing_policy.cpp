#include "ingest/indexing_policy.h"

#include <algorithm>
#include <cmath>

namespace roentgen::ingest {

void IndexingPolicy::SetPercentage(double percentage) {
  if (!(percentage >= 0)) percentage = 0;  // NaN too
  percentage = std::min(percentage, 100.0);
  // 2^64 × p / 100, computed in long double (exact enough: the error is far
  // below one trace in a billion).
  const long double scaled = std::ldexp(static_cast<long double>(percentage) / 100.0L, 64);
  threshold_.store(percentage >= 100.0 ? UINT64_MAX : static_cast<uint64_t>(scaled),
                   std::memory_order_relaxed);
  all_.store(percentage >= 100.0, std::memory_order_relaxed);
  percentage_.store(percentage, std::memory_order_relaxed);
}

bool IndexingPolicy::Decide(const xray::TraceId& id) {
  bool indexed = all_.load(std::memory_order_relaxed);
  if (!indexed) {
    uint64_t x = 0;
    for (size_t i = 4; i < 12; ++i) x = (x << 8) | id.bytes[i];
    indexed = x < threshold_.load(std::memory_order_relaxed);
  }
  decided_.fetch_add(1, std::memory_order_relaxed);
  if (indexed) indexed_.fetch_add(1, std::memory_order_relaxed);
  return indexed;
}

}  // namespace roentgen::ingest
