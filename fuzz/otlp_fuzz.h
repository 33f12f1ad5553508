// The body of the two OTLP fuzz targets (otlp_protobuf_fuzzer.cpp,
// otlp_json_fuzzer.cpp): decode an ExportTraceServiceRequest as the OTLP/HTTP
// handler does (on an arena), translate it into X-Ray documents, and parse
// each document as the ingest pipeline then does.
//
// Invariants: every span is either in a document or counted as rejected;
// every document is JSON that the segment parser accepts (a refused document
// would lose valid spans).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "otlp/otlp_decode.h"
#include "otlp/translator.h"
#include "xray/segment_parser.h"

namespace roentgen::fuzz {

inline int FuzzOtlp(const uint8_t* data, size_t size, otlp::Encoding encoding) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  otlp::ArenaRequest decoded(body.size());
  if (Status s = otlp::DecodeRequest(body, encoding, decoded.request()); !s.ok()) {
    FUZZ_CHECK(!s.message().empty());
    return 0;
  }
  otlp::TranslatorOptions options;
  options.new_exception_id = [] { return std::string("0123456789abcdef"); };
  const otlp::Translation t = otlp::Translate(decoded.request(), options);
  int64_t translated = 0;
  static xray::SegmentParser parser;
  for (const otlp::TranslatedDocument& d : t.documents) {
    translated += static_cast<int64_t>(d.span_count);
    std::vector<xray::SegmentDocument> docs;
    xray::ParseFailure failure;
    if (!parser.Parse(d.json, docs, failure)) {
      std::fprintf(stderr, "translated document refused: %s\n%s\n", failure.message.c_str(),
                   d.json.c_str());
      FUZZ_CHECK(false);
    }
  }
  FUZZ_CHECK(translated + t.rejected_spans == t.total_spans);
  return 0;
}

}  // namespace roentgen::fuzz
