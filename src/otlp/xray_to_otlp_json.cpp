#include "otlp/xray_to_otlp_json.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

namespace roentgen::otlp {
namespace {

using nlohmann::json;

// OTLP's SpanKind and StatusCode enum values (trace.proto).
constexpr int kSpanKindInternal = 1;
constexpr int kSpanKindServer = 2;
constexpr int kSpanKindClient = 3;
constexpr int kStatusCodeError = 2;

constexpr std::string_view kScopeName = "roentgen.xray-export";

// proto3 JSON writes 64-bit integers as strings.
std::string Nanos(double epoch_seconds) {
  const int64_t us = std::llround(epoch_seconds * 1e6);
  return std::to_string(us * 1000);
}

// An OTLP AnyValue for a JSON value; nullopt for null.
std::optional<json> AnyValue(const json& v) {
  if (v.is_string()) return json{{"stringValue", v.get<std::string>()}};
  if (v.is_boolean()) return json{{"boolValue", v.get<bool>()}};
  if (v.is_number_integer()) return json{{"intValue", std::to_string(v.get<int64_t>())}};
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u <= static_cast<uint64_t>(INT64_MAX)) return json{{"intValue", std::to_string(u)}};
    return json{{"doubleValue", static_cast<double>(u)}};
  }
  if (v.is_number_float()) return json{{"doubleValue", v.get<double>()}};
  if (v.is_array()) {
    json values = json::array();
    for (const json& e : v) {
      std::optional<json> a = AnyValue(e);
      values.push_back(a ? std::move(*a) : json::object());
    }
    return json{{"arrayValue", {{"values", std::move(values)}}}};
  }
  if (v.is_object()) {
    json values = json::array();
    for (const auto& [k, e] : v.items()) {
      std::optional<json> a = AnyValue(e);
      if (a) values.push_back({{"key", k}, {"value", std::move(*a)}});
    }
    return json{{"kvlistValue", {{"values", std::move(values)}}}};
  }
  return std::nullopt;
}

// Attributes in OTLP's list-of-KeyValue form, one value per key (a later Set
// replaces an earlier one, so dedicated fields win over metadata).
class Attributes {
 public:
  void Set(std::string_view key, const json& value) {
    std::optional<json> a = AnyValue(value);
    if (!a) return;
    for (json& kv : list_) {
      if (kv["key"] == key) {
        kv["value"] = std::move(*a);
        return;
      }
    }
    list_.push_back({{"key", key}, {"value", std::move(*a)}});
  }
  // Sets `key` from `object[field]` when that is present.
  void Copy(const json& object, std::string_view field, std::string_view key) {
    if (!object.is_object()) return;
    auto it = object.find(field);
    if (it != object.end()) Set(key, *it);
  }
  json Take() { return std::move(list_); }

 private:
  json list_ = json::array();
};

