// Reading a counter of the metrics registry in the ingest tests.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/metrics.h"

namespace roentgen::ingest::testing {

// The counter's value (0 for one never incremented: the registry creates it).
inline uint64_t CounterValue(MetricsRegistry& registry, std::string_view name,
                             const Labels& labels = {}) {
  return registry.GetCounter(name, "", labels).Value();
}

}  // namespace roentgen::ingest::testing
