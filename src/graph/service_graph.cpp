// Aggregation of trace graphs into X-Ray's Services[]. See service_graph.h.
#include "graph/service_graph.h"

#include <algorithm>
#include <unordered_set>

namespace roentgen::graph {
namespace {

// Rough heap cost of a map entry beyond its strings' heap parts.
constexpr size_t kMapNodeOverhead = 48;
constexpr size_t kHistogramEntryBytes = sizeof(SparseHistogram::Entry);

size_t StringHeap(const std::string& s) { return s.size() > 15 ? s.capacity() + 1 : 0; }

bool SameServiceKey(const ServiceKeyRef& a, const ServiceKeyRef& b) {
  return a.name == b.name && a.type == b.type && a.account_id == b.account_id;
}

size_t KeyHeap(const ServiceKey& k) {
  return StringHeap(k.name) + StringHeap(k.type) + StringHeap(k.account_id);
}

void FillTimes(const Cell& cell, std::optional<int64_t>& start, std::optional<int64_t>& end) {
  if (cell.first_start_us != std::numeric_limits<int64_t>::max()) start = cell.first_start_us;
  if (cell.last_end_us != std::numeric_limits<int64_t>::min()) end = cell.last_end_us;
}

// Cell::Merge with a sign; a subtraction leaves the first and last times.
void MergeCellSigned(Cell& into, const Cell& from, int64_t sign) {
  if (sign > 0) {
    into.Merge(from);
    return;
  }
  into.counters.Merge(from.counters, sign);
  into.observations += sign * from.observations;
  into.roots += sign * from.roots;
  into.response_time.Merge(from.response_time, sign);
  into.duration.Merge(from.duration, sign);
}

}  // namespace

ServiceKey KeyOf(const Node& node) { return {node.id.name, node.id.type, node.id.account_id}; }

ServiceKeyRef RefOf(const Node& node) { return {node.id.name, node.id.type, node.id.account_id}; }

int32_t StableReferenceId(const ServiceKey& key) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a, 64 bits
  auto mix = [&h](const std::string& s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xff;  // separator: ("ab","c") and ("a","bc") differ
    h *= 1099511628211ull;
  };
  mix(key.name);
  mix(key.type);
  mix(key.account_id);
  return static_cast<int32_t>((h ^ (h >> 31) ^ (h >> 62)) & 0x7fffffffu);
}

std::optional<int64_t> TraceDurationUs(const TraceGraph& graph) {
  int64_t first = std::numeric_limits<int64_t>::max();
  int64_t last = std::numeric_limits<int64_t>::min();
  for (const Node& node : graph.nodes) {
    for (const Observation& obs : node.observations) {
      first = std::min(first, obs.start_us);
      if (obs.end_us) last = std::max(last, *obs.end_us);
    }
  }
  if (last == std::numeric_limits<int64_t>::min()) return std::nullopt;
  return std::max<int64_t>(0, last - first);
}

void GraphAggregate::AddNodeObservation(const Node& node, const Observation& obs,
                                        std::optional<int64_t> trace_duration_us, int64_t sign) {
  const ServiceKeyRef ref = RefOf(node);
  const uint64_t hash = CellHintHash(ref);
  NodeMap::iterator it;
  if (const NodeMap::iterator* hint = node_hints_.Find(hash);
      hint != nullptr && SameServiceKey(RefOf((*hint)->first), ref)) {
    it = *hint;
  } else {
    it = nodes_.find(ref);
    if (it == nodes_.end()) {
      if (sign < 0) return;
      ServiceKey key = KeyOf(node);
      bytes_ += sizeof(std::pair<const ServiceKey, NodeCell>) + kMapNodeOverhead + KeyHeap(key);
      it = nodes_.emplace(std::move(key), NodeCell{}).first;
    }
    node_hints_.Put(hash, it);
  }
  NodeCell& nc = it->second;
  nc.inferred = node.inferred;
  nc.client = node.client;
  const int entries = nc.cell.AddObservation(obs, trace_duration_us, node.root, sign);
  bytes_ += entries * static_cast<int64_t>(kHistogramEntryBytes);
  if (nc.cell.observations <= 0) {
    bytes_ -= sizeof(std::pair<const ServiceKey, NodeCell>) + kMapNodeOverhead +
              KeyHeap(it->first) +
              (nc.cell.response_time.size() + nc.cell.duration.size()) * kHistogramEntryBytes;
    node_hints_.Clear();
    nodes_.erase(it);
  }
}

