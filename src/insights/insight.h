// An X-Ray insight and its events, as Roentgen keeps them, with their JSON
// forms: X-Ray's wire shapes (Insight, InsightSummary, InsightEvent) and the
// persisted record, which adds the detector's bookkeeping. Plain value types,
// thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "graph/service_graph.h"

namespace roentgen::insights {

// X-Ray's ServiceId: {Name, Names, AccountId, Type}.
struct ServiceRef {
  std::string name;
  std::vector<std::string> names;
  std::string account_id;
  std::string type;
  graph::ServiceKey key() const { return {name, type, account_id}; }
  bool operator==(const ServiceRef&) const = default;
};

// X-Ray's RequestImpactStatistics.
struct ImpactStatistics {
  int64_t fault_count = 0;
  int64_t ok_count = 0;
  int64_t total_count = 0;
  void Add(const ImpactStatistics& o) {
    fault_count += o.fault_count;
    ok_count += o.ok_count;
    total_count += o.total_count;
  }
  bool operator==(const ImpactStatistics&) const = default;
};

enum class InsightState { kActive, kClosed };
std::string_view StateName(InsightState state);

struct InsightEvent {
  int64_t event_time_us = 0;
  std::string summary;
  ImpactStatistics client_impact;
  ImpactStatistics root_cause_impact;
  std::vector<ServiceRef> top_anomalous_services;
};

// The detector's bookkeeping for one member service of an insight.
struct MemberState {
  ServiceRef service;
  int64_t baseline_faults = 0;  // the frozen baseline it is compared with
  int64_t baseline_total = 0;
  bool anomalous = true;  // at the last evaluation
  // Its requests since it joined: `settled` over [joined, settled_to_us),
  // `total` = settled + the minutes after, recounted at each evaluation.
  ImpactStatistics settled;
  ImpactStatistics total;
};

struct Insight {
  std::string id;  // a UUID
  std::string group_name;
  std::string group_arn;
  InsightState state = InsightState::kActive;
  int64_t start_time_us = 0;
  std::optional<int64_t> end_time_us;
  int64_t last_update_time_us = 0;
  std::string summary;
  ServiceRef root_cause;
  std::vector<ServiceRef> top_anomalous_services;  // the root cause first
  ImpactStatistics client_impact;
  ImpactStatistics root_cause_impact;
  std::vector<InsightEvent> events;  // oldest first, at most kMaxEventsPerInsight

  // Detector state (persisted, never on the wire).
  std::map<graph::ServiceKey, MemberState> members;
  // The minutes before this are counted for good (in `settled`, and
  // `client_settled` for the entry services); those after are recounted at
  // each evaluation, so that late segments are counted.
  int64_t settled_to_us = 0;
  ImpactStatistics client_settled;
  int64_t evaluated_to_us = 0;  // the last window end evaluated
  int quiet_evaluations = 0;    // consecutive windows without an anomalous member
  double last_event_rate = 0;   // the root cause's window fault rate at the last event
};

// Events beyond this are dropped oldest-first but for the first (the opening).
inline constexpr size_t kMaxEventsPerInsight = 500;

std::string NewInsightId();  // a random (version 4) UUID

// The id of the insight of `group_name` whose root cause is `root` and that
// started at `start_us`: a UUID (version 8, RFC 9562's custom layout) made
// of a 128-bit hash of the three, so that two detectors opening the same
// incident (over a shared store, while leadership changes) write one
// insight. `attempt` > 0 gives further ids for the rare reuse of all three
// by a later incident after the first closed.
std::string InsightIdFor(std::string_view group_name, const graph::ServiceKey& root,
                         int64_t start_us, int attempt);

nlohmann::json ServiceRefJson(const ServiceRef& s);
nlohmann::json ImpactJson(const ImpactStatistics& s);
// X-Ray's Insight (GetInsight) and InsightSummary (adds LastUpdateTime).
nlohmann::json InsightJson(const Insight& insight);
nlohmann::json InsightSummaryJson(const Insight& insight);
nlohmann::json InsightEventJson(const InsightEvent& event);

// The persisted record and back; FromRecord errors are Corruption.
std::string ToRecord(const Insight& insight);
Result<Insight> FromRecord(std::string_view text);

}  // namespace roentgen::insights
