// Fuzzes the X-Ray segment parser (xray::SegmentParser: a document, or an
// array of independent subsegments) and what ingest and BatchGetTraces run on
// every document it accepts: trace assembly, the trace summary, the trace
// graph, the stored record's encoding and the merge of a trace's documents.
//
// Also the id scan of documents too large to parse (xray::ScanDocumentId),
// run on every input: libFuzzer's inputs stay far below the 64 KB limit.
//
// Invariants: a rejected document yields nothing and a message; an accepted
// one yields at least one entity, each entity's raw text is accepted again on
// its own as the same entity; a record decodes to what was encoded; merged
// documents are JSON; a scanned id is short printable ASCII.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "graph/trace_graph.h"
#include "store/record_codec.h"
#include "xray/document_id.h"
#include "xray/document_merge.h"
#include "xray/segment_parser.h"
#include "xray/trace.h"

using namespace roentgen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static xray::SegmentParser parser;
  static xray::SegmentParser reparser;
  const std::string_view json(reinterpret_cast<const char*>(data), size);

  const std::string scanned_id = xray::ScanDocumentId(json);
  FUZZ_CHECK(scanned_id.size() <= xray::kMaxReportedIdChars);
  for (char c : scanned_id) FUZZ_CHECK(c >= 0x20 && c <= 0x7e);

  std::vector<xray::SegmentDocument> docs;
  xray::ParseFailure failure;
  if (!parser.Parse(json, docs, failure)) {
    FUZZ_CHECK(docs.empty());
    FUZZ_CHECK(!failure.message.empty());
    return 0;
  }
  FUZZ_CHECK(!docs.empty());
  for (const xray::SegmentDocument& doc : docs) {
    FUZZ_CHECK(doc.entity.trace_id.has_value());
    std::vector<xray::SegmentDocument> again;
    FUZZ_CHECK(reparser.Parse(doc.raw, again, failure));
    FUZZ_CHECK(again.size() == 1);
    FUZZ_CHECK(again[0].entity.id == doc.entity.id);
  }

  // The documents of the first document's trace, as the writer assembles them.
  std::vector<xray::ReceivedDocument> received;
  const xray::TraceId trace_id = *docs[0].entity.trace_id;
  int64_t received_us = 1'700'000'000'000'000;
  for (xray::SegmentDocument& doc : docs) {
    if (*doc.entity.trace_id == trace_id) received.push_back({std::move(doc), received_us++});
  }
  std::vector<const xray::ReceivedDocument*> pointers;
  for (const xray::ReceivedDocument& r : received) pointers.push_back(&r);
  const xray::AssembledTrace assembled = xray::AssembleTrace(trace_id, pointers);
  const store::TraceRecord record{xray::Summarize(assembled), graph::DeriveTraceGraph(assembled)};

  std::string encoded;
  store::EncodeTraceRecord(record, encoded);
  Result<store::TraceRecord> decoded = store::DecodeTraceRecord(encoded);
  FUZZ_CHECK(decoded.ok());
  std::string reencoded;
  store::EncodeTraceRecord(*decoded, reencoded);
  FUZZ_CHECK(reencoded == encoded);

  Result<std::vector<xray::MergedDocument>> merged = xray::MergeDocuments(assembled, pointers);
  if (merged.ok()) {
    // nlohmann's parser: it accepts integers beyond 64 bits, as JSON does.
    for (const xray::MergedDocument& m : *merged) FUZZ_CHECK(nlohmann::json::accept(m.json));
  }
  return 0;
}
