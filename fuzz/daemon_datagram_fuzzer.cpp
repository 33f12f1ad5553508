// Fuzzes a UDP datagram of the X-Ray daemon protocol as the ingest pipeline
// reads it: the header line ({"format":"json","version":1}) split off by
// xray::SplitDaemonDatagram, then the document parsed by xray::SegmentParser.
//
// Invariant: the document part is a suffix of the datagram after a newline.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "xray/segment_parser.h"

using namespace roentgen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static xray::SegmentParser parser;
  const std::string_view datagram(reinterpret_cast<const char*>(data), size);
  Result<std::string_view> body = xray::SplitDaemonDatagram(datagram);
  if (!body.ok()) {
    FUZZ_CHECK(!body.status().message().empty());
    return 0;
  }
  FUZZ_CHECK(body->size() < datagram.size());
  FUZZ_CHECK(body->data() + body->size() == datagram.data() + datagram.size());
  FUZZ_CHECK(body->data()[-1] == '\n');
  std::vector<xray::SegmentDocument> docs;
  xray::ParseFailure failure;
  if (parser.Parse(*body, docs, failure)) FUZZ_CHECK(!docs.empty());
  return 0;
}
