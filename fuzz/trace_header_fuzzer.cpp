// Fuzzes the X-Amzn-Trace-Id header parser (xray::TraceHeader::Parse).
//
// Invariant: a header that parses prints (ToString) as a header that parses
// to the same fields, and prints the same again (or as "" when it has only
// empty Self= / Lineage= fields, which ToString leaves out).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "xray/trace_header.h"

using namespace roentgen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<xray::TraceHeader> header = xray::TraceHeader::Parse(text);
  if (!header.ok()) {
    FUZZ_CHECK(!header.status().message().empty());
    return 0;
  }
  const std::string printed = header->ToString();
  if (printed.empty()) {
    FUZZ_CHECK(!header->root && !header->parent);
    FUZZ_CHECK(header->sampled == xray::SampledDecision::kUnset);
    FUZZ_CHECK(header->self.empty() && header->lineage.empty() && header->extra.empty());
    return 0;
  }
  Result<xray::TraceHeader> again = xray::TraceHeader::Parse(printed);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->root == header->root);
  FUZZ_CHECK(again->parent == header->parent);
  FUZZ_CHECK(again->sampled == header->sampled);
  FUZZ_CHECK(again->self == header->self);
  FUZZ_CHECK(again->lineage == header->lineage);
  FUZZ_CHECK(again->extra == header->extra);
  FUZZ_CHECK(again->ToString() == printed);
  return 0;
}
