#include "graph/trace_record.h"

#include <string>
#include <variant>
#include <vector>

namespace roentgen::graph {

namespace {

// libstdc++ keeps strings of up to 15 characters inside the object.
size_t HeapOf(const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; }

size_t HeapOf(const std::vector<std::string>& v) {
  size_t bytes = v.capacity() * sizeof(std::string);
  for (const std::string& s : v) bytes += HeapOf(s);
  return bytes;
}

size_t HeapOf(const xray::ServiceId& s) {
  return HeapOf(s.name) + HeapOf(s.names) + HeapOf(s.account_id) + HeapOf(s.type);
}

size_t HeapOf(const std::vector<xray::ServiceId>& v) {
  size_t bytes = v.capacity() * sizeof(xray::ServiceId);
  for (const xray::ServiceId& s : v) bytes += HeapOf(s);
  return bytes;
}

size_t HeapOf(const std::vector<xray::RootCause>& causes) {
  size_t bytes = causes.capacity() * sizeof(xray::RootCause);
  for (const xray::RootCause& c : causes) {
    bytes += c.services.capacity() * sizeof(xray::RootCauseService);
    for (const xray::RootCauseService& s : c.services) {
      bytes += HeapOf(s.name) + HeapOf(s.names) + HeapOf(s.type) + HeapOf(s.account_id);
      bytes += s.entity_path.capacity() * sizeof(xray::RootCauseEntity);
      for (const xray::RootCauseEntity& e : s.entity_path) {
        bytes += HeapOf(e.name) + e.exceptions.capacity() * sizeof(xray::RootCauseException);
        for (const xray::RootCauseException& x : e.exceptions) {
          bytes += HeapOf(x.name) + HeapOf(x.message);
        }
      }
    }
  }
  return bytes;
}

size_t HeapOf(const std::vector<Observation>& observations) {
  size_t bytes = observations.capacity() * sizeof(Observation);
  for (const Observation& o : observations) {
    bytes += HeapOf(o.http_url) + HeapOf(o.http_method) + HeapOf(o.http_user_agent) +
             HeapOf(o.http_client_ip) + HeapOf(o.user) + HeapOf(o.entity_name);
  }
  return bytes;
}

}  // namespace

size_t EstimateMemoryBytes(const TraceRecord& record) {
  const xray::TraceSummary& s = record.summary;
  size_t bytes = sizeof(TraceRecord);
  bytes += HeapOf(s.http.url) + HeapOf(s.http.method) + HeapOf(s.http.user_agent) +
           HeapOf(s.http.client_ip);
  bytes += s.annotations.capacity() * sizeof(xray::TraceAnnotation);
  for (const xray::TraceAnnotation& a : s.annotations) {
    bytes += HeapOf(a.key) + a.values.capacity() * sizeof(xray::TraceAnnotationValue);
    for (const xray::TraceAnnotationValue& v : a.values) {
      if (const auto* text = std::get_if<std::string>(&v.value)) bytes += HeapOf(*text);
      bytes += HeapOf(v.service_ids);
    }
  }
  bytes += s.users.capacity() * sizeof(xray::TraceUser);
  for (const xray::TraceUser& u : s.users) bytes += HeapOf(u.user_name) + HeapOf(u.service_ids);
  bytes += HeapOf(s.service_ids) + HeapOf(s.resource_arns) + HeapOf(s.instance_ids) +
           HeapOf(s.availability_zones);
  if (s.entry_point) bytes += HeapOf(*s.entry_point);
  bytes += HeapOf(s.root_segment_name) + HeapOf(s.root_segment_origin);
  bytes += HeapOf(s.fault_root_causes) + HeapOf(s.error_root_causes) +
           HeapOf(s.response_time_root_causes);

  const TraceGraph& g = record.graph;
  bytes += g.nodes.capacity() * sizeof(Node);
  for (const Node& n : g.nodes) bytes += HeapOf(n.id) + HeapOf(n.observations);
  bytes += g.edges.capacity() * sizeof(Edge);
  for (const Edge& e : g.edges) bytes += HeapOf(e.observations);
  return bytes;
}

}  // namespace roentgen::graph
