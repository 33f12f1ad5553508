// X-Ray trace and segment ids: generation, parsing, text and binary forms.
//
// Trace id text: "1-" + 8 hex (epoch seconds, NOT validated: OpenTelemetry ids put
// random bits there) + "-" + 24 hex. Segment id: 16 hex. Text output is always
// lowercase and zero-padded; parsing accepts either case.
// Binary form (store keys): trace id 16 bytes (4 epoch bytes big-endian + 12 random),
// segment id 8 bytes big-endian. All types are plain values, thread-safe.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace roentgen::xray {

struct TraceId {
  std::array<uint8_t, 16> bytes{};  // [0,4): epoch part, [4,16): random part

  static constexpr size_t kTextSize = 35;  // "1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx"

  // A new id whose epoch part is `epoch_seconds` and whose 96 other bits are random.
  static TraceId Generate(uint32_t epoch_seconds);
  // Parses "1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx"; the error says what is wrong.
  static Result<TraceId> Parse(std::string_view text);
  // From a W3C / OpenTelemetry 32-hex trace id.
  static Result<TraceId> FromW3C(std::string_view hex32);
  static TraceId FromBinary(const uint8_t* bytes16);

  uint32_t epoch_part() const;  // big-endian bytes [0,4)
  std::string ToString() const;
  void AppendTo(std::string& out) const;
  std::string ToW3C() const;  // 32 lowercase hex
  bool IsZero() const;

  auto operator<=>(const TraceId&) const = default;
};

struct SegmentId {
  uint64_t value = 0;

  static constexpr size_t kTextSize = 16;

  static SegmentId Generate();  // never zero
  static Result<SegmentId> Parse(std::string_view text);
  static SegmentId FromBinary(const uint8_t* bytes8);  // big-endian

  std::string ToString() const;
  void AppendTo(std::string& out) const;
  // ToString's kTextSize characters at `out`, without a terminator (no
  // string: 16 characters are past the short-string buffer).
  void WriteText(char* out) const;
  void ToBinary(uint8_t* out8) const;  // big-endian

  auto operator<=>(const SegmentId&) const = default;
};

struct TraceIdHash {
  size_t operator()(const TraceId& id) const noexcept;
};

}  // namespace roentgen::xray
