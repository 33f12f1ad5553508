#include "otlp/span_blocks.h"

#include <fmt/format.h>

#include <limits>

#include "otlp/stack_trace.h"

namespace roentgen::otlp {
namespace {

using nlohmann::json;

// Looks up the first present key among `keys` as a string, consuming it.
std::optional<std::string> TakeString(AttributeView& a,
                                      std::initializer_list<std::string_view> keys) {
  for (std::string_view key : keys) {
    if (auto v = a.String(key)) {
      a.Consume(key);
      return v;
    }
  }
  return std::nullopt;
}

// The same for an integer in [min, max]: a value out of range is left for
// metadata, since X-Ray refuses the whole document over it.
std::optional<int64_t> TakeInt(AttributeView& a, std::initializer_list<std::string_view> keys,
                               int64_t min, int64_t max) {
  for (std::string_view key : keys) {
    if (auto v = a.Int(key); v && *v >= min && *v <= max) {
      a.Consume(key);
      return v;
    }
  }
  return std::nullopt;
}

// scheme://host[:port]target for a server span without a full URL.
std::optional<std::string> ComposeServerUrl(AttributeView& a) {
  std::optional<std::string> target = a.String("http.target");
  std::vector<std::string_view> used;
  if (target) {
    used.push_back("http.target");
  } else if (auto path = a.String("url.path")) {
    target = *path;
    used.push_back("url.path");
    if (auto query = a.String("url.query")) {
      *target += "?" + *query;
      used.push_back("url.query");
    }
  }
  if (!target) return std::nullopt;

  std::optional<std::string> host = a.String("http.host");
  if (host) {
    used.push_back("http.host");
  } else {
    std::string_view host_key = "server.address";
    std::string_view port_key = "server.port";
    host = a.String(host_key);
    if (!host) {
      host_key = "net.host.name";
      port_key = "net.host.port";
      host = a.String(host_key);
    }
    if (host) {
      used.push_back(host_key);
      if (auto port = a.Int(port_key)) {
        *host += fmt::format(":{}", *port);
        used.push_back(port_key);
      }
    }
  }
  std::string url;
  if (host) {
    std::string scheme = "http";
    if (auto s = a.String("url.scheme")) {
      scheme = *s;
      used.push_back("url.scheme");
    } else if (auto s2 = a.String("http.scheme")) {
      scheme = *s2;
      used.push_back("http.scheme");
    }
    url = scheme + "://" + *host;
  }
  url += *target;
  for (std::string_view key : used) a.Consume(key);
  return url;
}

bool IsAllowedKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.';
}

}  // namespace

HttpBlock MakeHttp(AttributeView& a, bool server) {
  HttpBlock out;
  json request = json::object();
  if (auto method = TakeString(a, {"http.request.method", "http.method"}))
    request["method"] = *method;
  if (auto url = TakeString(a, {"url.full", "http.url"})) {
    request["url"] = *url;
  } else if (server) {
    if (auto composed = ComposeServerUrl(a)) request["url"] = *composed;
  }
  if (auto ua = TakeString(a, {"user_agent.original", "http.user_agent"}))
    request["user_agent"] = *ua;
  if (auto ip = TakeString(a, {"client.address"})) {
    request["client_ip"] = *ip;
  } else if (auto fwd = TakeString(a, {"http.client_ip"})) {
    request["client_ip"] = *fwd;
    request["x_forwarded_for"] = true;
  }
  json response = json::object();
  out.status = TakeInt(a, {"http.response.status_code", "http.status_code"}, 0, 999);
  if (out.status) response["status"] = *out.status;
  if (auto len = TakeInt(a, {"http.response.body.size", "http.response_content_length"}, 0,
                         std::numeric_limits<int64_t>::max())) {
    response["content_length"] = *len;
  }
  if (request.empty() && response.empty()) return out;
  out.json = json::object();
  if (!request.empty()) out.json["request"] = std::move(request);
  if (!response.empty()) out.json["response"] = std::move(response);
  return out;
}

