// X-Ray ids and the X-Amzn-Trace-Id header, for Roentgen's C++ X-Ray SDK.
//
// Ids: a trace id is "1-" + 8 hex digits (epoch seconds) + "-" + 24 hex
// digits, a segment id 16 hex digits; both always lowercase and zero-padded.
// The header: "Root=1-…;Parent=…;Sampled=1;Lineage=…", fields in any order;
// unknown fields are kept, in order, so a service can pass them on.
// Everything here is a plain value type: thread-safe as values are.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roentgen::sdk {

struct TraceId {
  uint32_t epoch = 0;                // the first 8 hex digits
  std::array<uint8_t, 12> random{};  // the last 24

  static TraceId Generate();  // epoch = now
  // "1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx" (either case); nullopt otherwise.
  static std::optional<TraceId> Parse(std::string_view text);
  std::string ToString() const;  // 35 characters, lowercase
  void AppendTo(std::string& out) const;
  bool operator==(const TraceId&) const = default;
};

struct SegmentId {
  uint64_t value = 0;

  static SegmentId Generate();                                   // random, never zero
  static std::optional<SegmentId> Parse(std::string_view text);  // 16 hex digits
  std::string ToString() const;  // 16 characters, lowercase, zero-padded
  void AppendTo(std::string& out) const;
  bool operator==(const SegmentId&) const = default;
};

enum class Sampled { kUnknown, kYes, kNo, kRequested /* "Sampled=?" */ };

// The X-Amzn-Trace-Id header's fields.
struct TraceHeader {
  static constexpr std::string_view kName = "X-Amzn-Trace-Id";

  std::optional<TraceId> root;
  std::optional<SegmentId> parent;
  Sampled sampled = Sampled::kUnknown;
  std::string lineage;  // kept as received, e.g. "a87bd80c:1|68fd508a:5"
  std::vector<std::pair<std::string, std::string>> extra;  // unknown fields (Self=… too)

  // Lenient as the X-Ray SDKs are: spaces around fields are ignored, a
  // malformed Root or Parent is dropped (so a new trace starts) rather than
  // failing the request. nullopt only when no field at all could be read.
  static std::optional<TraceHeader> Parse(std::string_view header);
  // "Root=…;Parent=…;Sampled=…;Lineage=…;k=v", only the fields that are set.
  std::string ToString() const;
};

}  // namespace roentgen::sdk