const json& Member(const json& object, std::string_view key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

bool Flag(const json& entity, std::string_view key) {
  const json& v = Member(entity, key);
  return v.is_boolean() && v.get<bool>();
}

std::string Text(const json& v) { return v.is_string() ? v.get<std::string>() : std::string(); }

// origin → (cloud.platform, aws.ecs.launchtype), as translator.h maps them.
void OriginAttributes(const std::string& origin, Attributes& resource) {
  struct Platform {
    std::string_view origin, platform, launch_type;
  };
  static constexpr Platform kPlatforms[] = {
      {"AWS::EC2::Instance", "aws_ec2", ""},
      {"AWS::ECS::Container", "aws_ecs", ""},
      {"AWS::ECS::EC2", "aws_ecs", "ec2"},
      {"AWS::ECS::Fargate", "aws_ecs", "fargate"},
      {"AWS::EKS::Container", "aws_eks", ""},
      {"AWS::ElasticBeanstalk::Environment", "aws_elastic_beanstalk", ""},
      {"AWS::Lambda::Function", "aws_lambda", ""},
  };
  if (origin.empty()) return;
  resource.Set("aws.xray.origin", origin);
  for (const Platform& p : kPlatforms) {
    if (origin != p.origin) continue;
    resource.Set("cloud.provider", "aws");
    resource.Set("cloud.platform", p.platform);
    if (!p.launch_type.empty()) resource.Set("aws.ecs.launchtype", p.launch_type);
  }
}

json Resource(const json& segment, bool is_segment) {
  Attributes r;
  r.Set("service.name", is_segment ? Text(Member(segment, "name")) : "unknown_service");
  if (!is_segment) return {{"attributes", r.Take()}};
  OriginAttributes(Text(Member(segment, "origin")), r);
  r.Copy(Member(segment, "service"), "version", "service.version");
  r.Copy(segment, "resource_arn", "cloud.resource_id");
  const json& aws = Member(segment, "aws");
  r.Copy(aws, "account_id", "cloud.account.id");
  const json& ec2 = Member(aws, "ec2");
  r.Copy(ec2, "instance_id", "host.id");
  r.Copy(ec2, "availability_zone", "cloud.availability_zone");
  r.Copy(ec2, "instance_size", "host.type");
  r.Copy(ec2, "ami_id", "host.image.id");
  const json& ecs = Member(aws, "ecs");
  r.Copy(ecs, "container", "container.name");
  r.Copy(ecs, "container_id", "container.id");
  r.Copy(ecs, "availability_zone", "cloud.availability_zone");
  r.Copy(ecs, "cluster_arn", "aws.ecs.cluster.arn");
  r.Copy(ecs, "task_arn", "aws.ecs.task.arn");
  r.Copy(ecs, "task_family", "aws.ecs.task.family");
  const json& eks = Member(aws, "eks");
  r.Copy(eks, "cluster_name", "k8s.cluster.name");
  r.Copy(eks, "pod", "k8s.pod.name");
  r.Copy(eks, "container_id", "container.id");
  const json& beanstalk = Member(aws, "elastic_beanstalk");
  r.Copy(beanstalk, "environment_name", "service.namespace");
  r.Copy(beanstalk, "deployment_id", "service.instance.id");
  r.Copy(beanstalk, "version_label", "service.version");
  const json& sdk = Member(aws, "xray");
  r.Copy(sdk, "sdk", "telemetry.sdk.name");
  r.Copy(sdk, "sdk_version", "telemetry.sdk.version");
  return {{"attributes", r.Take()}};
}

void HttpAttributes(const json& entity, Attributes& a) {
  const json& http = Member(entity, "http");
  const json& request = Member(http, "request");
  a.Copy(request, "method", "http.request.method");
  a.Copy(request, "url", "url.full");
  a.Copy(request, "user_agent", "user_agent.original");
  a.Copy(request, "client_ip", "client.address");
  const json& response = Member(http, "response");
  a.Copy(response, "status", "http.response.status_code");
  a.Copy(response, "content_length", "http.response.body.size");
}

void AwsAttributes(const json& entity, bool is_segment, Attributes& a) {
  const json& aws = Member(entity, "aws");
  if (is_segment || !aws.is_object()) return;
  if (Text(Member(entity, "namespace")) == "aws") {
    a.Set("rpc.system", "aws-api");
    a.Copy(entity, "name", "rpc.service");
  }
  a.Copy(aws, "operation", "rpc.method");
  a.Copy(aws, "region", "cloud.region");
  a.Copy(aws, "request_id", "aws.request_id");
  if (const json& table = Member(aws, "table_name"); table.is_string()) {
    a.Set("aws.dynamodb.table_names", json::array({table}));
  }
  a.Copy(aws, "queue_url", "aws.sqs.queue_url");
}

void SqlAttributes(const json& entity, Attributes& a) {
  const json& sql = Member(entity, "sql");
  a.Copy(sql, "sanitized_query", "db.statement");
  a.Copy(sql, "database_type", "db.system");
  a.Copy(sql, "database_version", "db.version");
  a.Copy(sql, "url", "db.connection_string");
  a.Copy(sql, "user", "db.user");
  a.Copy(sql, "driver_version", "db.driver_version");
  a.Copy(sql, "preparation", "db.preparation");
}

// "Type: message" then one "    at label (path:line)" line per frame, the
// shape of the stack traces translator.h reads back.
std::string StackTrace(const json& exception) {
  std::string text = Text(Member(exception, "type"));
  const std::string message = Text(Member(exception, "message"));
  if (!message.empty()) text += text.empty() ? message : ": " + message;
  const json& stack = Member(exception, "stack");
  if (!stack.is_array()) return text;
  for (const json& frame : stack) {
    const std::string label = Text(Member(frame, "label"));
    const std::string path = Text(Member(frame, "path"));
    const json& line = Member(frame, "line");
    std::string where = path;
    if (line.is_number_integer()) where += fmt::format(":{}", line.get<int64_t>());
    text += label.empty() ? fmt::format("\n    at {}", where)
                          : fmt::format("\n    at {} ({})", label, where);
  }
  return text;
}

json ExceptionEvents(const json& entity, const std::string& time, std::string* first_message) {
  json events = json::array();
  const json& exceptions = Member(Member(entity, "cause"), "exceptions");
  if (!exceptions.is_array()) return events;
  for (const json& e : exceptions) {
    Attributes a;
    a.Copy(e, "type", "exception.type");
    a.Copy(e, "message", "exception.message");
    if (Member(e, "stack").is_array()) a.Set("exception.stacktrace", StackTrace(e));
    if (first_message->empty()) *first_message = Text(Member(e, "message"));
    events.push_back({{"timeUnixNano", time}, {"name", "exception"}, {"attributes", a.Take()}});
  }
  return events;
}

json Links(const json& entity) {
  json links = json::array();
  const json& list = Member(entity, "links");
  if (!list.is_array()) return links;
  for (const json& l : list) {
    Result<xray::TraceId> linked = xray::TraceId::Parse(Text(Member(l, "trace_id")));
    if (!linked.ok()) continue;
    json link = {{"traceId", linked->ToW3C()}};
    std::string span = Text(Member(l, "id"));
    if (span.empty()) span = Text(Member(l, "span_id"));
    if (!span.empty()) link["spanId"] = span;
    Attributes a;
    if (const json& attributes = Member(l, "attributes"); attributes.is_object()) {
      for (const auto& [k, v] : attributes.items()) a.Set(k, v);
    }
    link["attributes"] = a.Take();
    links.push_back(std::move(link));
  }
  return links;
}

struct Walk {
  const xray::TraceId& trace_id;
  const json& resource;
  std::vector<OtlpJsonSpan>& out;
};

Status AddSpan(const Walk& walk, const json& entity, bool is_segment, const std::string& parent) {
  const std::string id = Text(Member(entity, "id"));
  if (!xray::SegmentId::Parse(id).ok()) {
    return Status::InvalidArgument(fmt::format("an entity of trace {} has no valid id (\"{}\")",
                                               walk.trace_id.ToString(), id.substr(0, 32)));
  }
  const bool is_client = !is_segment && (Text(Member(entity, "namespace")) == "aws" ||
                                         Text(Member(entity, "namespace")) == "remote");
  const json& start = Member(entity, "start_time");
  const json& end = Member(entity, "end_time");
  const std::string start_ns = start.is_number() ? Nanos(start.get<double>()) : "0";
  const std::string end_ns =
      end.is_number() && !Flag(entity, "in_progress") ? Nanos(end.get<double>()) : "0";

  Attributes a;
  // Metadata first: dedicated fields below replace a metadata key of the same name.
  if (const json& metadata = Member(entity, "metadata"); metadata.is_object()) {
    for (const auto& [ns, values] : metadata.items()) {
      if (ns == "default" && values.is_object()) {
        for (const auto& [k, v] : values.items()) a.Set(k, v);
      } else {
        a.Set("aws.xray.metadata." + ns, values);
      }
    }
  }
  HttpAttributes(entity, a);
  AwsAttributes(entity, is_segment, a);
  SqlAttributes(entity, a);
  if (is_segment) a.Copy(entity, "user", "enduser.id");
  if (const json& annotations = Member(entity, "annotations"); annotations.is_object()) {
    json keys = json::array();
    for (const auto& [k, v] : annotations.items()) {
      a.Set(k, v);
      keys.push_back(k);
    }
    if (!keys.empty()) a.Set("aws.xray.annotations", keys);
  }
  if (Flag(entity, "error")) a.Set("aws.xray.error", true);
  if (Flag(entity, "throttle")) a.Set("aws.xray.throttle", true);
  if (Flag(entity, "fault")) a.Set("aws.xray.fault", true);

  std::string first_message;
  json span = {{"traceId", walk.trace_id.ToW3C()},
               {"spanId", id},
               {"name", Text(Member(entity, "name"))},
               {"kind", is_segment ? kSpanKindServer
                                   : (is_client ? kSpanKindClient : kSpanKindInternal)},
               {"startTimeUnixNano", start_ns},
               {"endTimeUnixNano", end_ns}};
  if (!parent.empty()) span["parentSpanId"] = parent;
  span["attributes"] = a.Take();
  json events = ExceptionEvents(entity, end_ns != "0" ? end_ns : start_ns, &first_message);
  if (!events.empty()) span["events"] = std::move(events);
  json links = Links(entity);
  if (!links.empty()) span["links"] = std::move(links);
  // X-Ray's error (a 4xx) is the caller's mistake, not the server's: only a
  // fault is an OpenTelemetry error, as translator.h reads it back.
  if (Flag(entity, "fault")) {
    span["status"] = {{"code", kStatusCodeError}};
    if (!first_message.empty()) span["status"]["message"] = first_message;
  }
  json request = {
      {"resourceSpans",
       json::array({{{"resource", walk.resource},
                     {"scopeSpans",
                      json::array({{{"scope", {{"name", kScopeName}}},
                                    {"spans", json::array({std::move(span)})}}})}}})}};
  walk.out.push_back({id, request.dump(-1, ' ', false, json::error_handler_t::replace)});

  if (const json& children = Member(entity, "subsegments"); children.is_array()) {
    for (const json& child : children) {
      if (!child.is_object()) continue;
      if (Status s = AddSpan(walk, child, false, id); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<OtlpJsonSpan>> XRayDocumentToOtlpJson(const xray::TraceId& trace_id,
                                                         std::string_view document) {
  json root = json::parse(document, nullptr, /*allow_exceptions=*/false);
  if (!root.is_object()) {
    return Status::InvalidArgument(
        fmt::format("a document of trace {} is not a JSON object", trace_id.ToString()));
  }
  const bool is_segment = Text(Member(root, "type")) != "subsegment";
  const json resource = Resource(root, is_segment);
  std::vector<OtlpJsonSpan> out;
  if (Status s = AddSpan(Walk{trace_id, resource, out}, root, is_segment,
                         Text(Member(root, "parent_id")));
      !s.ok()) {
    return s;
  }
  return out;
}

}  // namespace roentgen::otlp
