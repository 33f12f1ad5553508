// The pieces of an X-Ray entity that come from one span's (or one resource's)
// attributes: the http block, error/throttle/fault, cause, the aws block of an
// AWS SDK call, annotations and metadata, and the resource-level origin,
// service, aws and resource_arn of a segment. docs/otlp.md has the rule table.
//
// Functions that read span attributes mark the keys they map into a dedicated
// field as consumed (AttributeView::Consume), so AddAnnotationsAndMetadata can
// put every other attribute into metadata. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "opentelemetry/proto/trace/v1/trace.pb.h"
#include "otlp/attributes.h"

namespace roentgen::otlp {

namespace otlp_trace = opentelemetry::proto::trace::v1;

struct HttpBlock {
  nlohmann::json json;            // the "http" object, or null when empty
  std::optional<int64_t> status;  // response status code, if any
};
// `server`: the span handles a request (SERVER/CONSUMER kind, or a root span):
// only then is a URL composed from scheme, host and target/path.
HttpBlock MakeHttp(AttributeView& attributes, bool server);

struct Outcome {
  bool error = false;     // 4xx
  bool throttle = false;  // 429 (also an error)
  bool fault = false;     // 5xx, or an ERROR status without a 4xx
};
Outcome MakeOutcome(std::optional<int64_t> http_status, const otlp_trace::Status& status);

// X-Ray's cause from the span's "exception" events (type, message, stack), or
// from the ERROR status message when there are none. Null when the outcome is
// neither error nor fault, or when there is nothing to say.
nlohmann::json MakeCause(const otlp_trace::Span& span, const Outcome& outcome,
                         const std::function<std::string()>& new_exception_id,
                         size_t max_stack_frames);

// The aws block of a subsegment for an AWS SDK call (rpc.system = aws-api):
// operation, region, request_id, table_name, queue_url. Null when empty.
nlohmann::json MakeAwsCall(AttributeView& attributes);

// Sets "annotations" (the keys listed in aws.xray.annotations with scalar
// values) and "metadata" ({"default": {key: value}} for every attribute not
// consumed) on `entity`, leaving each out when empty.
void AddAnnotationsAndMetadata(AttributeView& attributes, nlohmann::json& entity);
// Its first half: the "annotations" object (possibly empty), consuming the
// keys it takes. The translator writes metadata itself, without a json tree.
nlohmann::json TakeAnnotations(AttributeView& attributes);

// Annotation keys may hold letters, digits, '_' and '.': anything else → '_'.
std::string SanitizeAnnotationKey(std::string_view key);

// What a resource contributes to the segments of its spans.
struct ResourceBlocks {
  std::string service_name;  // service.name, may be empty
  std::string origin;        // e.g. "AWS::EC2::Instance", may be empty
  nlohmann::json service;    // {"version": …} or null
  nlohmann::json aws;        // account_id, ec2/ecs/eks/elastic_beanstalk, xray; or null
  std::string resource_arn;  // cloud.resource_id, may be empty
};
ResourceBlocks MakeResourceBlocks(const AttributeView& resource);

}  // namespace roentgen::otlp