Outcome MakeOutcome(std::optional<int64_t> http_status, const otlp_trace::Status& status) {
  Outcome o;
  bool client_error = false;
  if (http_status) {
    int64_t s = *http_status;
    if (s >= 400 && s <= 499) {
      client_error = true;
      o.error = true;
      o.throttle = s == 429;
    } else if (s >= 500 && s <= 599) {
      o.fault = true;
    }
  }
  if (status.code() == otlp_trace::Status::STATUS_CODE_ERROR && !client_error) o.fault = true;
  return o;
}

json MakeCause(const otlp_trace::Span& span, const Outcome& outcome,
               const std::function<std::string()>& new_exception_id, size_t max_stack_frames) {
  if (!outcome.error && !outcome.fault) return nullptr;
  json exceptions = json::array();
  for (const auto& event : span.events()) {
    if (event.name() != "exception") continue;
    AttributeView ea(event.attributes());
    json ex = json::object();
    ex["id"] = new_exception_id();
    if (auto type = ea.String("exception.type")) ex["type"] = *type;
    if (auto message = ea.String("exception.message")) ex["message"] = *message;
    if (auto trace = ea.String("exception.stacktrace")) {
      ParsedStack parsed = ParseStackTrace(*trace, max_stack_frames);
      if (!parsed.frames.empty()) {
        json stack = json::array();
        for (const StackFrame& f : parsed.frames) {
          json frame = json::object();
          if (!f.path.empty()) frame["path"] = f.path;
          if (f.line) frame["line"] = *f.line;
          if (!f.label.empty()) frame["label"] = f.label;
          stack.push_back(std::move(frame));
        }
        ex["stack"] = std::move(stack);
      }
      if (parsed.truncated > 0) ex["truncated"] = parsed.truncated;
    }
    exceptions.push_back(std::move(ex));
  }
  if (exceptions.empty() && !span.status().message().empty()) {
    exceptions.push_back({{"id", new_exception_id()}, {"message", span.status().message()}});
  }
  if (exceptions.empty()) return nullptr;
  return json{{"exceptions", std::move(exceptions)}};
}

json MakeAwsCall(AttributeView& a) {
  json aws = json::object();
  if (auto op = TakeString(a, {"rpc.method", "aws.operation"})) aws["operation"] = *op;
  if (auto region = TakeString(a, {"cloud.region", "aws.region"})) aws["region"] = *region;
  if (auto id = TakeString(a, {"aws.request_id", "aws.request.id"})) aws["request_id"] = *id;
  if (const auto* tables = a.Find("aws.dynamodb.table_names");
      tables != nullptr && tables->has_array_value() && tables->array_value().values_size() == 1 &&
      tables->array_value().values(0).has_string_value()) {
    aws["table_name"] = tables->array_value().values(0).string_value();
    a.Consume("aws.dynamodb.table_names");
  } else if (auto table = TakeString(a, {"aws.table_name"})) {
    aws["table_name"] = *table;
  }
  if (auto queue = TakeString(a, {"aws.sqs.queue_url", "aws.queue_url"})) aws["queue_url"] = *queue;
  if (aws.empty()) return nullptr;
  return aws;
}

std::string SanitizeAnnotationKey(std::string_view key) {
  std::string out(key);
  for (char& c : out) {
    if (!IsAllowedKeyChar(c)) c = '_';
  }
  return out;
}

json TakeAnnotations(AttributeView& a) {
  std::vector<std::string_view> keys;  // point into the span's attributes
  if (const auto* listed = a.Find("aws.xray.annotations")) {
    a.Consume("aws.xray.annotations");
    if (listed->has_string_value()) {
      keys.push_back(listed->string_value());
    } else if (listed->has_array_value()) {
      for (const auto& v : listed->array_value().values()) {
        if (v.has_string_value()) keys.push_back(v.string_value());
      }
    }
  }
  json annotations = json::object();
  for (std::string_view key : keys) {
    const auto* value = a.Find(key);
    if (value == nullptr || !IsScalar(*value) || a.IsConsumed(key)) continue;
    annotations[SanitizeAnnotationKey(key)] = AnyValueToJson(*value);
    a.Consume(key);
  }
  return annotations;
}

