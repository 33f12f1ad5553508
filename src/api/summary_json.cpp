#include "api/summary_json.h"

#include <string>
#include <variant>

#include "api/json_io.h"

namespace roentgen::api {
namespace {

using nlohmann::json;

json ServiceIdsJson(const std::vector<xray::ServiceId>& ids) {
  json out = json::array();
  for (const xray::ServiceId& id : ids) out.push_back(ServiceIdJson(id));
  return out;
}

json HttpJson(const xray::TraceHttp& http) {
  json out = json::object();
  if (!http.url.empty()) out["HttpURL"] = http.url;
  if (http.status) out["HttpStatus"] = *http.status;
  if (!http.method.empty()) out["HttpMethod"] = http.method;
  if (!http.user_agent.empty()) out["UserAgent"] = http.user_agent;
  if (!http.client_ip.empty()) out["ClientIp"] = http.client_ip;
  return out;
}

// Fault and error root causes carry exceptions; response-time ones coverage.
json RootCausesJson(const std::vector<xray::RootCause>& causes, bool response_time) {
  json out = json::array();
  for (const xray::RootCause& cause : causes) {
    json services = json::array();
    for (const xray::RootCauseService& s : cause.services) {
      json path = json::array();
      for (const xray::RootCauseEntity& e : s.entity_path) {
        json entity = {{"Name", e.name}};
        if (response_time) {
          if (e.coverage) entity["Coverage"] = *e.coverage;
        } else {
          json exceptions = json::array();
          for (const xray::RootCauseException& x : e.exceptions) {
            exceptions.push_back({{"Name", x.name}, {"Message", x.message}});
          }
          entity["Exceptions"] = std::move(exceptions);
        }
        entity["Remote"] = e.remote;
        path.push_back(std::move(entity));
      }
      json service = {{"Name", s.name}, {"Names", s.names}};
      if (!s.type.empty()) service["Type"] = s.type;
      if (!s.account_id.empty()) service["AccountId"] = s.account_id;
      service["EntityPath"] = std::move(path);
      service["Inferred"] = s.inferred;
      services.push_back(std::move(service));
    }
    out.push_back({{"Services", std::move(services)}, {"ClientImpacting", cause.client_impacting}});
  }
  return out;
}

}  // namespace

json ServiceIdJson(const xray::ServiceId& id) {
  json out = {{"Name", id.name}, {"Names", id.names}};
  if (!id.account_id.empty()) out["AccountId"] = id.account_id;
  if (!id.type.empty()) out["Type"] = id.type;
  return out;
}

json AnnotationValueJson(const xray::AnnotationValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return {{"StringValue", *s}};
  if (const auto* d = std::get_if<double>(&value)) return {{"NumberValue", *d}};
  return {{"BooleanValue", std::get<bool>(value)}};
}

json TraceSummaryJson(const xray::TraceSummary& s, std::optional<int64_t> matched_event_us) {
  json out = {{"Id", s.id.ToString()}, {"StartTime", EpochSeconds(s.start_time_us)}};
  if (s.duration_us) out["Duration"] = EpochSeconds(*s.duration_us);
  if (s.response_time_us) out["ResponseTime"] = EpochSeconds(*s.response_time_us);
  out["HasFault"] = s.has_fault;
  out["HasError"] = s.has_error;
  out["HasThrottle"] = s.has_throttle;
  out["IsPartial"] = s.is_partial;
  out["Http"] = HttpJson(s.http);

  json annotations = json::object();
  for (const xray::TraceAnnotation& a : s.annotations) {
    json values = json::array();
    for (const xray::TraceAnnotationValue& v : a.values) {
      values.push_back({{"AnnotationValue", AnnotationValueJson(v.value)},
                        {"ServiceIds", ServiceIdsJson(v.service_ids)}});
    }
    annotations[a.key] = std::move(values);
  }
  out["Annotations"] = std::move(annotations);

  json users = json::array();
  for (const xray::TraceUser& u : s.users) {
    users.push_back({{"UserName", u.user_name}, {"ServiceIds", ServiceIdsJson(u.service_ids)}});
  }
  out["Users"] = std::move(users);
  out["ServiceIds"] = ServiceIdsJson(s.service_ids);

  json arns = json::array();
  for (const std::string& arn : s.resource_arns) arns.push_back({{"ARN", arn}});
  out["ResourceARNs"] = std::move(arns);
  json instances = json::array();
  for (const std::string& id : s.instance_ids) instances.push_back({{"Id", id}});
  out["InstanceIds"] = std::move(instances);
  json zones = json::array();
  for (const std::string& zone : s.availability_zones) zones.push_back({{"Name", zone}});
  out["AvailabilityZones"] = std::move(zones);
  if (s.entry_point) out["EntryPoint"] = ServiceIdJson(*s.entry_point);

  out["FaultRootCauses"] = RootCausesJson(s.fault_root_causes, false);
  out["ErrorRootCauses"] = RootCausesJson(s.error_root_causes, false);
  out["ResponseTimeRootCauses"] = RootCausesJson(s.response_time_root_causes, true);
  out["Revision"] = s.revision;
  if (matched_event_us) out["MatchedEventTime"] = EpochSeconds(*matched_event_us);
  return out;
}

}  // namespace roentgen::api
