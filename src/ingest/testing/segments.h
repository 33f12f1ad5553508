// Segment documents for the ingest and API unit tests.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>

namespace roentgen::ingest::testing {

// "1-5f5e1000-" + 24 hex digits of `n`.
inline std::string TraceIdText(uint64_t n) { return fmt::format("1-5f5e1000-{:024x}", n); }
// 16 hex digits of `n`.
inline std::string SegmentIdText(uint64_t n) { return fmt::format("{:016x}", n); }

// A segment document; `end` empty → in progress. `extra` is appended inside the
// object (start it with a comma).
inline std::string SegmentJson(const std::string& trace_id, const std::string& id, double start,
                               std::optional<double> end, const std::string& extra = "",
                               const std::string& name = "web") {
  std::string times = end ? fmt::format(R"("start_time":{:.6f},"end_time":{:.6f})", start, *end)
                          : fmt::format(R"("start_time":{:.6f},"in_progress":true)", start);
  return fmt::format(R"({{"name":"{}","id":"{}","trace_id":"{}",{}{}}})", name, id, trace_id, times,
                     extra);
}

// An independently sent subsegment of `parent_id`.
inline std::string SubsegmentJson(const std::string& trace_id, const std::string& id,
                                  const std::string& parent_id, double start, double end,
                                  const std::string& name = "db") {
  return fmt::format(
      R"({{"name":"{}","id":"{}","trace_id":"{}","parent_id":"{}","type":"subsegment",)"
      R"("start_time":{:.6f},"end_time":{:.6f}}})",
      name, id, trace_id, parent_id, start, end);
}

inline std::string Datagram(const std::string& document) {
  return "{\"format\":\"json\",\"version\":1}\n" + document;
}

}  // namespace roentgen::ingest::testing
