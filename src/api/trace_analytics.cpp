#include "api/trace_analytics.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "api/json_io.h"
#include "api/summary_json.h"
#include "graph/histogram.h"

namespace roentgen::api {
namespace {

using nlohmann::json;

// Appends one part of a composite key, length first, so that parts never run
// into each other whatever bytes they hold.
void AppendPart(std::string& key, std::string_view part) {
  const auto size = static_cast<uint32_t>(part.size());
  key.append(reinterpret_cast<const char*>(&size), sizeof(size));
  key.append(part);
}

// The identity of an annotation value as a map key: type tag, then content.
void EncodeAnnotationValue(const xray::AnnotationValue& value, std::string& key) {
  if (const auto* s = std::get_if<std::string>(&value)) {
    key.push_back('s');
    key.append(*s);
  } else if (const auto* d = std::get_if<double>(&value)) {
    key.push_back('n');
    const double normalized = *d == 0 ? 0.0 : *d;  // -0 and 0 are one value
    char bytes[sizeof(double)];
    std::memcpy(bytes, &normalized, sizeof(double));
    key.append(bytes, sizeof(bytes));
  } else {
    key.push_back(std::get<bool>(value) ? 't' : 'f');
  }
}

// Traces per value of one list, keyed by an encoded identity (lookups of a
// known value do not allocate). At most `max_values` distinct values are
// tracked, and no more than the shared `budget` allows (when given); a trace
// whose value is not tracked is counted in `untracked_`.
template <typename V>
class ValueCounts {
 public:
  explicit ValueCounts(size_t max_values, size_t* budget = nullptr)
      : max_values_(max_values), budget_(budget) {}

  // One trace with the value whose identity is `key`; `make()` builds the
  // value when it is first met.
  template <typename Make>
  void Add(const std::string& key, Make&& make) {
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      if (entries_.size() >= max_values_ || (budget_ != nullptr && *budget_ == 0)) {
        ++untracked_;
        return;
      }
      if (budget_ != nullptr) --*budget_;
      it = entries_.emplace(key, Entry{make(), 0}).first;
    }
    ++it->second.count;
  }

  struct Listed {
    const V* value;
    int64_t count;
  };
  // The `limit` values with the most traces (ties: the smaller value first),
  // and in `other` the traces counted for every value not listed.
  std::vector<Listed> Top(size_t limit, int64_t& other) const {
    std::vector<Listed> all;
    all.reserve(entries_.size());
    for (const auto& [key, entry] : entries_) all.push_back({&entry.value, entry.count});
    const size_t n = std::min(limit, all.size());
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(),
                      [](const Listed& a, const Listed& b) {
                        if (a.count != b.count) return a.count > b.count;
                        return *a.value < *b.value;
                      });
    other = untracked_;
    for (size_t i = n; i < all.size(); ++i) other += all[i].count;
    all.resize(n);
    return all;
  }

 private:
  struct Entry {
    V value;
    int64_t count = 0;
  };
  std::unordered_map<std::string, Entry> entries_;
  size_t max_values_;
  size_t* budget_;
  int64_t untracked_ = 0;
};

struct StatusCounts {
  int64_t ok = 0, error = 0, throttle = 0, fault = 0;
  void Add(const xray::TraceSummary& s) {
    if (s.has_fault) {
      ++fault;
    } else if (s.has_throttle) {
      ++throttle;
    } else if (s.has_error) {
      ++error;
    } else {
      ++ok;
    }
  }
};

struct Point {
  int64_t count = 0;
  StatusCounts status;
  int64_t total_response_time_us = 0;
};

struct AnnotationKey {
  int64_t traces = 0;
  ValueCounts<xray::AnnotationValue> values;
};

using ServiceKey = std::pair<std::string, std::string>;  // name, type
// service, type, entity path, exception
using RootCauseKey = std::tuple<std::string, std::string, std::string, std::string>;

// The keys of one trace's values of one list, reused from trace to trace (the
// strings keep their capacity), so that a trace counts once per value.
class TraceKeys {
 public:
  void Reset() { used_ = 0; }
  // An empty key to fill.
  std::string& Next() {
    if (used_ == keys_.size()) keys_.emplace_back();
    std::string& key = keys_[used_++];
    key.clear();
    return key;
  }
  // Whether the key last returned by Next() equals an earlier one.
  bool LastRepeats() const {
    for (size_t i = 0; i + 1 < used_; ++i) {
      if (keys_[i] == keys_[used_ - 1]) return true;
    }
    return false;
  }

 private:
  std::vector<std::string> keys_;
  size_t used_ = 0;
};

json HistogramJson(const std::vector<int64_t>& counts) {
  json out = json::array();
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0) continue;
    out.push_back({{"Value", EpochSeconds(graph::HistogramBucketLowerUs(static_cast<uint32_t>(i)))},
                   {"Count", counts[i]}});
  }
  return out;
}

}  // namespace