void GraphAggregate::AddEdgeObservation(const Node& from, const Node& to, const Observation& obs,
                                        int64_t sign) {
  const ServiceKeyRef from_ref = RefOf(from);
  const ServiceKeyRef to_ref = RefOf(to);
  const uint64_t hash = CellHintHash(from_ref) * 0xFF51AFD7ED558CCDULL ^ CellHintHash(to_ref);
  EdgeMap::iterator it;
  if (const EdgeMap::iterator* hint = edge_hints_.Find(hash);
      hint != nullptr && SameServiceKey(RefOf((*hint)->first.first), from_ref) &&
      SameServiceKey(RefOf((*hint)->first.second), to_ref)) {
    it = *hint;
  } else {
    it = edges_.find(std::pair<ServiceKeyRef, ServiceKeyRef>(from_ref, to_ref));
    if (it == edges_.end()) {
      if (sign < 0) return;
      EdgeKey key{KeyOf(from), KeyOf(to)};
      bytes_ += sizeof(std::pair<const EdgeKey, Cell>) + kMapNodeOverhead + KeyHeap(key.first) +
                KeyHeap(key.second);
      it = edges_.emplace(std::move(key), Cell{}).first;
    }
    edge_hints_.Put(hash, it);
  }
  Cell& cell = it->second;
  const int entries = cell.AddObservation(obs, std::nullopt, false, sign);
  bytes_ += entries * static_cast<int64_t>(kHistogramEntryBytes);
  if (cell.observations <= 0) {
    bytes_ -= sizeof(std::pair<const EdgeKey, Cell>) + kMapNodeOverhead + KeyHeap(it->first.first) +
              KeyHeap(it->first.second) + cell.response_time.size() * kHistogramEntryBytes;
    edge_hints_.Clear();
    edges_.erase(it);
  }
}

void GraphAggregate::AddTraceGraph(const TraceGraph& graph, int64_t sign) {
  const std::optional<int64_t> duration = TraceDurationUs(graph);
  for (const Node& node : graph.nodes) {
    for (const Observation& obs : node.observations) {
      AddNodeObservation(node, obs, duration, sign);
    }
  }
  for (const Edge& edge : graph.edges) {
    for (const Observation& obs : edge.observations) {
      AddEdgeObservation(graph.nodes[edge.from], graph.nodes[edge.to], obs, sign);
    }
  }
}

void GraphAggregate::Merge(const GraphAggregate& other) {
  for (const auto& [key, nc] : other.nodes_) MergeNodeCell(key, nc);
  for (const auto& [key, cell] : other.edges_) MergeEdgeCell(key, cell);
}

bool GraphAggregate::InsertNodeCell(const ServiceKey& key, NodeCell&& cell) {
  const size_t before = nodes_.size();
  auto it = nodes_.emplace_hint(nodes_.end(), key, std::move(cell));
  if (nodes_.size() == before) return false;
  bytes_ += sizeof(std::pair<const ServiceKey, NodeCell>) + kMapNodeOverhead + KeyHeap(key) +
            (it->second.cell.response_time.size() + it->second.cell.duration.size()) *
                kHistogramEntryBytes;
  return true;
}

