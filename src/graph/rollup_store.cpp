// Per-minute rollups of service graphs. See rollup_store.h.
#include "graph/rollup_store.h"

#include <algorithm>
#include <limits>
#include <mutex>

namespace roentgen::graph {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t MinuteOf(int64_t us) { return FloorDiv(us, kMinuteUs); }

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
  return Status::Ok();
}

RollupStore::RollupStore(RollupConfig config)
    : config_(config), floor_minute_(std::numeric_limits<int64_t>::min()) {}

GraphAggregate* RollupStore::MinuteFor(int64_t start_us, int64_t sign,
                                       std::vector<int64_t>& touched) {
  const int64_t minute = MinuteOf(start_us);
  if (minute < floor_minute_) {
    ++counters_.skipped_observations;
    return nullptr;
  }
  auto it = minutes_.find(minute);
  if (it == minutes_.end()) {
    if (sign < 0) return nullptr;  // nothing there to take back
    it = minutes_.emplace(minute, GraphAggregate{}).first;
    minute_bytes_[minute] = 0;
  }
  if (std::find(touched.begin(), touched.end(), minute) == touched.end()) {
    touched.push_back(minute);
  }
  return &it->second;
}

void RollupStore::AddLocked(const TraceGraph& graph, int64_t sign) {
  std::vector<int64_t> touched;
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
  for (int64_t minute : touched) {
    auto it = minutes_.find(minute);
    size_t& accounted = minute_bytes_[minute];
    bytes_ = bytes_ - accounted + it->second.MemoryBytes();
    accounted = it->second.MemoryBytes();
    if (it->second.empty()) {
      bytes_ -= accounted;
      minute_bytes_.erase(minute);
      minutes_.erase(it);
    }
  }
}

void RollupStore::EnforceCapLocked() {
  while (bytes_ > config_.max_bytes && minutes_.size() > 1) {
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

void RollupStore::Load(RollupMinutes minutes) {
  std::unique_lock lock(mu_);
  for (auto& [minute, agg] : minutes) {
    if (agg.empty()) continue;
    if (minute < floor_minute_) {
      for (const auto& [key, nc] : agg.nodes()) {
        counters_.skipped_observations += static_cast<uint64_t>(nc.cell.observations);
      }
      for (const auto& [key, cell] : agg.edges()) {
        counters_.skipped_observations += static_cast<uint64_t>(cell.observations);
      }
      continue;
    }
    auto [it, inserted] = minutes_.try_emplace(minute);
    if (inserted) {
      it->second = std::move(agg);
    } else {
      it->second.Merge(agg);
    }
    size_t& accounted = minute_bytes_[minute];
    bytes_ = bytes_ - accounted + it->second.MemoryBytes();
    accounted = it->second.MemoryBytes();
    ++counters_.loaded_minutes;
  }
  EnforceCapLocked();
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
  const int64_t keep_from = MinuteOf(now_us - config_.retention_us);
  floor_minute_ = std::max(floor_minute_, keep_from);
  while (!minutes_.empty() && minutes_.begin()->first < keep_from) {
    bytes_ -= minute_bytes_[minutes_.begin()->first];
    minute_bytes_.erase(minutes_.begin()->first);
    minutes_.erase(minutes_.begin());
  }
}

ServiceGraphResult RollupStore::QueryServiceGraph(int64_t start_us, int64_t end_us) const {
  GraphAggregate merged;
  {
    std::shared_lock lock(mu_);
    if (end_us > start_us) {
      std::vector<const GraphAggregate*> parts;
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
    auto it = minutes_.lower_bound(MinuteOf(start_us));
    auto last = minutes_.lower_bound(MinuteOf(end_us - 1) + 1);
    for (; it != last; ++it) {
      Acc& acc = buckets[FloorDiv(it->first * kMinuteUs, period_us) * period_us];
      const GraphAggregate& agg = it->second;
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
  s.bytes = bytes_;
  s.rebuilding = rebuild_.incomplete();
  return s;
}

}  // namespace roentgen::graph