struct TraceAnalytics::State {
  explicit State(const TraceAnalyticsConfig& c)
      : config(c),
        response_times(graph::kHistogramBuckets, 0),
        durations(graph::kHistogramBuckets, 0),
        annotation_budget(c.max_annotation_values),
        users(c.max_values),
        urls(c.max_values),
        methods(c.max_values),
        statuses(c.max_values),
        services(c.max_values),
        fault_causes(c.max_values),
        error_causes(c.max_values),
        response_time_causes(c.max_values) {}

  // Counts the trace once for each distinct root cause in `causes`: the last
  // service of its path, that service's entities joined with " > ", and the
  // first exception along the path.
  void AddRootCauses(ValueCounts<RootCauseKey>& counts,
                     const std::vector<xray::RootCause>& causes) {
    keys.Reset();
    for (const xray::RootCause& cause : causes) {
      if (cause.services.empty()) continue;
      const xray::RootCauseService& last = cause.services.back();
      entity.clear();
      for (const xray::RootCauseEntity& e : last.entity_path) {
        if (!entity.empty()) entity += " > ";
        entity += e.name;
      }
      std::string_view exception;
      for (const xray::RootCauseService& service : cause.services) {
        for (const xray::RootCauseEntity& e : service.entity_path) {
          if (exception.empty() && !e.exceptions.empty()) exception = e.exceptions.front().name;
        }
      }
      std::string& key = keys.Next();
      AppendPart(key, last.name);
      AppendPart(key, last.type);
      AppendPart(key, entity);
      AppendPart(key, exception);
      if (keys.LastRepeats()) continue;
      counts.Add(key, [&] {
        return RootCauseKey{last.name, last.type, entity, std::string(exception)};
      });
    }
  }

  TraceAnalyticsConfig config;
  int64_t traces = 0;
  StatusCounts status;
  int64_t partial = 0;
  std::vector<int64_t> response_times;  // per histogram bucket
  std::vector<int64_t> durations;
  std::map<int64_t, Point> points;  // by period start (µs)

  size_t annotation_budget;
  std::unordered_map<std::string, AnnotationKey> annotations;
  int64_t untracked_annotation_keys = 0;  // (trace, key) pairs
  ValueCounts<std::string> users, urls, methods;
  ValueCounts<int> statuses;
  ValueCounts<ServiceKey> services;
  ValueCounts<RootCauseKey> fault_causes, error_causes, response_time_causes;

  // Reused per trace.
  TraceKeys keys;
  std::string key;
  std::string entity;
};

TraceAnalytics::TraceAnalytics(const TraceAnalyticsConfig& config)
    : state_(std::make_unique<State>(config)) {}

TraceAnalytics::~TraceAnalytics() = default;

int64_t TraceAnalytics::trace_count() const { return state_->traces; }

void TraceAnalytics::Add(const xray::TraceSummary& s, int64_t sort_time_us) {
  State& st = *state_;
  ++st.traces;
  st.status.Add(s);
  if (s.is_partial) ++st.partial;
  if (s.response_time_us) ++st.response_times[graph::HistogramBucket(*s.response_time_us)];
  if (s.duration_us) ++st.durations[graph::HistogramBucket(*s.duration_us)];

  const int64_t period = st.config.period_us;
  int64_t bucket = sort_time_us / period * period;
  if (sort_time_us < 0 && sort_time_us % period != 0) bucket -= period;  // floor
  Point& point = st.points[bucket];
  ++point.count;
  point.status.Add(s);
  if (s.response_time_us) point.total_response_time_us += *s.response_time_us;

  for (const xray::TraceAnnotation& a : s.annotations) {
    auto it = st.annotations.find(a.key);
    if (it == st.annotations.end()) {
      if (st.annotations.size() >= st.config.max_annotation_keys) {
        ++st.untracked_annotation_keys;
        continue;
      }
      it = st.annotations
               .emplace(a.key, AnnotationKey{0, ValueCounts<xray::AnnotationValue>(
                                                    st.config.max_values, &st.annotation_budget)})
               .first;
    }
    ++it->second.traces;
    st.keys.Reset();
    for (const xray::TraceAnnotationValue& v : a.values) {
      std::string& key = st.keys.Next();
      EncodeAnnotationValue(v.value, key);
      if (st.keys.LastRepeats()) continue;
      it->second.values.Add(key, [&v] { return v.value; });
    }
  }

  st.keys.Reset();
  for (const xray::TraceUser& u : s.users) {
    std::string& key = st.keys.Next();
    key.assign(u.user_name);
    if (st.keys.LastRepeats()) continue;
    st.users.Add(key, [&u] { return u.user_name; });
  }
  if (!s.http.url.empty()) st.urls.Add(s.http.url, [&] { return s.http.url; });
  if (!s.http.method.empty()) st.methods.Add(s.http.method, [&] { return s.http.method; });
  if (s.http.status) {
    st.key.assign(reinterpret_cast<const char*>(&*s.http.status), sizeof(int));
    st.statuses.Add(st.key, [&] { return *s.http.status; });
  }
  st.keys.Reset();
  for (const xray::ServiceId& id : s.service_ids) {
    std::string& key = st.keys.Next();
    AppendPart(key, id.name);
    AppendPart(key, id.type);
    if (st.keys.LastRepeats()) continue;
    st.services.Add(key, [&id] { return ServiceKey{id.name, id.type}; });
  }
  st.AddRootCauses(st.fault_causes, s.fault_root_causes);
  st.AddRootCauses(st.error_causes, s.error_root_causes);
  st.AddRootCauses(st.response_time_causes, s.response_time_root_causes);
}