bool GraphAggregate::InsertEdgeCell(const EdgeKey& key, Cell&& cell) {
  const size_t before = edges_.size();
  auto it = edges_.emplace_hint(edges_.end(), key, std::move(cell));
  if (edges_.size() == before) return false;
  bytes_ += sizeof(std::pair<const EdgeKey, Cell>) + kMapNodeOverhead + KeyHeap(key.first) +
            KeyHeap(key.second) + it->second.response_time.size() * kHistogramEntryBytes;
  return true;
}

void GraphAggregate::MergeSigned(const GraphAggregate& other, int64_t sign) {
  for (const auto& [key, nc] : other.nodes_) MergeNodeCell(key, nc, sign);
  for (const auto& [key, cell] : other.edges_) MergeEdgeCell(key, cell, sign);
}

void GraphAggregate::MergeNodeCell(const ServiceKey& key, const NodeCell& nc, int64_t sign) {
  auto it = nodes_.find(key);
  if (it == nodes_.end()) {
    if (sign < 0) return;
    it = nodes_.emplace(key, NodeCell{}).first;
    it->second.inferred = nc.inferred;
    it->second.client = nc.client;
    bytes_ += sizeof(std::pair<const ServiceKey, NodeCell>) + kMapNodeOverhead + KeyHeap(key);
  }
  Cell& cell = it->second.cell;
  const size_t before = cell.response_time.size() + cell.duration.size();
  MergeCellSigned(cell, nc.cell, sign);
  const size_t after = cell.response_time.size() + cell.duration.size();
  bytes_ = bytes_ + after * kHistogramEntryBytes - before * kHistogramEntryBytes;
  if (cell.observations <= 0) {
    bytes_ -= sizeof(std::pair<const ServiceKey, NodeCell>) + kMapNodeOverhead +
              KeyHeap(it->first) + after * kHistogramEntryBytes;
    node_hints_.Clear();
    nodes_.erase(it);
  }
}

void GraphAggregate::MergeEdgeCell(const EdgeKey& key, const Cell& other, int64_t sign) {
  auto it = edges_.find(key);
  if (it == edges_.end()) {
    if (sign < 0) return;
    it = edges_.emplace(key, Cell{}).first;
    bytes_ += sizeof(std::pair<const EdgeKey, Cell>) + kMapNodeOverhead + KeyHeap(key.first) +
              KeyHeap(key.second);
  }
  Cell& cell = it->second;
  const size_t before = cell.response_time.size();
  MergeCellSigned(cell, other, sign);
  const size_t after = cell.response_time.size();
  bytes_ = bytes_ + after * kHistogramEntryBytes - before * kHistogramEntryBytes;
  if (cell.observations <= 0) {
    bytes_ -= sizeof(std::pair<const EdgeKey, Cell>) + kMapNodeOverhead + KeyHeap(it->first.first) +
              KeyHeap(it->first.second) + after * kHistogramEntryBytes;
    edge_hints_.Clear();
    edges_.erase(it);
  }
}

