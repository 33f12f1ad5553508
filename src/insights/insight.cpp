#include "insights/insight.h"

#include <fmt/format.h>

#include <array>
#include <cstdint>

#include "common/random.h"

namespace roentgen::insights {
namespace {

using nlohmann::json;

double Seconds(int64_t us) { return static_cast<double>(us) / 1e6; }

json RefsJson(const std::vector<ServiceRef>& refs) {
  json out = json::array();
  for (const ServiceRef& s : refs) out.push_back({{"ServiceId", ServiceRefJson(s)}});
  return out;
}

// The persisted forms (compact keys are not worth the obscurity: records are few).
json RefRecord(const ServiceRef& s) {
  return {{"name", s.name}, {"names", s.names}, {"account", s.account_id}, {"type", s.type}};
}
ServiceRef RefFromRecord(const json& j) {
  ServiceRef s;
  s.name = j.at("name").get<std::string>();
  s.names = j.at("names").get<std::vector<std::string>>();
  s.account_id = j.at("account").get<std::string>();
  s.type = j.at("type").get<std::string>();
  return s;
}
json ImpactRecord(const ImpactStatistics& s) {
  return json::array({s.fault_count, s.ok_count, s.total_count});
}
ImpactStatistics ImpactFromRecord(const json& j) {
  return {j.at(0).get<int64_t>(), j.at(1).get<int64_t>(), j.at(2).get<int64_t>()};
}
json RefsRecord(const std::vector<ServiceRef>& refs) {
  json out = json::array();
  for (const ServiceRef& s : refs) out.push_back(RefRecord(s));
  return out;
}
std::vector<ServiceRef> RefsFromRecord(const json& j) {
  std::vector<ServiceRef> out;
  for (const json& e : j) out.push_back(RefFromRecord(e));
  return out;
}

}  // namespace

std::string_view StateName(InsightState state) {
  return state == InsightState::kActive ? "ACTIVE" : "CLOSED";
}

namespace {

// The UUID text of 16 bytes, with `version` and the RFC 4122 variant set.
std::string InsightUuidText(std::array<uint8_t, 16> b, uint8_t version) {
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | (version << 4));
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string hex;
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) hex += '-';
    hex += fmt::format("{:02x}", b[i]);
  }
  return hex;
}

}  // namespace

std::string NewInsightId() {
  std::array<uint8_t, 16> b;
  FillRandom(b);
  return InsightUuidText(b, 4);
}

std::string InsightIdFor(std::string_view group_name, const graph::ServiceKey& root,
                         int64_t start_us, int attempt) {
  // Each part length-prefixed, so that no two inputs make one byte string.
  std::string input;
  for (std::string_view part :
       {group_name, std::string_view(root.name), std::string_view(root.type),
        std::string_view(root.account_id)}) {
    input += fmt::format("{}:", part.size());
    input += part;
  }
  input += fmt::format("{}/{}", start_us, attempt);
  // Two FNV-1a passes with different offsets: an id, not a secret, so a
  // non-cryptographic 128-bit hash is enough to keep incidents apart.
  std::array<uint8_t, 16> b;
  uint64_t halves[2] = {0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL};
  for (uint64_t& h : halves) {
    for (char c : input) {
      h ^= static_cast<uint8_t>(c);
      h *= 0x100000001b3ULL;
    }
  }
  for (size_t i = 0; i < 16; ++i) b[i] = static_cast<uint8_t>(halves[i / 8] >> (8 * (i % 8)));
  return InsightUuidText(b, 8);
}

json ServiceRefJson(const ServiceRef& s) {
  json j = {{"Name", s.name}, {"Names", s.names}, {"Type", s.type}};
  if (!s.account_id.empty()) j["AccountId"] = s.account_id;
  return j;
}

json ImpactJson(const ImpactStatistics& s) {
  return {{"FaultCount", s.fault_count}, {"OkCount", s.ok_count}, {"TotalCount", s.total_count}};
}

json InsightJson(const Insight& i) {
  json j = {{"InsightId", i.id},
            {"GroupARN", i.group_arn},
            {"GroupName", i.group_name},
            {"RootCauseServiceId", ServiceRefJson(i.root_cause)},
            {"Categories", json::array({"FAULT"})},
            {"State", StateName(i.state)},
            {"StartTime", Seconds(i.start_time_us)},
            {"Summary", i.summary},
            {"ClientRequestImpactStatistics", ImpactJson(i.client_impact)},
            {"RootCauseServiceRequestImpactStatistics", ImpactJson(i.root_cause_impact)},
            {"TopAnomalousServices", RefsJson(i.top_anomalous_services)}};
  if (i.end_time_us) j["EndTime"] = Seconds(*i.end_time_us);
  return j;
}

