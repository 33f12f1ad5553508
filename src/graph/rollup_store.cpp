// Per-minute rollups of service graphs. See rollup_store.h.
#include "graph/rollup_store.h"

#include <algorithm>
#include <limits>
#include <mutex>

namespace roentgen::graph {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t MinuteOf(int64_t us) { return FloorDiv(us, kMinuteUs); }

int64_t HourOfMinute(int64_t minute) { return FloorDiv(minute, kMinutesPerHour); }

// us − window, saturating at INT64_MIN.
int64_t RollupTimeBefore(int64_t us, int64_t window_us) {
  return us < std::numeric_limits<int64_t>::min() + window_us ? std::numeric_limits<int64_t>::min()
                                                              : us - window_us;
}

GraphAggregate* RollupMinuteFor(RollupMinutes& minutes, int64_t start_us, int64_t sign,
                                std::vector<int64_t>& touched) {
  const int64_t minute = MinuteOf(start_us);
  auto it = minutes.find(minute);
  if (it == minutes.end()) {
    if (sign < 0) return nullptr;  // nothing there to take back
    it = minutes.emplace(minute, GraphAggregate{}).first;
  }
  if (std::find(touched.begin(), touched.end(), minute) == touched.end()) {
    touched.push_back(minute);
  }
  return &it->second;
}

}  // namespace

int64_t RollupMinuteOf(int64_t us) { return MinuteOf(us); }

int64_t RollupHourStart(int64_t minute) { return HourOfMinute(minute) * kMinutesPerHour; }

size_t FoldRollupMinutes(RollupMinutes& minutes, int64_t below_minute) {
  // Per hour, the minutes to sum (the hour's first minute among them).
  std::map<int64_t, std::vector<RollupMinutes::iterator>> hours;
  for (auto it = minutes.begin(); it != minutes.end() && it->first < below_minute; ++it) {
    hours[RollupHourStart(it->first)].push_back(it);
  }
  size_t folded = 0;
  for (const auto& [hour, parts] : hours) {
    folded += parts.size();
    if (parts.size() == 1 && parts.front()->first == hour) continue;
    std::vector<const GraphAggregate*> aggs;
    aggs.reserve(parts.size());
    for (const RollupMinutes::iterator& it : parts) aggs.push_back(&it->second);
    GraphAggregate sum = GraphAggregate::Sum(aggs);
    for (const RollupMinutes::iterator& it : parts) minutes.erase(it);
    if (!sum.empty()) minutes.emplace(hour, std::move(sum));
  }
  return folded;
}

void AddToRollupMinutes(RollupMinutes& minutes, const TraceGraph& graph, int64_t sign) {
  std::vector<int64_t> touched;
  const std::optional<int64_t> duration = TraceDurationUs(graph);
  for (const Node& node : graph.nodes) {
    for (const Observation& obs : node.observations) {
      if (GraphAggregate* agg = RollupMinuteFor(minutes, obs.start_us, sign, touched)) {
        agg->AddNodeObservation(node, obs, duration, sign);
      }
    }
  }
  for (const Edge& edge : graph.edges) {
    for (const Observation& obs : edge.observations) {
      if (GraphAggregate* agg = RollupMinuteFor(minutes, obs.start_us, sign, touched)) {
        agg->AddEdgeObservation(graph.nodes[edge.from], graph.nodes[edge.to], obs, sign);
      }
    }
  }
  for (int64_t minute : touched) {
    auto it = minutes.find(minute);
    if (it != minutes.end() && it->second.empty()) minutes.erase(it);
  }
}

Status RollupConfig::Validate() const {
  if (retention_us < kMinuteUs) return Status::InvalidArgument("rollup retention below a minute");
  if (max_bytes < (size_t{1} << 20)) return Status::InvalidArgument("rollup max_bytes below 1 MiB");
  if (minute_window_us < 0) return Status::InvalidArgument("rollup minute window negative");
  return Status::Ok();
}

RollupStore::RollupStore(RollupConfig config)
    : config_(config),
      floor_minute_(std::numeric_limits<int64_t>::min()),
      hour_floor_minute_(std::numeric_limits<int64_t>::min()) {}

