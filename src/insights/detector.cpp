#include "insights/detector.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "graph/rollup_store.h"

namespace roentgen::insights {
namespace {

using graph::ServiceKey;

struct ServiceCounts {
  ServiceRef ref;
  FaultRateSample sample;  // faults and completed requests
  ImpactStatistics impact;
  bool root = false;
};

// A service graph as the detector reads it: per service key its counts, and
// the callee keys of each caller. The client node is left out.
struct GraphIndex {
  std::map<ServiceKey, ServiceCounts> services;
  std::map<ServiceKey, std::set<ServiceKey>> callees;
};

GraphIndex Index(const graph::ServiceGraphResult& result) {
  GraphIndex index;
  std::map<int32_t, ServiceKey> by_reference;
  for (const graph::Service& s : result.services) {
    by_reference[s.reference_id] = ServiceKey{s.name, s.type, s.account_id};
  }
  for (const graph::Service& s : result.services) {
    if (s.type == "client") continue;
    const ServiceKey key{s.name, s.type, s.account_id};
    ServiceCounts c;
    c.ref = ServiceRef{s.name, s.names, s.account_id, s.type};
    const graph::SummaryStatistics& st = s.summary_statistics;
    c.sample = {st.fault_statistics.total_count, st.total_count};
    c.impact = {st.fault_statistics.total_count, st.ok_count, st.total_count};
    c.root = s.root;
    index.services[key] = std::move(c);
    for (const graph::ServiceEdge& e : s.edges) {
      auto it = by_reference.find(e.reference_id);
      if (it != by_reference.end()) index.callees[key].insert(it->second);
    }
  }
  return index;
}

// Every key reachable from `from` along the edges (not `from` itself unless
// on a cycle).
std::set<ServiceKey> Downstream(const std::map<ServiceKey, std::set<ServiceKey>>& callees,
                                const ServiceKey& from) {
  std::set<ServiceKey> seen;
  std::deque<ServiceKey> todo{from};
  while (!todo.empty()) {
    ServiceKey k = std::move(todo.front());
    todo.pop_front();
    auto it = callees.find(k);
    if (it == callees.end()) continue;
    for (const ServiceKey& next : it->second) {
      if (seen.insert(next).second) todo.push_back(next);
    }
  }
  return seen;
}

// The farthest-downstream services of `set`: those from which no other
// member of `set` can be reached. Every member of a non-empty set reaches at
// least one (the graph may have cycles: then a cycle's members are all roots).
std::vector<ServiceKey> RootCauses(const std::map<ServiceKey, std::set<ServiceKey>>& callees,
                                   const std::set<ServiceKey>& set) {
  std::vector<ServiceKey> roots;
  for (const ServiceKey& s : set) {
    const std::set<ServiceKey> down = Downstream(callees, s);
    const bool reaches_other = std::any_of(set.begin(), set.end(), [&](const ServiceKey& t) {
      return t != s && down.count(t) > 0 && Downstream(callees, t).count(s) == 0;
    });
    if (!reaches_other) roots.push_back(s);
  }
  return roots;
}

ImpactStatistics ClientImpact(const GraphIndex& index) {
  ImpactStatistics out;
  for (const auto& [key, c] : index.services) {
    if (c.root) out.Add(c.impact);
  }
  return out;
}

std::string Percent(double rate) { return fmt::format("{:.1f}%", rate * 100); }

std::string DisplayName(const ServiceRef& s) {
  return s.type.empty() ? s.name : fmt::format("{} ({})", s.name, s.type);
}

}  // namespace

Status DetectorConfig::Validate() const {
  if (window_us < graph::kMinuteUs || window_us % graph::kMinuteUs != 0) {
    return Status::InvalidArgument("insights: the window must be a whole number of minutes");
  }
  if (baseline_us < graph::kMinuteUs || baseline_us % graph::kMinuteUs != 0) {
    return Status::InvalidArgument("insights: the baseline must be a whole number of minutes");
  }
  if (close_after_quiet < 1) return Status::InvalidArgument("insights: close_after_quiet ≥ 1");
  return Status::Ok();
}

Detector::Detector(api::GroupRegistry& groups, const GroupGraphs& graphs, InsightStore& insights,
                   MetricsRegistry& metrics, InsightSink* sink, DetectorConfig config)
    : groups_(groups),
      graphs_(graphs),
      insights_(insights),
      sink_(sink),
      config_(std::move(config)),
      evaluations_(metrics.GetCounter("roentgen_insights_evaluations_total",
                                      "Evaluations of a group's fault rates by the insights "
                                      "detector")),
      errors_(metrics.GetCounter("roentgen_insights_evaluation_errors_total",
                                 "Group evaluations skipped because the group's graph could not "
                                 "be read")),
      opened_(metrics.GetCounter("roentgen_insights_opened_total", "Insights opened")),
      closed_(metrics.GetCounter("roentgen_insights_closed_total", "Insights closed")),
      events_(metrics.GetCounter("roentgen_insights_events_total", "Insight events recorded")) {}

void Detector::Record(Insight& insight, InsightEvent event) {
  insight.events.push_back(std::move(event));
  events_.Inc();
}

Status Detector::Commit(const api::Group& group, const Insight& insight, size_t events_before) {
  RG_RETURN_IF_ERROR(insights_.Put(insight));
  if (sink_ != nullptr && group.insights.notifications_enabled) {
    for (size_t i = events_before; i < insight.events.size(); ++i) {
      sink_->OnEvent(group, insight, insight.events[i]);
    }
  }
  return Status::Ok();
}

Status Detector::EvaluateAt(int64_t now_us) {
  const int64_t window_end = now_us - (now_us % graph::kMinuteUs);
  Result<std::vector<api::Group>> groups = groups_.List();
  if (!groups.ok()) return groups.status();
  Status first = Status::Ok();
  std::set<std::string> evaluated;
  for (const api::Group& group : *groups) {
    if (!group.insights.insights_enabled) continue;
    evaluated.insert(group.name);
    evaluations_.Inc();
    if (Status s = EvaluateGroup(group, now_us, window_end); !s.ok()) {
      errors_.Inc();
      spdlog::warn("insights: group '{}' not evaluated: {}", group.name, s.message());
      if (first.ok()) first = s;
    }
  }
  // Insights of groups that are gone or have insights off can no longer be
  // followed: close them rather than leave them ACTIVE for good.
  Result<std::vector<Insight>> orphans = insights_.Find([&](const Insight& i) {
    return i.state == InsightState::kActive && evaluated.count(i.group_name) == 0;
  });
  if (!orphans.ok() && first.ok()) first = orphans.status();
  for (Insight& insight : orphans.ok() ? *orphans : std::vector<Insight>{}) {
    insight.state = InsightState::kClosed;
    insight.end_time_us = now_us;
    insight.last_update_time_us = now_us;
    InsightEvent event{now_us,
                       "Insights are no longer evaluated for this group (deleted, or insights "
                       "disabled): the insight is closed",
                       insight.client_impact, insight.root_cause_impact,
                       insight.top_anomalous_services};
    insight.events.push_back(std::move(event));
    events_.Inc();
    closed_.Inc();
    if (Status s = insights_.Put(insight); !s.ok() && first.ok()) first = s;
  }
  if (Status s = insights_.Expire(now_us); !s.ok() && first.ok()) first = s;
  return first;
}

Status Detector::EvaluateGroup(const api::Group& group, int64_t now_us, int64_t window_end) {
  const FaultRateThresholds& t = config_.thresholds;
  const int64_t window_start = window_end - config_.window_us;
  const int64_t baseline_start = window_start - config_.baseline_us;
  Result<std::unique_ptr<GroupGraphView>> view = graphs_.Load(group, baseline_start, window_end);
  if (!view.ok()) return view.status();
  const GraphIndex baseline = Index((*view)->Query(baseline_start, window_start));
  const GraphIndex window = Index((*view)->Query(window_start, window_end));
  // Edges seen in either range: a call path that was quiet in the window
  // still says who is downstream of whom.
  std::map<ServiceKey, std::set<ServiceKey>> callees = baseline.callees;
  for (const auto& [from, to] : window.callees) callees[from].insert(to.begin(), to.end());

  Result<std::vector<Insight>> found = insights_.Find([&](const Insight& i) {
    return i.state == InsightState::kActive && i.group_name == group.name;
  });
  if (!found.ok()) return found.status();
  std::vector<Insight> active = std::move(*found);
  std::map<ServiceKey, FaultRateSample> frozen;
  for (const Insight& i : active) {
    for (const auto& [key, m] : i.members) {
      frozen.emplace(key, FaultRateSample{m.baseline_faults, m.baseline_total});
    }
  }

  std::map<ServiceKey, FaultRateVerdict> verdicts;
  std::set<ServiceKey> opening;
  for (const auto& [key, counts] : window.services) {
    FaultRateSample base;
    if (auto f = frozen.find(key); f != frozen.end()) {
      base = f->second;
    } else if (auto b = baseline.services.find(key); b != baseline.services.end()) {
      base = b->second.sample;
    }
    const FaultRateVerdict v = TestFaultRate(base, counts.sample, t);
    verdicts[key] = v;
    if (v.opens) opening.insert(key);
  }
  auto continues = [&](const ServiceKey& key) {
    auto it = verdicts.find(key);
    return it != verdicts.end() && it->second.continues;
  };
  auto sliding_baseline = [&](const ServiceKey& key) {
    auto b = baseline.services.find(key);
    return b == baseline.services.end() ? FaultRateSample{} : b->second.sample;
  };
  auto connected = [&](const ServiceKey& a, const ServiceKey& b) {
    return Downstream(callees, a).count(b) > 0 || Downstream(callees, b).count(a) > 0;
  };

  // The impact statistics: the minutes before the window are settled (late
  // segments have had the window's length to arrive), the window's own are
  // recounted. A scanned view starts at baseline_start: after a gap in the
  // evaluations longer than the baseline, the minutes before it are lost.
  auto count_impact = [&](Insight& insight) {
    int64_t from = std::max(insight.settled_to_us, baseline_start);
    if (from < window_start) {
      const GraphIndex settled = Index((*view)->Query(from, window_start));
      for (auto& [key, m] : insight.members) {
        if (auto it = settled.services.find(key); it != settled.services.end()) {
          m.settled.Add(it->second.impact);
        }
      }
      insight.client_settled.Add(ClientImpact(settled));
      from = window_start;
    }
    insight.settled_to_us = from;
    const GraphIndex live = Index((*view)->Query(from, window_end));
    for (auto& [key, m] : insight.members) {
      m.total = m.settled;
      if (auto it = live.services.find(key); it != live.services.end()) {
        m.total.Add(it->second.impact);
      }
    }
    insight.client_impact = insight.client_settled;
    insight.client_impact.Add(ClientImpact(live));
  };

  // The root cause and ordered anomalous services of an insight from its
  // members that are anomalous now; false if none is.
  auto derive = [&](Insight& insight) {
    std::set<ServiceKey> anomalous;
    for (const auto& [key, m] : insight.members) {
      if (m.anomalous) anomalous.insert(key);
    }
    if (anomalous.empty()) return false;
    auto excess = [&](const ServiceKey& k) {
      const FaultRateVerdict& v = verdicts[k];
      return v.window_rate - v.baseline_rate;
    };
    std::vector<ServiceKey> roots = RootCauses(callees, anomalous);
    const ServiceKey root = *std::max_element(
        roots.begin(), roots.end(),
        [&](const ServiceKey& a, const ServiceKey& b) { return excess(a) < excess(b); });
    std::vector<ServiceKey> others;
    for (const ServiceKey& k : anomalous) {
      if (k != root) others.push_back(k);
    }
    std::stable_sort(others.begin(), others.end(), [&](const ServiceKey& a, const ServiceKey& b) {
      return excess(a) > excess(b);
    });
    insight.root_cause = insight.members.at(root).service;
    insight.top_anomalous_services = {insight.root_cause};
    for (const ServiceKey& k : others) {
      insight.top_anomalous_services.push_back(insight.members.at(k).service);
    }
    insight.root_cause_impact = insight.members.at(root).total;
    const FaultRateVerdict& v = verdicts[root];
    insight.summary =
        fmt::format("The fault rate of {} is {} over the last {} minutes, against {} before",
                    DisplayName(insight.root_cause), Percent(v.window_rate),
                    config_.window_us / graph::kMinuteUs, Percent(v.baseline_rate));
    if (!others.empty()) {
      insight.summary += fmt::format("; {} more anomalous service{} upstream", others.size(),
                                     others.size() == 1 ? "" : "s");
    }
    return true;
  };

  std::set<ServiceKey> taken;  // anomalous services now in an active insight
  for (Insight& insight : active) {
    const size_t events_before = insight.events.size();
    const bool advanced = window_end > insight.evaluated_to_us;
    const ServiceRef old_root = insight.root_cause;
    const std::vector<ServiceRef> old_top = insight.top_anomalous_services;
    for (auto& [key, m] : insight.members) {
      m.anomalous = continues(key);
      if (m.anomalous) taken.insert(key);
    }
    for (const ServiceKey& key : opening) {
      if (insight.members.count(key) > 0) continue;
      const bool joins = std::any_of(insight.members.begin(), insight.members.end(),
                                     [&](const auto& m) { return connected(key, m.first); });
      if (!joins) continue;
      MemberState m;
      m.service = window.services.at(key).ref;
      const FaultRateSample base = sliding_baseline(key);
      m.baseline_faults = base.faults;
      m.baseline_total = base.total;
      insight.members.emplace(key, std::move(m));
      taken.insert(key);
    }
    count_impact(insight);
    insight.last_update_time_us = now_us;
    insight.evaluated_to_us = std::max(insight.evaluated_to_us, window_end);
    if (derive(insight)) {
      insight.quiet_evaluations = 0;
      const double rate = verdicts[insight.root_cause.key()].window_rate;
      const bool rate_moved = insight.last_event_rate > 0 &&
                              (rate >= insight.last_event_rate * config_.notable_rate_factor ||
                               rate <= insight.last_event_rate / config_.notable_rate_factor);
      std::string what;
      if (!(insight.root_cause == old_root)) {
        what = fmt::format("The root cause is now {}", DisplayName(insight.root_cause));
      } else if (insight.top_anomalous_services != old_top) {
        std::vector<std::string> names;
        for (const ServiceRef& r : insight.top_anomalous_services) names.push_back(DisplayName(r));
        what = fmt::format("The anomalous services are now {}", fmt::join(names, ", "));
      } else if (rate_moved) {
        what = fmt::format("The fault rate of {} changed to {}", DisplayName(insight.root_cause),
                           Percent(rate));
      }
      if (!what.empty()) {
        insight.last_event_rate = rate;
        Record(insight, InsightEvent{now_us, fmt::format("{}. {}", what, insight.summary),
                                     insight.client_impact, insight.root_cause_impact,
                                     insight.top_anomalous_services});
      }
    } else {
      insight.root_cause_impact = insight.members.at(insight.root_cause.key()).total;
      if (advanced) ++insight.quiet_evaluations;
      if (insight.quiet_evaluations >= config_.close_after_quiet) {
        insight.state = InsightState::kClosed;
        insight.end_time_us = window_end;
        closed_.Inc();
        Record(insight,
               InsightEvent{now_us,
                            fmt::format("The fault rate of {} is back to its baseline: the "
                                        "insight is closed",
                                        DisplayName(insight.root_cause)),
                            insight.client_impact, insight.root_cause_impact,
                            insight.top_anomalous_services});
      }
    }
    RG_RETURN_IF_ERROR(Commit(group, insight, events_before));
  }

  // New incidents: the remaining anomalous services, one insight per root cause.
  std::set<ServiceKey> fresh;
  for (const ServiceKey& k : opening) {
    if (taken.count(k) == 0) fresh.insert(k);
  }
  for (const ServiceKey& root : RootCauses(callees, fresh)) {
    if (taken.count(root) > 0) continue;
    Insight insight;
    insight.group_name = group.name;
    insight.group_arn = groups_.Arn(group);
    insight.state = InsightState::kActive;
    for (const ServiceKey& k : fresh) {
      if (k != root && (taken.count(k) > 0 || Downstream(callees, k).count(root) == 0)) continue;
      MemberState m;
      m.service = window.services.at(k).ref;
      const FaultRateSample base = sliding_baseline(k);
      m.baseline_faults = base.faults;
      m.baseline_total = base.total;
      insight.members.emplace(k, std::move(m));
      taken.insert(k);
    }
    // The anomaly started at the window's first minute in which the root
    // cause's fault rate was already above its baseline by the minimum excess.
    const double threshold = verdicts[root].baseline_rate + t.min_excess;
    insight.start_time_us = window_start;
    for (int64_t m = window_start; m < window_end; m += graph::kMinuteUs) {
      const GraphIndex minute = Index((*view)->Query(m, m + graph::kMinuteUs));
      auto it = minute.services.find(root);
      if (it != minute.services.end() && it->second.sample.total > 0 &&
          static_cast<double>(it->second.sample.faults) >=
              threshold * static_cast<double>(it->second.sample.total) &&
          it->second.sample.faults > 0) {
        insight.start_time_us = m;
        break;
      }
    }
    // The id follows from the incident, so a second detector opening it
    // (during a change of leader over a shared store) writes the same
    // insight; an id whose insight closed long ago goes to the next attempt.
    for (int attempt = 0;; ++attempt) {
      insight.id = InsightIdFor(group.name, root, insight.start_time_us, attempt);
      Result<std::optional<Insight>> existing = insights_.Lookup(insight.id);
      if (!existing.ok()) return existing.status();
      if (!existing->has_value() || (*existing)->state == InsightState::kActive) break;
    }
    insight.settled_to_us = insight.start_time_us;
    count_impact(insight);
    insight.last_update_time_us = now_us;
    insight.evaluated_to_us = window_end;
    derive(insight);
    insight.last_event_rate = verdicts[root].window_rate;
    opened_.Inc();
    Record(insight, InsightEvent{now_us, insight.summary, insight.client_impact,
                                 insight.root_cause_impact, insight.top_anomalous_services});
    RG_RETURN_IF_ERROR(Commit(group, insight, 0));
  }
  return Status::Ok();
}

}  // namespace roentgen::insights
