// Translates an OTLP ExportTraceServiceRequest into X-Ray segment documents,
// following X-Ray's own OTLP mapping (docs/otlp.md has every rule):
//  - SERVER and CONSUMER spans, and spans without a parent, become segments
//    named by the resource's service.name;
//  - CLIENT, PRODUCER and INTERNAL spans become subsegments, nested under their
//    parent span when it is in the same request; one whose parent is not
//    becomes an independent subsegment document (type, trace_id, parent_id);
//  - a document over X-Ray's 64 KB limit is split: its subsegments are sent as
//    independent subsegment documents.
// Spans that cannot be translated (malformed ids, no start time) are counted
// and explained, never silently dropped.
//
// Thread safety: Translate is a pure function of its inputs (plus the exception
// id generator, which must be thread-safe if shared).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "xray/segment.h"

namespace roentgen::otlp {

using ExportTraceServiceRequest =
    opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using ExportTraceServiceResponse =
    opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse;

struct TranslatorOptions {
  size_t max_stack_frames = 50;                         // per exception
  size_t max_document_bytes = xray::kMaxDocumentBytes;  // split past this
  size_t max_error_lines = 10;                          // explanations kept
  // Ids of cause.exceptions[] entries (16 hex); default: random.
  std::function<std::string()> new_exception_id;
};

struct TranslatedDocument {
  std::string json;       // one X-Ray segment or independent subsegment document
  std::string id;         // its top-level id (the span id)
  size_t span_count = 0;  // spans it carries (itself + nested subsegments)
};

struct Translation {
  std::vector<TranslatedDocument> documents;
  int64_t total_spans = 0;
  int64_t rejected_spans = 0;
  std::vector<std::string> errors;  // at most max_error_lines explanations
  bool errors_truncated = false;    // some rejections are not explained
};

Translation Translate(const ExportTraceServiceRequest& request,
                      const TranslatorOptions& options = {});

// "1-" + first 8 hex + "-" + last 24 hex of a 16-byte OTLP trace id.
std::string XRayTraceId(const std::string& otlp_trace_id);

}  // namespace roentgen::otlp
