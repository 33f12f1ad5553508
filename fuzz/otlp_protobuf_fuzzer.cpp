// Fuzzes OTLP protobuf request decoding (ExportTraceServiceRequest, as
// OTLP/HTTP and OTLP/gRPC receive it) and the span → X-Ray segment
// translation (otlp_fuzz.h has the invariants).
#include "otlp_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return roentgen::fuzz::FuzzOtlp(data, size, roentgen::otlp::Encoding::kProtobuf);
}