GraphAggregate* RollupStore::MinuteFor(int64_t start_us, int64_t sign, Touched& touched) {
  const int64_t minute = MinuteOf(start_us);
  // The same answer as last time: nothing below changes the periods' floors,
  // and an aggregate stays in its map until SettleLocked.
  if (touched.last != nullptr && minute == touched.last_minute) return touched.last;
  GraphAggregate* found = FindMinuteLocked(minute, sign, touched);
  if (found != nullptr) {
    touched.last_minute = minute;
    touched.last = found;
  }
  return found;
}

GraphAggregate* RollupStore::FindMinuteLocked(int64_t minute, int64_t sign, Touched& touched) {
  if (minute < floor_minute_) {
    ++counters_.skipped_observations;
    return nullptr;
  }
  if (minute < hour_floor_minute_) {
    const int64_t hour = HourOfMinute(minute);
    auto it = hours_.find(hour);
    if (it == hours_.end()) {
      if (sign < 0) return nullptr;
      it = hours_.emplace(hour, GraphAggregate{}).first;
      hour_bytes_[hour] = 0;
    }
    touched.hours.insert(hour);
    return &it->second;
  }
  auto it = minutes_.find(minute);
  if (it == minutes_.end()) {
    if (sign < 0) return nullptr;  // nothing there to take back
    it = minutes_.emplace(minute, GraphAggregate{}).first;
    minute_bytes_[minute] = 0;
  }
  touched.minutes.insert(minute);
  return &it->second;
}

void RollupStore::SettleLocked(const Touched& touched) {
  auto settle = [this](std::map<int64_t, GraphAggregate>& periods,
                       std::map<int64_t, size_t>& period_bytes, int64_t key) {
    auto it = periods.find(key);
    if (it == periods.end()) return;
    size_t& accounted = period_bytes[key];
    bytes_ = bytes_ - accounted + it->second.MemoryBytes();
    accounted = it->second.MemoryBytes();
    if (it->second.empty()) {
      bytes_ -= accounted;
      period_bytes.erase(key);
      periods.erase(it);
    }
  };
  for (int64_t minute : touched.minutes) settle(minutes_, minute_bytes_, minute);
  for (int64_t hour : touched.hours) settle(hours_, hour_bytes_, hour);
}

TraceGraph RollupCopyOf(const TraceGraph& graph) {
  auto copy_observations = [](const std::vector<Observation>& from) {
    std::vector<Observation> to;
    to.reserve(from.size());
    for (const Observation& o : from) {
      Observation& c = to.emplace_back();
      c.start_us = o.start_us;
      c.end_us = o.end_us;
      c.error = o.error;
      c.throttle = o.throttle;
      c.fault = o.fault;
      c.http_status = o.http_status;
    }
    return to;
  };
  TraceGraph copy;
  copy.nodes.reserve(graph.nodes.size());
  for (const Node& n : graph.nodes) {
    Node& c = copy.nodes.emplace_back();
    c.id.name = n.id.name;
    c.id.type = n.id.type;
    c.id.account_id = n.id.account_id;
    c.root = n.root;
    c.inferred = n.inferred;
    c.client = n.client;
    c.observations = copy_observations(n.observations);
  }
  copy.edges.reserve(graph.edges.size());
  for (const Edge& e : graph.edges) {
    Edge& c = copy.edges.emplace_back();
    c.from = e.from;
    c.to = e.to;
    c.observations = copy_observations(e.observations);
  }
  return copy;
}

void RollupStore::AddLocked(const TraceGraph& graph, int64_t sign) {
  Touched touched;
  const std::optional<int64_t> duration = TraceDurationUs(graph);
  for (const Node& node : graph.nodes) {
    for (const Observation& obs : node.observations) {
      if (GraphAggregate* agg = MinuteFor(obs.start_us, sign, touched)) {
        agg->AddNodeObservation(node, obs, duration, sign);
      }
    }
  }
  for (const Edge& edge : graph.edges) {
    for (const Observation& obs : edge.observations) {
      if (GraphAggregate* agg = MinuteFor(obs.start_us, sign, touched)) {
        agg->AddEdgeObservation(graph.nodes[edge.from], graph.nodes[edge.to], obs, sign);
      }
    }
  }
  SettleLocked(touched);
}

