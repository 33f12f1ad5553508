// X-Ray segment documents as OpenTelemetry spans in OTLP/JSON: the way out of
// Roentgen in OpenTelemetry's format (ListRetrievedTraces with TraceFormat
// OTEL). The inverse of translator.h's mapping where one exists
// (docs/otlp.md "Export"):
//  - every segment and subsegment becomes one span: segments SERVER,
//    subsegments in the `aws` or `remote` namespace CLIENT, others INTERNAL;
//    the span's parent is the enclosing entity (or the document's parent_id);
//  - the X-Ray trace id becomes the 32-hex OpenTelemetry id (the id without
//    its dashes), ids and times are kept (times in nanoseconds; an
//    in-progress entity has end time 0, as translator.h reads it);
//  - the segment's name is the resource's service.name; its origin, service
//    version, account and SDK become resource attributes;
//  - http, sql, aws, user, annotations (listed again in aws.xray.annotations)
//    and metadata become span attributes; exceptions become `exception`
//    events; a fault sets status ERROR; links become span links.
// Each span is written as a whole OTLP/JSON ExportTraceServiceRequest
// holding that one span with its resource and scope, so any OTLP/HTTP JSON
// receiver (Roentgen's /v1/traces included) takes it as it is.
//
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "xray/ids.h"

namespace roentgen::otlp {

struct OtlpJsonSpan {
  std::string span_id;   // 16 hex, the entity's id
  std::string document;  // {"resourceSpans":[…]} with this one span
};

// The spans of one top-level X-Ray document (a segment, or a subsegment sent
// on its own, with its nested subsegments), depth first in document order.
// InvalidArgument when `document` is not a JSON object or an entity has no
// valid id.
Result<std::vector<OtlpJsonSpan>> XRayDocumentToOtlpJson(const xray::TraceId& trace_id,
                                                         std::string_view document);

}  // namespace roentgen::otlp
