// The typed model of an X-Ray segment document (and its subsegments).
//
// One `Entity` type serves segments and subsegments alike (X-Ray gives them the
// same base fields). Times are integer microseconds since the epoch. Free-form
// JSON (metadata, unknown aws/service sub-blocks) is kept as raw JSON text.
// Plain values: copyable, movable, no hidden sharing; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "xray/ids.h"

namespace roentgen::xray {

// Document limits X-Ray enforces (see shared/xray/README.md).
inline constexpr size_t kMaxDocumentBytes = 64 * 1024;
inline constexpr size_t kMaxNameChars = 200;
inline constexpr size_t kMaxAnnotationKeyChars = 500;
inline constexpr size_t kMaxAnnotationValueChars = 1000;
inline constexpr size_t kMaxIndexedAnnotationsPerTrace = 50;

struct HttpRequest {
  std::string method;
  std::string url;
  std::string user_agent;
  std::string client_ip;
  bool x_forwarded_for = false;
  bool traced = false;
};

struct HttpResponse {
  std::optional<int> status;
  std::optional<int64_t> content_length;
};

struct Http {
  std::optional<HttpRequest> request;
  std::optional<HttpResponse> response;
};

struct StackFrame {
  std::string path;
  std::optional<int> line;
  std::string label;
};

struct ExceptionInfo {
  std::string id;  // 16 hex, as sent
  std::string message;
  std::string type;
  bool remote = false;
  int truncated = 0;
  int skipped = 0;
  std::string cause;  // id of the exception that caused this one
  std::vector<StackFrame> stack;
};

struct Cause {
  std::string working_directory;
  std::vector<std::string> paths;
  std::vector<ExceptionInfo> exceptions;
  // Set instead of the above when the document's cause is a bare 16-hex id
  // pointing at an exception recorded on another entity.
  std::string exception_id_ref;
};

struct Sql {
  std::string url;
  std::string connection_string;
  std::string sanitized_query;
  std::string database_type;
  std::string database_version;
  std::string driver_version;
  std::string user;
  std::string preparation;  // "call" | "statement"
};

// The parts of the `aws` block Roentgen reads; the whole block is also kept raw.
struct AwsInfo {
  std::string account_id;
  std::string operation;
  std::string region;
  std::string request_id;
  std::string table_name;
  std::string queue_url;
  std::optional<int> retries;
  std::string function_name;     // lambda (from aws.lambda or subsegment aws.function_name)
  std::string ec2_instance_id;   // aws.ec2.instance_id
  std::string availability_zone; // aws.ec2.availability_zone
  std::string raw_json;          // the whole `aws` object as sent, or empty
};

using AnnotationValue = std::variant<std::string, double, bool>;

struct Annotation {
  std::string key;
  AnnotationValue value;
};

struct Entity {
  // Base fields.
  std::string name;
  SegmentId id;
  std::optional<TraceId> trace_id;     // required on segments and independent subsegments
  std::optional<SegmentId> parent_id;
  int64_t start_time_us = 0;
  std::optional<int64_t> end_time_us;  // absent iff in_progress
  bool in_progress = false;

  // "subsegment" for an independently sent subsegment; empty otherwise.
  std::string type;
  std::string origin;     // segments: AWS::EC2::Instance, AWS::Lambda::Function, …
  std::string resource_arn;  // segments: top-level `resource_arn` (API Gateway stage, Lambda…)
  std::string user;       // segments only
  std::string namespace_; // subsegments: "aws" | "remote" | empty
  std::vector<SegmentId> precursor_ids;
  std::optional<bool> traced;
  bool inferred = false;  // set by Roentgen for nodes it infers, never parsed

  bool error = false;     // 4xx
  bool throttle = false;  // 429
  bool fault = false;     // 5xx
  std::optional<Cause> cause;

  std::optional<Http> http;
  std::optional<AwsInfo> aws;
  std::optional<Sql> sql;
  std::string service_version;  // service.version
  std::string service_json;     // the whole `service` object as sent, or empty

  std::vector<Annotation> annotations;  // in document order
  std::string metadata_json;            // the whole `metadata` object as sent, or empty

  std::vector<Entity> subsegments;  // nested, in document order

  bool is_independent_subsegment() const { return type == "subsegment"; }
};

// One stored unit: a segment or an independently sent subsegment, with the
// original bytes exactly as received. A document that is a JSON array of
// subsegments yields one SegmentDocument per element (raw = that element's text).
struct SegmentDocument {
  Entity entity;
  std::string raw;
};

}  // namespace roentgen::xray
