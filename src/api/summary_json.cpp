#include "api/summary_json.h"

#include <fmt/format.h>

#include <map>
#include <string>
#include <string_view>
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

namespace {

// The writer's pieces, formatted as nlohmann::json::dump(-1, ' ', false,
// replace) formats them: a string of printable ASCII without quotes or
// backslashes as is, any other through nlohmann's own escaping; doubles
// through nlohmann's number formatting.
void SummaryJsonString(std::string& out, std::string_view s) {
  bool plain = true;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      plain = false;
      break;
    }
  }
  if (plain) {
    out += '"';
    out += s;
    out += '"';
    return;
  }
  out += json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}
void SummaryJsonKey(std::string& out, std::string_view key) {
  out += '"';
  out += key;  // the writer's own keys: plain ASCII
  out += "\":";
}
void SummaryJsonDouble(std::string& out, double d) { out += json(d).dump(); }
void SummaryJsonBool(std::string& out, bool b) { out += b ? "true" : "false"; }
void SummaryJsonInt(std::string& out, int64_t i) { out += fmt::format_int(i).c_str(); }

void SummaryJsonStrings(std::string& out, const std::vector<std::string>& values) {
  out += '[';
  for (size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out += ',';
    SummaryJsonString(out, values[i]);
  }
  out += ']';
}

// {"AccountId"?, "Name", "Names", "Type"?}, the order of ServiceIdJson's keys.
void SummaryJsonServiceId(std::string& out, const xray::ServiceId& id) {
  out += '{';
  if (!id.account_id.empty()) {
    SummaryJsonKey(out, "AccountId");
    SummaryJsonString(out, id.account_id);
    out += ',';
  }
  SummaryJsonKey(out, "Name");
  SummaryJsonString(out, id.name);
  out += ',';
  SummaryJsonKey(out, "Names");
  SummaryJsonStrings(out, id.names);
  if (!id.type.empty()) {
    out += ',';
    SummaryJsonKey(out, "Type");
    SummaryJsonString(out, id.type);
  }
  out += '}';
}

void SummaryJsonServiceIds(std::string& out, const std::vector<xray::ServiceId>& ids) {
  out += '[';
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i != 0) out += ',';
    SummaryJsonServiceId(out, ids[i]);
  }
  out += ']';
}

// A list of objects of one string field each ({"ARN"}, {"Id"}, {"Name"}).
void SummaryJsonNamedList(std::string& out, const std::vector<std::string>& values,
                          std::string_view key) {
  out += '[';
  for (size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out += ',';
    out += '{';
    SummaryJsonKey(out, key);
    SummaryJsonString(out, values[i]);
    out += '}';
  }
  out += ']';
}

void SummaryJsonRootCauses(std::string& out, const std::vector<xray::RootCause>& causes,
                           bool response_time) {
  out += '[';
  for (size_t c = 0; c < causes.size(); ++c) {
    if (c != 0) out += ',';
    out += '{';
    SummaryJsonKey(out, "ClientImpacting");
    SummaryJsonBool(out, causes[c].client_impacting);
    out += ',';
    SummaryJsonKey(out, "Services");
    out += '[';
    for (size_t i = 0; i < causes[c].services.size(); ++i) {
      const xray::RootCauseService& s = causes[c].services[i];
      if (i != 0) out += ',';
      out += '{';
      if (!s.account_id.empty()) {
        SummaryJsonKey(out, "AccountId");
        SummaryJsonString(out, s.account_id);
        out += ',';
      }
      SummaryJsonKey(out, "EntityPath");
      out += '[';
      for (size_t j = 0; j < s.entity_path.size(); ++j) {
        const xray::RootCauseEntity& e = s.entity_path[j];
        if (j != 0) out += ',';
        out += '{';
        if (response_time) {
          if (e.coverage) {
            SummaryJsonKey(out, "Coverage");
            SummaryJsonDouble(out, *e.coverage);
            out += ',';
          }
        } else {
          SummaryJsonKey(out, "Exceptions");
          out += '[';
          for (size_t k = 0; k < e.exceptions.size(); ++k) {
            if (k != 0) out += ',';
            out += '{';
            SummaryJsonKey(out, "Message");
            SummaryJsonString(out, e.exceptions[k].message);
            out += ',';
            SummaryJsonKey(out, "Name");
            SummaryJsonString(out, e.exceptions[k].name);
            out += '}';
          }
          out += "],";
        }
        SummaryJsonKey(out, "Name");
        SummaryJsonString(out, e.name);
        out += ',';
        SummaryJsonKey(out, "Remote");
        SummaryJsonBool(out, e.remote);
        out += '}';
      }
      out += "],";
      SummaryJsonKey(out, "Inferred");
      SummaryJsonBool(out, s.inferred);
      out += ',';
      SummaryJsonKey(out, "Name");
      SummaryJsonString(out, s.name);
      out += ',';
      SummaryJsonKey(out, "Names");
      SummaryJsonStrings(out, s.names);
      if (!s.type.empty()) {
        out += ',';
        SummaryJsonKey(out, "Type");
        SummaryJsonString(out, s.type);
      }
      out += '}';
    }
    out += "]}";
  }
  out += ']';
}

}  // namespace