void RollupStore::FoldBelowLocked(int64_t below_minute) {
  if (below_minute <= hour_floor_minute_) return;
  hour_floor_minute_ = below_minute;
  // Per hour, the minutes to sum into it.
  std::map<int64_t, std::vector<std::map<int64_t, GraphAggregate>::iterator>> folds;
  for (auto it = minutes_.begin(); it != minutes_.end() && it->first < below_minute; ++it) {
    folds[HourOfMinute(it->first)].push_back(it);
  }
  for (const auto& [hour, parts] : folds) {
    std::vector<const GraphAggregate*> aggs;
    aggs.reserve(parts.size() + 1);
    auto existing = hours_.find(hour);
    if (existing != hours_.end()) aggs.push_back(&existing->second);
    for (const auto& it : parts) aggs.push_back(&it->second);
    GraphAggregate sum = GraphAggregate::Sum(aggs);
    for (const auto& it : parts) {
      bytes_ -= minute_bytes_[it->first];
      minute_bytes_.erase(it->first);
      minutes_.erase(it);
    }
    counters_.folded_minutes += parts.size();
    size_t& accounted = hour_bytes_[hour];
    bytes_ = bytes_ - accounted + sum.MemoryBytes();
    accounted = sum.MemoryBytes();
    hours_[hour] = std::move(sum);
  }
}

void RollupStore::EnforceCapLocked() {
  while (bytes_ > config_.max_bytes && minutes_.size() + hours_.size() > 1) {
    // Coarser before gone: fold the oldest hour still kept per minute, unless
    // it is the newest (the one the writer adds to).
    if (!minutes_.empty() &&
        HourOfMinute(minutes_.begin()->first) < HourOfMinute(std::prev(minutes_.end())->first)) {
      FoldBelowLocked((HourOfMinute(minutes_.begin()->first) + 1) * kMinutesPerHour);
      continue;
    }
    if (!hours_.empty()) {
      auto oldest = hours_.begin();
      bytes_ -= hour_bytes_[oldest->first];
      hour_bytes_.erase(oldest->first);
      floor_minute_ = (oldest->first + 1) * kMinutesPerHour;
      hours_.erase(oldest);
      counters_.evicted_minutes += kMinutesPerHour;
      continue;
    }
    auto oldest = minutes_.begin();
    bytes_ -= minute_bytes_[oldest->first];
    minute_bytes_.erase(oldest->first);
    floor_minute_ = oldest->first + 1;
    minutes_.erase(oldest);
    ++counters_.evicted_minutes;
  }
}

void RollupStore::Add(const TraceGraph& graph, int64_t sign) {
  std::unique_lock lock(mu_);
  AddLocked(graph, sign);
  EnforceCapLocked();
}

void RollupStore::ReplaceLocked(const TraceGraph* old_graph, const TraceGraph& new_graph) {
  if (old_graph != nullptr) AddLocked(*old_graph, -1);
  AddLocked(new_graph, +1);
  EnforceCapLocked();
}

void RollupStore::Replace(const TraceGraph* old_graph, const TraceGraph& new_graph) {
  std::unique_lock lock(mu_);
  ReplaceLocked(old_graph, new_graph);
}

void RollupStore::Replace(const xray::TraceId& id, const TraceGraph* old_graph,
                          int64_t old_start_us, const TraceGraph& new_graph) {
  std::unique_lock lock(mu_);
  if (rebuild_.running && rebuild_.changed.insert(id).second && old_graph != nullptr &&
      !rebuild_.Passed(old_start_us, id)) {
    old_graph = nullptr;  // not added by the scan, which will now skip it
  }
  ReplaceLocked(old_graph, new_graph);
}

