// The X-Amzn-Trace-Id header: "Root=1-…;Parent=…;Sampled=1", fields in any order,
// optional Self= and Lineage=, unknown key=value pairs kept in order so they can be
// passed on. Parsing never throws; a malformed header yields a Status naming the fault.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "xray/ids.h"

namespace roentgen::xray {

enum class SampledDecision { kUnset, kSampled, kNotSampled, kRequested /* "?" */ };

struct TraceHeader {
  std::optional<TraceId> root;
  std::optional<SegmentId> parent;
  SampledDecision sampled = SampledDecision::kUnset;
  std::string self;     // as received, e.g. "1-67891234-12456789abcdef012345678"
  std::string lineage;  // as received, e.g. "a87bd80c:1|68fd508a:5"
  std::vector<std::pair<std::string, std::string>> extra;  // unknown keys, in order

  // Accepts spaces around fields and '=' ; rejects empty keys, duplicate known keys,
  // a bad Root/Parent id, and Sampled values other than 0, 1 or ?.
  static Result<TraceHeader> Parse(std::string_view header);
  // "Root=…;Parent=…;Sampled=…;Self=…;Lineage=…;k=v": only fields that are set.
  std::string ToString() const;
};

}  // namespace roentgen::xray
