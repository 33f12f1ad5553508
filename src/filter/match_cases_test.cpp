// Data-driven evaluation tests: tests/testdata/filter/match_cases.json holds
// hand-written trace records, and for each expression exactly the trace ids it
// must match. Each expression is also compiled from its canonical printing and
// must give the same answer.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "filter/filter.h"

namespace roentgen::filter {
namespace {

using nlohmann::json;

int64_t Us(const json& seconds) { return std::llround(seconds.get<double>() * 1e6); }

std::string Str(const json& j, const char* key) { return j.value(key, std::string()); }

xray::RootCause ToRootCause(const json& j) {
  xray::RootCause rc;
  rc.client_impacting = j.value("ClientImpacting", false);
  for (const json& s : j.value("Services", json::array())) {
    xray::RootCauseService svc;
    svc.name = Str(s, "Name");
    svc.type = Str(s, "Type");
    svc.account_id = Str(s, "AccountId");
    svc.inferred = s.value("Inferred", false);
    for (const json& n : s.value("Names", json::array())) svc.names.push_back(n.get<std::string>());
    for (const json& e : s.value("EntityPath", json::array())) {
      xray::RootCauseEntity ent;
      ent.name = Str(e, "Name");
      ent.remote = e.value("Remote", false);
      if (e.contains("Coverage")) ent.coverage = e["Coverage"].get<double>();
      for (const json& x : e.value("Exceptions", json::array())) {
        ent.exceptions.push_back({Str(x, "Name"), Str(x, "Message")});
      }
      svc.entity_path.push_back(std::move(ent));
    }
    rc.services.push_back(std::move(svc));
  }
  return rc;
}

graph::Observation ToObservation(const json& j) {
  graph::Observation o;
  o.start_us = Us(j.value("start", json(0)));
  if (j.contains("end")) o.end_us = Us(j["end"]);
  o.error = j.value("error", false);
  o.fault = j.value("fault", false);
  o.throttle = j.value("throttle", false);
  if (j.contains("status")) o.http_status = j["status"].get<int>();
  o.http_url = Str(j, "url");
  o.http_method = Str(j, "method");
  o.http_user_agent = Str(j, "user_agent");
  o.http_client_ip = Str(j, "client_ip");
  o.user = Str(j, "user");
  o.entity_name = Str(j, "name");
  return o;
}

graph::TraceRecord ToRecord(const json& j) {
  graph::TraceRecord r;
  const json s = j.value("summary", json::object());
  xray::TraceSummary& sum = r.summary;
  if (s.contains("response_time")) sum.response_time_us = Us(s["response_time"]);
  if (s.contains("duration")) sum.duration_us = Us(s["duration"]);
  sum.has_fault = s.value("fault", false);
  sum.has_error = s.value("error", false);
  sum.has_throttle = s.value("throttle", false);
  sum.is_partial = s.value("partial", false);
  const json h = s.value("http", json::object());
  sum.http.url = Str(h, "url");
  if (h.contains("status")) sum.http.status = h["status"].get<int>();
  sum.http.method = Str(h, "method");
  sum.http.user_agent = Str(h, "user_agent");
  sum.http.client_ip = Str(h, "client_ip");
  for (const json& u : s.value("users", json::array())) {
    sum.users.push_back({u.get<std::string>(), {}});
  }
  sum.root_segment_name = Str(s, "name");
  sum.root_segment_origin = Str(s, "origin");
  const json annotations = s.value("annotations", json::object());
  for (const auto& [key, values] : annotations.items()) {
    xray::TraceAnnotation a;
    a.key = key;
    for (const json& v : values) {
      xray::TraceAnnotationValue tv;
      if (v.is_string()) tv.value = v.get<std::string>();
      if (v.is_number()) tv.value = v.get<double>();
      if (v.is_boolean()) tv.value = v.get<bool>();
      a.values.push_back(std::move(tv));
    }
    sum.annotations.push_back(std::move(a));
  }
  for (const json& v : s.value("availability_zones", json::array()))
    sum.availability_zones.push_back(v);
  for (const json& v : s.value("instance_ids", json::array())) sum.instance_ids.push_back(v);
  for (const json& v : s.value("resource_arns", json::array())) sum.resource_arns.push_back(v);
  for (const json& v : s.value("fault_root_causes", json::array()))
    sum.fault_root_causes.push_back(ToRootCause(v));
  for (const json& v : s.value("error_root_causes", json::array()))
    sum.error_root_causes.push_back(ToRootCause(v));
  for (const json& v : s.value("response_time_root_causes", json::array())) {
    sum.response_time_root_causes.push_back(ToRootCause(v));
  }
  const json g = j.value("graph", json::object());
  for (const json& n : g.value("nodes", json::array())) {
    graph::Node node;
    node.id.name = Str(n, "name");
    node.id.type = Str(n, "type");
    node.id.account_id = Str(n, "account");
    for (const json& x : n.value("names", json::array())) node.id.names.push_back(x);
    node.root = n.value("root", false);
    node.inferred = n.value("inferred", false);
    node.client = n.value("client", false);
    for (const json& o : n.value("observations", json::array())) {
      node.observations.push_back(ToObservation(o));
    }
    r.graph.nodes.push_back(std::move(node));
  }
  for (const json& e : g.value("edges", json::array())) {
    graph::Edge edge;
    edge.from = e["from"].get<uint32_t>();
    edge.to = e["to"].get<uint32_t>();
    for (const json& o : e.value("observations", json::array())) {
      edge.observations.push_back(ToObservation(o));
    }
    r.graph.edges.push_back(std::move(edge));
  }
  return r;
}

class JsonGroups : public GroupResolver {
 public:
  explicit JsonGroups(json groups) : groups_(std::move(groups)) {}
  Result<std::string> GroupFilter(std::string_view name, bool by_arn) const override {
    if (by_arn || !groups_.contains(std::string(name))) return Status::NotFound("no group");
    return groups_[std::string(name)].get<std::string>();
  }

 private:
  json groups_;
};

std::vector<std::string> MatchingIds(const CompiledFilter& f,
                                     const std::map<std::string, graph::TraceRecord>& traces) {
  std::vector<std::string> ids;
  for (const auto& [id, rec] : traces) {
    if (f.Matches(rec)) ids.push_back(id);
  }
  return ids;
}

TEST(MatchCasesTest, ExactlyTheseTraceIds) {
  std::ifstream in("tests/testdata/filter/match_cases.json");
  ASSERT_TRUE(in.good()) << "run from the source root";
  const json data = json::parse(in);
  std::map<std::string, graph::TraceRecord> traces;
  for (const auto& [id, t] : data["traces"].items()) traces[id] = ToRecord(t);
  JsonGroups groups(data.value("groups", json::object()));
  ASSERT_GE(data["cases"].size(), 100u);
  for (const json& c : data["cases"]) {
    const std::string expr = c["expr"];
    const auto want = c["ids"].get<std::vector<std::string>>();
    auto f = CompileFilter(expr, &groups);
    ASSERT_TRUE(f.ok()) << expr << ": " << f.status().ToString();
    EXPECT_EQ(MatchingIds(*f, traces), want) << expr;
    auto again = CompileFilter(f->ToString(), &groups);
    ASSERT_TRUE(again.ok()) << f->ToString();
    EXPECT_EQ(MatchingIds(*again, traces), want) << "canonical form: " << f->ToString();
  }
}

}  // namespace
}  // namespace roentgen::filter
