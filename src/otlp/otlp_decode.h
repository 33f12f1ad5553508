// OTLP/HTTP bodies: content-type negotiation, decoding an
// ExportTraceServiceRequest from protobuf or OTLP/JSON, and encoding responses.
//
// OTLP/JSON is protobuf's JSON mapping with OTLP's differences: trace and span
// ids are hex strings (not base64), enums may be integers, 64-bit integers may
// be strings, field names are lowerCamelCase (the original snake_case names are
// accepted too) and unknown fields are ignored.
// Pure functions, thread-safe. Errors: InvalidArgument, naming what is wrong.
#pragma once

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

Result<ExportTraceServiceRequest> DecodeRequest(std::string_view body, Encoding encoding);

std::string EncodeResponse(const ExportTraceServiceResponse& response, Encoding encoding);

// An error body: google.rpc.Status {code, message} in the given encoding.
std::string EncodeError(int grpc_code, std::string_view message, Encoding encoding);

}  // namespace roentgen::otlp