void RollupStore::Load(RollupMinutes minutes, int64_t hourly_before_us) {
  std::unique_lock lock(mu_);
  if (hourly_before_us != std::numeric_limits<int64_t>::min()) {
    FoldBelowLocked(RollupHourStart(MinuteOf(hourly_before_us)));
  }
  for (auto& [minute, agg] : minutes) {
    if (agg.empty()) continue;
    // A folded hour is kept while any of it is within the retention.
    const bool hourly = minute < hour_floor_minute_;
    const int64_t last_minute = hourly ? RollupHourStart(minute) + kMinutesPerHour - 1 : minute;
    if (last_minute < floor_minute_) {
      for (const auto& [key, nc] : agg.nodes()) {
        counters_.skipped_observations += static_cast<uint64_t>(nc.cell.observations);
      }
      for (const auto& [key, cell] : agg.edges()) {
        counters_.skipped_observations += static_cast<uint64_t>(cell.observations);
      }
      continue;
    }
    std::map<int64_t, GraphAggregate>& periods = hourly ? hours_ : minutes_;
    std::map<int64_t, size_t>& period_bytes = hourly ? hour_bytes_ : minute_bytes_;
    const int64_t key = hourly ? HourOfMinute(minute) : minute;
    auto [it, inserted] = periods.try_emplace(key);
    if (inserted) {
      it->second = std::move(agg);
    } else {
      it->second.Merge(agg);
    }
    size_t& accounted = period_bytes[key];
    bytes_ = bytes_ - accounted + it->second.MemoryBytes();
    accounted = it->second.MemoryBytes();
    ++counters_.loaded_minutes;
    // Folding as it goes keeps the peak near the cap rather than the sum of
    // everything loaded.
    EnforceCapLocked();
  }
}

int64_t RollupStore::hourly_before_us() const {
  std::shared_lock lock(mu_);
  if (hour_floor_minute_ == std::numeric_limits<int64_t>::min()) return hour_floor_minute_;
  return hour_floor_minute_ * kMinuteUs;
}

bool RollupStore::Rebuild::Passed(int64_t start_us, const xray::TraceId& id) const {
  if (!scanned_any) return false;
  if (start_us != cursor_start_us) return start_us < cursor_start_us;
  return id.bytes <= cursor_id.bytes;  // the index orders ids by their bytes
}

void RollupStore::BeginRebuild() {
  std::unique_lock lock(mu_);
  if (rebuild_.running) return;
  rebuild_ = Rebuild{};
  rebuild_.running = true;
  counters_.rebuilt_traces = 0;
}

void RollupStore::AddRebuilt(const TraceGraph& graph, int64_t start_us, const xray::TraceId& id) {
  std::unique_lock lock(mu_);
  rebuild_.scanned_any = true;
  rebuild_.cursor_start_us = start_us;
  rebuild_.cursor_id = id;
  if (rebuild_.changed.contains(id)) return;  // the writer counted its current graph
  AddLocked(graph, +1);
  EnforceCapLocked();
  ++counters_.rebuilt_traces;
}

void RollupStore::EndRebuild() {
  std::unique_lock lock(mu_);
  rebuild_ = Rebuild{};
}

void RollupStore::AbandonRebuild() {
  std::unique_lock lock(mu_);
  rebuild_ = Rebuild{};
  rebuild_.abandoned = true;
}

bool RollupStore::rebuilding() const {
  std::shared_lock lock(mu_);
  return rebuild_.incomplete();
}

void RollupStore::Expire(int64_t now_us) {
  std::unique_lock lock(mu_);
  const int64_t keep_from = MinuteOf(RollupTimeBefore(now_us, config_.retention_us));
  floor_minute_ = std::max(floor_minute_, keep_from);
  while (!minutes_.empty() && minutes_.begin()->first < keep_from) {
    bytes_ -= minute_bytes_[minutes_.begin()->first];
    minute_bytes_.erase(minutes_.begin()->first);
    minutes_.erase(minutes_.begin());
  }
  while (!hours_.empty() && (hours_.begin()->first + 1) * kMinutesPerHour <= keep_from) {
    bytes_ -= hour_bytes_[hours_.begin()->first];
    hour_bytes_.erase(hours_.begin()->first);
    hours_.erase(hours_.begin());
  }
  if (now_us >= std::numeric_limits<int64_t>::min() + config_.minute_window_us) {
    FoldBelowLocked(RollupHourStart(MinuteOf(now_us - config_.minute_window_us)));
  }
}