// The keys in the byte order of nlohmann::json's std::map, which is the
// order TraceSummaryJson's dump writes them in.
void AppendTraceSummaryJson(std::string& out, const xray::TraceSummary& s,
                            std::optional<int64_t> matched_event_us) {
  out += '{';
  SummaryJsonKey(out, "Annotations");
  out += '{';
  {
    // An object: one entry a key, the last annotation of a key winning.
    std::map<std::string_view, const xray::TraceAnnotation*> by_key;
    for (const xray::TraceAnnotation& a : s.annotations) by_key[a.key] = &a;
    bool first = true;
    for (const auto& entry : by_key) {
      if (!first) out += ',';
      first = false;
      SummaryJsonString(out, entry.first);
      out += ":[";
      const std::vector<xray::TraceAnnotationValue>& values = entry.second->values;
      for (size_t i = 0; i < values.size(); ++i) {
        if (i != 0) out += ',';
        out += '{';
        SummaryJsonKey(out, "AnnotationValue");
        out += '{';
        const xray::AnnotationValue& v = values[i].value;
        if (const auto* str = std::get_if<std::string>(&v)) {
          SummaryJsonKey(out, "StringValue");
          SummaryJsonString(out, *str);
        } else if (const auto* d = std::get_if<double>(&v)) {
          SummaryJsonKey(out, "NumberValue");
          SummaryJsonDouble(out, *d);
        } else {
          SummaryJsonKey(out, "BooleanValue");
          SummaryJsonBool(out, std::get<bool>(v));
        }
        out += "},";
        SummaryJsonKey(out, "ServiceIds");
        SummaryJsonServiceIds(out, values[i].service_ids);
        out += '}';
      }
      out += ']';
    }
  }
  out += "},";
  SummaryJsonKey(out, "AvailabilityZones");
  SummaryJsonNamedList(out, s.availability_zones, "Name");
  out += ',';
  if (s.duration_us) {
    SummaryJsonKey(out, "Duration");
    SummaryJsonDouble(out, EpochSeconds(*s.duration_us));
    out += ',';
  }
  if (s.entry_point) {
    SummaryJsonKey(out, "EntryPoint");
    SummaryJsonServiceId(out, *s.entry_point);
    out += ',';
  }
  SummaryJsonKey(out, "ErrorRootCauses");
  SummaryJsonRootCauses(out, s.error_root_causes, false);
  out += ',';
  SummaryJsonKey(out, "FaultRootCauses");
  SummaryJsonRootCauses(out, s.fault_root_causes, false);
  out += ',';
  SummaryJsonKey(out, "HasError");
  SummaryJsonBool(out, s.has_error);
  out += ',';
  SummaryJsonKey(out, "HasFault");
  SummaryJsonBool(out, s.has_fault);
  out += ',';
  SummaryJsonKey(out, "HasThrottle");
  SummaryJsonBool(out, s.has_throttle);
  out += ',';
  SummaryJsonKey(out, "Http");
  {
    // ClientIp, HttpMethod, HttpStatus, HttpURL, UserAgent: those present.
    out += '{';
    bool first = true;
    auto field = [&](std::string_view key) {
      if (!first) out += ',';
      first = false;
      SummaryJsonKey(out, key);
    };
    if (!s.http.client_ip.empty()) {
      field("ClientIp");
      SummaryJsonString(out, s.http.client_ip);
    }
    if (!s.http.method.empty()) {
      field("HttpMethod");
      SummaryJsonString(out, s.http.method);
    }
    if (s.http.status) {
      field("HttpStatus");
      SummaryJsonInt(out, *s.http.status);
    }
    if (!s.http.url.empty()) {
      field("HttpURL");
      SummaryJsonString(out, s.http.url);
    }
    if (!s.http.user_agent.empty()) {
      field("UserAgent");
      SummaryJsonString(out, s.http.user_agent);
    }
    out += "},";
  }
  SummaryJsonKey(out, "Id");
  SummaryJsonString(out, s.id.ToString());
  out += ',';
  SummaryJsonKey(out, "InstanceIds");
  SummaryJsonNamedList(out, s.instance_ids, "Id");
  out += ',';
  SummaryJsonKey(out, "IsPartial");
  SummaryJsonBool(out, s.is_partial);
  out += ',';
  if (matched_event_us) {
    SummaryJsonKey(out, "MatchedEventTime");
    SummaryJsonDouble(out, EpochSeconds(*matched_event_us));
    out += ',';
  }
  SummaryJsonKey(out, "ResourceARNs");
  SummaryJsonNamedList(out, s.resource_arns, "ARN");
  out += ',';
  if (s.response_time_us) {
    SummaryJsonKey(out, "ResponseTime");
    SummaryJsonDouble(out, EpochSeconds(*s.response_time_us));
    out += ',';
  }
  SummaryJsonKey(out, "ResponseTimeRootCauses");
  SummaryJsonRootCauses(out, s.response_time_root_causes, true);
  out += ',';
  SummaryJsonKey(out, "Revision");
  SummaryJsonInt(out, s.revision);
  out += ',';
  SummaryJsonKey(out, "ServiceIds");
  SummaryJsonServiceIds(out, s.service_ids);
  out += ',';
  SummaryJsonKey(out, "StartTime");
  SummaryJsonDouble(out, EpochSeconds(s.start_time_us));
  out += ',';
  SummaryJsonKey(out, "Users");
  out += '[';
  for (size_t i = 0; i < s.users.size(); ++i) {
    if (i != 0) out += ',';
    out += '{';
    SummaryJsonKey(out, "ServiceIds");
    SummaryJsonServiceIds(out, s.users[i].service_ids);
    out += ',';
    SummaryJsonKey(out, "UserName");
    SummaryJsonString(out, s.users[i].user_name);
    out += '}';
  }
  out += "]}";
}

}  // namespace roentgen::api
