// OTLP/HTTP bodies: content-type negotiation, decoding an
// ExportTraceServiceRequest from protobuf or OTLP/JSON, and encoding responses.
//
// OTLP/JSON is protobuf's JSON mapping with OTLP's differences: trace and span
// ids are hex strings (not base64), enums may be integers, 64-bit integers may
// be strings, field names are lowerCamelCase (the original snake_case names are
// accepted too) and unknown fields are ignored.
// Pure functions, thread-safe. Errors: InvalidArgument, naming what is wrong.
#pragma once

#include <google/protobuf/arena.h>

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "otlp/translator.h"

namespace roentgen::otlp {

enum class Encoding { kProtobuf, kJson };

// "application/x-protobuf" or "application/json" (case-insensitive, parameters
// such as "; charset=utf-8" ignored); anything else → nullopt.
std::optional<Encoding> EncodingFromContentType(std::string_view content_type);
std::string_view ContentType(Encoding encoding);

// Decodes into `request` (on error it holds whatever was decoded before it).
Status DecodeRequest(std::string_view body, Encoding encoding, ExportTraceServiceRequest& request);

// An empty request on its own arena, sized for a body of `body_bytes`. A
// 512-span batch decodes into thousands of messages and strings: on an arena
// each is a pointer bump and all are freed at once, where the heap would
// allocate and free each (docs/benchmarks.md, Round 5).
class ArenaRequest {
 public:
  explicit ArenaRequest(size_t body_bytes);
  ExportTraceServiceRequest& request() { return *request_; }

 private:
  google::protobuf::Arena arena_;
  ExportTraceServiceRequest* request_;
};

std::string EncodeResponse(const ExportTraceServiceResponse& response, Encoding encoding);

// An error body: google.rpc.Status {code, message} in the given encoding.
std::string EncodeError(int grpc_code, std::string_view message, Encoding encoding);

}  // namespace roentgen::otlp