namespace {

template <typename V, typename Render>
json ListJson(const ValueCounts<V>& counts, size_t limit, int64_t& other, Render&& render) {
  json out = json::array();
  for (const auto& listed : counts.Top(limit, other)) {
    json entry = render(*listed.value);
    entry["TraceCount"] = listed.count;
    out.push_back(std::move(entry));
  }
  return out;
}

json StatusJson(const StatusCounts& s) {
  return {{"Ok", s.ok}, {"Error", s.error}, {"Throttle", s.throttle}, {"Fault", s.fault}};
}

}  // namespace

json TraceAnalytics::ToJson() const {
  const State& st = *state_;
  const size_t limit = st.config.limit;
  json out = json::object();
  out["TraceCount"] = st.traces;
  json status = StatusJson(st.status);
  status["Partial"] = st.partial;
  out["Status"] = std::move(status);
  out["ResponseTimeHistogram"] = HistogramJson(st.response_times);
  out["DurationHistogram"] = HistogramJson(st.durations);

  json points = json::array();
  for (const auto& [start_us, p] : st.points) {
    json point = StatusJson(p.status);
    point["Timestamp"] = EpochSeconds(start_us);
    point["Count"] = p.count;
    point["TotalResponseTime"] = EpochSeconds(p.total_response_time_us);
    points.push_back(std::move(point));
  }
  out["TimeSeries"] = {{"Period", st.config.period_us / 1'000'000}, {"Points", std::move(points)}};

  // Annotation keys by traces (ties: key), the first max_annotation_keys_listed.
  std::vector<const std::pair<const std::string, AnnotationKey>*> keys;
  keys.reserve(st.annotations.size());
  for (const auto& entry : st.annotations) keys.push_back(&entry);
  std::sort(keys.begin(), keys.end(), [](const auto* a, const auto* b) {
    if (a->second.traces != b->second.traces) return a->second.traces > b->second.traces;
    return a->first < b->first;
  });
  int64_t other_annotations = st.untracked_annotation_keys;
  json annotations = json::array();
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i >= st.config.max_annotation_keys_listed) {
      other_annotations += keys[i]->second.traces;
      continue;
    }
    int64_t other_values = 0;
    json values =
        ListJson(keys[i]->second.values, limit, other_values, [](const xray::AnnotationValue& v) {
          return json{{"Value", AnnotationValueJson(v)}};
        });
    annotations.push_back({{"Key", keys[i]->first},
                           {"TraceCount", keys[i]->second.traces},
                           {"Values", std::move(values)},
                           {"OtherValues", other_values}});
  }
  out["Annotations"] = std::move(annotations);
  out["OtherAnnotations"] = other_annotations;

  auto text = [](const std::string& v) { return json{{"Value", v}}; };
  int64_t other = 0;
  out["Users"] = ListJson(st.users, limit, other, text);
  out["OtherUsers"] = other;
  out["Urls"] = ListJson(st.urls, limit, other, text);
  out["OtherUrls"] = other;
  out["HttpMethods"] = ListJson(st.methods, limit, other, text);
  out["OtherHttpMethods"] = other;
  out["HttpStatuses"] = ListJson(st.statuses, limit, other, [](int v) {
    return json{{"Value", v}};
  });
  out["OtherHttpStatuses"] = other;
  out["Services"] = ListJson(st.services, limit, other, [](const ServiceKey& k) {
    json service = {{"Name", k.first}};
    if (!k.second.empty()) service["Type"] = k.second;
    return service;
  });
  out["OtherServices"] = other;

  auto cause = [](const RootCauseKey& k) {
    const auto& [service, type, entity, exception] = k;
    json out = {{"Service", service}, {"Entity", entity}};
    if (!type.empty()) out["Type"] = type;
    if (!exception.empty()) out["Exception"] = exception;
    return out;
  };
  json causes = json::object();
  causes["Fault"] = ListJson(st.fault_causes, limit, other, cause);
  causes["OtherFault"] = other;
  causes["Error"] = ListJson(st.error_causes, limit, other, cause);
  causes["OtherError"] = other;
  causes["ResponseTime"] = ListJson(st.response_time_causes, limit, other, cause);
  causes["OtherResponseTime"] = other;
  out["RootCauses"] = std::move(causes);
  return out;
}

int64_t ScannedFromUs(const store::ScanProgress& progress, int64_t start_us) {
  if (!progress.stopped_at) return start_us;
  const int64_t cut_us = progress.stopped_at->time_us;
  if (!progress.last) return cut_us + 1;
  const int64_t last_us = progress.last->time_us;
  return cut_us < last_us ? last_us : last_us + 1;
}

}  // namespace roentgen::api
