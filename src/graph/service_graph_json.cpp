// JSON rendering of service-graph results. See service_graph_json.h.
#include "graph/service_graph_json.h"

namespace roentgen::graph {
namespace {

double Seconds(int64_t us) { return static_cast<double>(us) / 1e6; }

void PutTimes(nlohmann::json& j, const std::optional<int64_t>& start,
              const std::optional<int64_t>& end) {
  if (start) j["StartTime"] = Seconds(*start);
  if (end) j["EndTime"] = Seconds(*end);
}

nlohmann::json ServicesJson(const std::vector<Service>& services) {
  nlohmann::json out = nlohmann::json::array();
  for (const Service& s : services) out.push_back(ToJson(s));
  return out;
}

}  // namespace

nlohmann::json ToJson(const SummaryStatistics& s) {
  return {
      {"OkCount", s.ok_count},
      {"ErrorStatistics",
       {{"ThrottleCount", s.error_statistics.throttle_count},
        {"OtherCount", s.error_statistics.other_count},
        {"TotalCount", s.error_statistics.total_count}}},
      {"FaultStatistics",
       {{"OtherCount", s.fault_statistics.other_count},
        {"TotalCount", s.fault_statistics.total_count}}},
      {"TotalCount", s.total_count},
      {"TotalResponseTime", s.total_response_time},
  };
}

nlohmann::json ToJson(const std::vector<HistogramEntry>& histogram) {
  nlohmann::json out = nlohmann::json::array();
  for (const HistogramEntry& e : histogram) out.push_back({{"Value", e.value}, {"Count", e.count}});
  return out;
}

nlohmann::json ToJson(const Service& s) {
  nlohmann::json j;
  j["ReferenceId"] = s.reference_id;
  if (!s.name.empty()) j["Name"] = s.name;
  j["Names"] = s.names;
  j["Root"] = s.root;
  if (!s.account_id.empty()) j["AccountId"] = s.account_id;
  if (!s.type.empty()) j["Type"] = s.type;
  j["State"] = s.state;
  PutTimes(j, s.start_us, s.end_us);
  nlohmann::json edges = nlohmann::json::array();
  for (const ServiceEdge& e : s.edges) {
    nlohmann::json je;
    je["ReferenceId"] = e.reference_id;
    PutTimes(je, e.start_us, e.end_us);
    je["SummaryStatistics"] = ToJson(e.summary_statistics);
    je["ResponseTimeHistogram"] = ToJson(e.response_time_histogram);
    nlohmann::json aliases = nlohmann::json::array();
    for (const Alias& a : e.aliases) {
      aliases.push_back({{"Name", a.name}, {"Names", a.names}, {"Type", a.type}});
    }
    je["Aliases"] = std::move(aliases);
    edges.push_back(std::move(je));
  }
  j["Edges"] = std::move(edges);
  j["SummaryStatistics"] = ToJson(s.summary_statistics);
  j["DurationHistogram"] = ToJson(s.duration_histogram);
  j["ResponseTimeHistogram"] = ToJson(s.response_time_histogram);
  return j;
}

nlohmann::json ToJson(const ServiceGraphResult& result) {
  return {
      {"Services", ServicesJson(result.services)},
      {"StartTime", Seconds(result.start_us)},
      {"EndTime", Seconds(result.end_us)},
      {"ContainsOldGroupVersions", result.contains_old_group_versions},
  };
}

nlohmann::json TraceGraphToJson(const ServiceGraphResult& result) {
  return {{"Services", ServicesJson(result.services)}};
}

nlohmann::json ToJson(const std::vector<TimeSeriesPoint>& points) {
  nlohmann::json list = nlohmann::json::array();
  for (const TimeSeriesPoint& p : points) {
    nlohmann::json j;
    j["Timestamp"] = Seconds(p.timestamp_us);
    if (p.edge_summary) j["EdgeSummaryStatistics"] = ToJson(*p.edge_summary);
    if (p.service_summary) j["ServiceSummaryStatistics"] = ToJson(*p.service_summary);
    j["ResponseTimeHistogram"] = ToJson(p.response_time_histogram);
    list.push_back(std::move(j));
  }
  return {{"TimeSeriesServiceStatistics", std::move(list)}, {"ContainsOldGroupVersions", false}};
}

}  // namespace roentgen::graph