ServiceGraphResult RollupStore::QueryServiceGraph(int64_t start_us, int64_t end_us) const {
  GraphAggregate merged;
  {
    std::shared_lock lock(mu_);
    if (end_us > start_us) {
      std::vector<const GraphAggregate*> parts;
      auto hour = hours_.lower_bound(HourOfMinute(MinuteOf(start_us)));
      auto last_hour = hours_.upper_bound(HourOfMinute(MinuteOf(end_us - 1)));
      for (; hour != last_hour; ++hour) parts.push_back(&hour->second);
      auto it = minutes_.lower_bound(MinuteOf(start_us));
      auto last = minutes_.lower_bound(MinuteOf(end_us - 1) + 1);
      for (; it != last; ++it) parts.push_back(&it->second);
      merged = GraphAggregate::Sum(parts);
    }
  }
  return merged.Build(start_us, end_us);
}

Result<std::vector<TimeSeriesPoint>> RollupStore::QueryTimeSeries(const EntitySelector& selector,
                                                                  int64_t start_us, int64_t end_us,
                                                                  int64_t period_s) const {
  if (period_s <= 0 || period_s % 60 != 0) {
    return Status::InvalidArgument("Period must be a positive multiple of 60 seconds");
  }
  if (end_us <= start_us) return Status::InvalidArgument("EndTime must be after StartTime");
  const int64_t period_us = period_s * 1'000'000;
  struct Acc {
    Counters edge, service;
    bool has_edge = false, has_service = false;
    SparseHistogram histogram;
  };
  std::map<int64_t, Acc> buckets;
  {
    std::shared_lock lock(mu_);
    // The hours and then the minutes that overlap the window, each with the
    // first minute it covers.
    std::vector<std::pair<int64_t, const GraphAggregate*>> periods;
    auto hour = hours_.lower_bound(HourOfMinute(MinuteOf(start_us)));
    auto last_hour = hours_.upper_bound(HourOfMinute(MinuteOf(end_us - 1)));
    for (; hour != last_hour; ++hour) {
      periods.emplace_back(hour->first * kMinutesPerHour, &hour->second);
    }
    auto minute = minutes_.lower_bound(MinuteOf(start_us));
    auto last = minutes_.lower_bound(MinuteOf(end_us - 1) + 1);
    for (; minute != last; ++minute) periods.emplace_back(minute->first, &minute->second);
    for (const auto& [first_minute, period] : periods) {
      Acc& acc = buckets[FloorDiv(first_minute * kMinuteUs, period_us) * period_us];
      const GraphAggregate& agg = *period;
      if (selector.kind == EntitySelector::Kind::kService) {
        for (const auto& [key, nc] : agg.nodes()) {
          if (!selector.service.Matches(key)) continue;
          acc.service.Merge(nc.cell.counters);
          acc.histogram.Merge(nc.cell.response_time);
          acc.has_service = true;
        }
        for (const auto& [key, cell] : agg.edges()) {
          if (!selector.service.Matches(key.second)) continue;
          acc.edge.Merge(cell.counters);
          acc.has_edge = true;
        }
      } else {
        for (const auto& [key, cell] : agg.edges()) {
          if (!selector.service.Matches(key.first) || !selector.destination.Matches(key.second)) {
            continue;
          }
          acc.edge.Merge(cell.counters);
          acc.histogram.Merge(cell.response_time);
          acc.has_edge = true;
        }
      }
    }
  }
  std::vector<TimeSeriesPoint> points;
  for (const auto& [timestamp, acc] : buckets) {
    if (!acc.has_edge && !acc.has_service) continue;
    TimeSeriesPoint& p = points.emplace_back();
    p.timestamp_us = timestamp;
    if (acc.has_edge) p.edge_summary = acc.edge.ToSummary();
    if (acc.has_service) p.service_summary = acc.service.ToSummary();
    p.response_time_histogram = acc.histogram.ToEntries();
  }
  return points;
}

RollupStats RollupStore::stats() const {
  std::shared_lock lock(mu_);
  RollupStats s = counters_;
  s.minutes = minutes_.size();
  s.hours = hours_.size();
  s.bytes = bytes_;
  s.rebuilding = rebuild_.incomplete();
  return s;
}

}  // namespace roentgen::graph