GraphAggregate GraphAggregate::Sum(const std::vector<const GraphAggregate*>& parts) {
  std::map<ServiceKey, std::vector<const NodeCell*>> node_parts;
  std::map<EdgeKey, std::vector<const Cell*>> edge_parts;
  for (const GraphAggregate* part : parts) {
    for (const auto& [key, nc] : part->nodes_) node_parts[key].push_back(&nc);
    for (const auto& [key, cell] : part->edges_) edge_parts[key].push_back(&cell);
  }
  // Everything but the histograms merges cheaply; the histograms are summed
  // densely, once per cell.
  auto merge_scalars = [](Cell& into, const Cell& from) {
    into.counters.Merge(from.counters);
    into.observations += from.observations;
    into.roots += from.roots;
    into.first_start_us = std::min(into.first_start_us, from.first_start_us);
    into.last_end_us = std::max(into.last_end_us, from.last_end_us);
  };
  GraphAggregate out;
  std::vector<const SparseHistogram*> response, duration;
  for (auto& [key, cells] : node_parts) {
    NodeCell nc;
    response.clear();
    duration.clear();
    for (const NodeCell* c : cells) {
      merge_scalars(nc.cell, c->cell);
      nc.inferred = c->inferred;
      nc.client = c->client;
      response.push_back(&c->cell.response_time);
      duration.push_back(&c->cell.duration);
    }
    nc.cell.response_time = SumHistograms(response);
    nc.cell.duration = SumHistograms(duration);
    out.bytes_ += sizeof(std::pair<const ServiceKey, NodeCell>) + kMapNodeOverhead + KeyHeap(key) +
                  (nc.cell.response_time.size() + nc.cell.duration.size()) * kHistogramEntryBytes;
    out.nodes_.emplace_hint(out.nodes_.end(), key, std::move(nc));
  }
  for (auto& [key, cells] : edge_parts) {
    Cell cell;
    response.clear();
    for (const Cell* c : cells) {
      merge_scalars(cell, *c);
      response.push_back(&c->response_time);
    }
    cell.response_time = SumHistograms(response);
    out.bytes_ += sizeof(std::pair<const EdgeKey, Cell>) + kMapNodeOverhead + KeyHeap(key.first) +
                  KeyHeap(key.second) + cell.response_time.size() * kHistogramEntryBytes;
    out.edges_.emplace_hint(out.edges_.end(), key, std::move(cell));
  }
  return out;
}

ServiceGraphResult GraphAggregate::Build(int64_t start_us, int64_t end_us) const {
  ServiceGraphResult result;
  result.start_us = start_us;
  result.end_us = end_us;

  // Every service that appears, as a node or as an edge's end, in key order.
  std::map<ServiceKey, size_t> index;
  for (const auto& [key, nc] : nodes_) index.emplace(key, 0);
  for (const auto& [key, cell] : edges_) {
    index.emplace(key.first, 0);
    index.emplace(key.second, 0);
  }
  std::unordered_set<int32_t> used;
  result.services.reserve(index.size());
  for (auto& [key, position] : index) {
    position = result.services.size();
    Service& s = result.services.emplace_back();
    int32_t id = StableReferenceId(key);
    while (!used.insert(id).second) id = (id + 1) & 0x7fffffff;
    s.reference_id = id;
    s.name = key.name;
    if (!key.name.empty()) s.names = {key.name};
    s.type = key.type;
    s.account_id = key.account_id;
    s.state = "unknown";
    auto it = nodes_.find(key);
    if (it == nodes_.end()) continue;
    const NodeCell& nc = it->second;
    s.root = nc.cell.roots > 0;
    if (!nc.inferred && !nc.client) s.state = "active";
    FillTimes(nc.cell, s.start_us, s.end_us);
    s.summary_statistics = nc.cell.counters.ToSummary();
    s.duration_histogram = nc.cell.duration.ToEntries();
    s.response_time_histogram = nc.cell.response_time.ToEntries();
  }
  for (const auto& [key, cell] : edges_) {
    Service& from = result.services[index.at(key.first)];
    ServiceEdge& e = from.edges.emplace_back();
    e.reference_id = result.services[index.at(key.second)].reference_id;
    FillTimes(cell, e.start_us, e.end_us);
    e.summary_statistics = cell.counters.ToSummary();
    e.response_time_histogram = cell.response_time.ToEntries();
  }
  return result;
}

ServiceGraphResult BuildTraceGraphResult(const std::vector<TraceGraph>& graphs) {
  GraphAggregate aggregate;
  int64_t first = std::numeric_limits<int64_t>::max();
  int64_t last = std::numeric_limits<int64_t>::min();
  for (const TraceGraph& graph : graphs) {
    aggregate.AddTraceGraph(graph);
    for (const Node& node : graph.nodes) {
      for (const Observation& obs : node.observations) {
        first = std::min(first, obs.start_us);
        last = std::max(last, obs.end_us.value_or(obs.start_us));
      }
    }
  }
  if (first > last) first = last = 0;
  return aggregate.Build(first, last);
}

}  // namespace roentgen::graph