json InsightSummaryJson(const Insight& i) {
  json j = InsightJson(i);
  j["LastUpdateTime"] = Seconds(i.last_update_time_us);
  return j;
}

json InsightEventJson(const InsightEvent& e) {
  return {{"Summary", e.summary},
          {"EventTime", Seconds(e.event_time_us)},
          {"ClientRequestImpactStatistics", ImpactJson(e.client_impact)},
          {"RootCauseServiceRequestImpactStatistics", ImpactJson(e.root_cause_impact)},
          {"TopAnomalousServices", RefsJson(e.top_anomalous_services)}};
}

std::string ToRecord(const Insight& i) {
  json events = json::array();
  for (const InsightEvent& e : i.events) {
    events.push_back({{"time", e.event_time_us},
                      {"summary", e.summary},
                      {"client", ImpactRecord(e.client_impact)},
                      {"root", ImpactRecord(e.root_cause_impact)},
                      {"top", RefsRecord(e.top_anomalous_services)}});
  }
  json members = json::array();
  for (const auto& [key, m] : i.members) {
    members.push_back({{"service", RefRecord(m.service)},
                       {"baseline", json::array({m.baseline_faults, m.baseline_total})},
                       {"anomalous", m.anomalous},
                       {"settled", ImpactRecord(m.settled)},
                       {"total", ImpactRecord(m.total)}});
  }
  json j = {{"id", i.id},
            {"group", i.group_name},
            {"arn", i.group_arn},
            {"state", StateName(i.state)},
            {"start", i.start_time_us},
            {"updated", i.last_update_time_us},
            {"summary", i.summary},
            {"root_cause", RefRecord(i.root_cause)},
            {"top", RefsRecord(i.top_anomalous_services)},
            {"client", ImpactRecord(i.client_impact)},
            {"root", ImpactRecord(i.root_cause_impact)},
            {"events", std::move(events)},
            {"members", std::move(members)},
            {"settled_to", i.settled_to_us},
            {"client_settled", ImpactRecord(i.client_settled)},
            {"evaluated_to", i.evaluated_to_us},
            {"quiet", i.quiet_evaluations},
            {"last_event_rate", i.last_event_rate}};
  if (i.end_time_us) j["end"] = *i.end_time_us;
  return j.dump();
}

Result<Insight> FromRecord(std::string_view text) {
  try {
    const json j = json::parse(text);
    Insight i;
    i.id = j.at("id").get<std::string>();
    i.group_name = j.at("group").get<std::string>();
    i.group_arn = j.at("arn").get<std::string>();
    i.state = j.at("state").get<std::string>() == "CLOSED" ? InsightState::kClosed
                                                           : InsightState::kActive;
    i.start_time_us = j.at("start").get<int64_t>();
    if (j.contains("end")) i.end_time_us = j.at("end").get<int64_t>();
    i.last_update_time_us = j.at("updated").get<int64_t>();
    i.summary = j.at("summary").get<std::string>();
    i.root_cause = RefFromRecord(j.at("root_cause"));
    i.top_anomalous_services = RefsFromRecord(j.at("top"));
    i.client_impact = ImpactFromRecord(j.at("client"));
    i.root_cause_impact = ImpactFromRecord(j.at("root"));
    for (const json& e : j.at("events")) {
      InsightEvent ev;
      ev.event_time_us = e.at("time").get<int64_t>();
      ev.summary = e.at("summary").get<std::string>();
      ev.client_impact = ImpactFromRecord(e.at("client"));
      ev.root_cause_impact = ImpactFromRecord(e.at("root"));
      ev.top_anomalous_services = RefsFromRecord(e.at("top"));
      i.events.push_back(std::move(ev));
    }
    for (const json& m : j.at("members")) {
      MemberState ms;
      ms.service = RefFromRecord(m.at("service"));
      ms.baseline_faults = m.at("baseline").at(0).get<int64_t>();
      ms.baseline_total = m.at("baseline").at(1).get<int64_t>();
      ms.anomalous = m.at("anomalous").get<bool>();
      ms.settled = ImpactFromRecord(m.at("settled"));
      ms.total = ImpactFromRecord(m.at("total"));
      i.members.emplace(ms.service.key(), std::move(ms));
    }
    i.settled_to_us = j.at("settled_to").get<int64_t>();
    i.client_settled = ImpactFromRecord(j.at("client_settled"));
    i.evaluated_to_us = j.at("evaluated_to").get<int64_t>();
    i.quiet_evaluations = j.at("quiet").get<int>();
    i.last_event_rate = j.at("last_event_rate").get<double>();
    return i;
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(fmt::format("insight record: {}", e.what()));
  }
}

}  // namespace roentgen::insights