void AddAnnotationsAndMetadata(AttributeView& a, json& entity) {
  json annotations = TakeAnnotations(a);
  json defaults = json::object();
  for (const auto& kv : a.attributes()) {
    if (a.IsConsumed(kv.key()) || defaults.contains(kv.key())) continue;
    defaults[kv.key()] = AnyValueToJson(kv.value());
  }
  if (!annotations.empty()) entity["annotations"] = std::move(annotations);
  if (!defaults.empty()) entity["metadata"] = json{{"default", std::move(defaults)}};
}

ResourceBlocks MakeResourceBlocks(const AttributeView& r) {
  ResourceBlocks out;
  out.service_name = r.String("service.name").value_or("");
  if (auto version = r.String("service.version")) out.service = json{{"version", *version}};
  out.resource_arn = r.String("cloud.resource_id").value_or("");

  json aws = json::object();
  if (auto account = r.String("cloud.account.id")) aws["account_id"] = *account;
  std::optional<std::string> provider = r.String("cloud.provider");
  std::string platform =
      (!provider || *provider == "aws") ? r.String("cloud.platform").value_or("") : "";
  std::optional<std::string> zone = r.String("cloud.availability_zone");
  auto put = [](json& obj, const char* field, std::optional<std::string> value) {
    if (value) obj[field] = *value;
  };
  if (platform == "aws_ec2") {
    out.origin = "AWS::EC2::Instance";
    json ec2 = json::object();
    put(ec2, "instance_id", r.String("host.id"));
    put(ec2, "availability_zone", zone);
    put(ec2, "instance_size", r.String("host.type"));
    put(ec2, "ami_id", r.String("host.image.id"));
    if (!ec2.empty()) aws["ec2"] = std::move(ec2);
  } else if (platform == "aws_ecs") {
    std::string launch = r.String("aws.ecs.launchtype").value_or("");
    out.origin = launch == "ec2"       ? "AWS::ECS::EC2"
                 : launch == "fargate" ? "AWS::ECS::Fargate"
                                       : "AWS::ECS::Container";
    json ecs = json::object();
    put(ecs, "container", r.FirstString({"container.name", "host.name"}));
    put(ecs, "container_id", r.String("container.id"));
    put(ecs, "availability_zone", zone);
    put(ecs, "cluster_arn", r.String("aws.ecs.cluster.arn"));
    put(ecs, "task_arn", r.String("aws.ecs.task.arn"));
    put(ecs, "task_family", r.String("aws.ecs.task.family"));
    if (!ecs.empty()) aws["ecs"] = std::move(ecs);
  } else if (platform == "aws_eks") {
    out.origin = "AWS::EKS::Container";
    json eks = json::object();
    put(eks, "cluster_name", r.String("k8s.cluster.name"));
    put(eks, "pod", r.String("k8s.pod.name"));
    put(eks, "container_id", r.String("container.id"));
    if (!eks.empty()) aws["eks"] = std::move(eks);
  } else if (platform == "aws_elastic_beanstalk") {
    out.origin = "AWS::ElasticBeanstalk::Environment";
    json eb = json::object();
    put(eb, "environment_name", r.String("service.namespace"));
    if (auto id = r.Int("service.instance.id")) eb["deployment_id"] = *id;
    put(eb, "version_label", r.String("service.version"));
    if (!eb.empty()) aws["elastic_beanstalk"] = std::move(eb);
  } else if (platform == "aws_lambda") {
    out.origin = "AWS::Lambda::Function";
    if (out.resource_arn.empty()) out.resource_arn = r.String("faas.id").value_or("");
  }
  std::optional<std::string> sdk = r.String("telemetry.sdk.name");
  if (sdk) {
    json xray = json::object();
    std::optional<std::string> language = r.String("telemetry.sdk.language");
    xray["sdk"] = language ? *sdk + " for " + *language : *sdk;
    put(xray, "sdk_version", r.String("telemetry.sdk.version"));
    aws["xray"] = std::move(xray);
  }
  if (!aws.empty()) out.aws = std::move(aws);
  return out;
}

}  // namespace roentgen::otlp
