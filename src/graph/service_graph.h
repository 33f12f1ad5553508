// The service graph X-Ray's GetServiceGraph and GetTraceGraph return: Services[]
// with their Edges, SummaryStatistics and histograms.
//
// GraphAggregate is the mergeable form: one Cell per service (name, type,
// account) and per edge (caller → callee). It is built from TraceGraphs with a
// sign (+1 to add a trace's graph, −1 to take an old version of it back out),
// merged across rollup minutes, and turned into a ServiceGraphResult by Build().
// Plain value type, thread-compatible; RollupStore adds the locking.
//
// ReferenceIds are stable: derived from a hash of (name, type, account), with
// collisions inside one result resolved by probing in key order, so the same
// service keeps its id across queries (docs/service-map.md).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "graph/histogram.h"
#include "graph/statistics.h"
#include "graph/trace_graph.h"

namespace roentgen::graph {

struct ServiceKey {
  std::string name;  // empty for the client node
  std::string type;
  std::string account_id;
  auto operator<=>(const ServiceKey&) const = default;
  bool operator==(const ServiceKey&) const = default;
};

ServiceKey KeyOf(const Node& node);

// A service's key borrowed from a node or a ServiceKey: the aggregates look
// keys up with it, so an observation copies no strings unless its key is new.
struct ServiceKeyRef {
  std::string_view name;
  std::string_view type;
  std::string_view account_id;
};
inline ServiceKeyRef RefOf(const ServiceKey& key) { return {key.name, key.type, key.account_id}; }
inline ServiceKeyRef RefOf(const ServiceKeyRef& key) { return key; }
ServiceKeyRef RefOf(const Node& node);

// ServiceKey's order (field by field, as its defaulted <=>) as a three-way
// comparison: negative, zero or positive. Each field is compared once, where
// `!=` then `<` would compare an unequal field twice.
inline int CompareServiceKeys(const ServiceKeyRef& x, const ServiceKeyRef& y) {
  if (const int c = x.name.compare(y.name); c != 0) return c;
  if (const int c = x.type.compare(y.type); c != 0) return c;
  return x.account_id.compare(y.account_id);
}

// ServiceKey's order, comparing keys and borrowed keys alike.
struct ServiceKeyLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return CompareServiceKeys(RefOf(a), RefOf(b)) < 0;
  }
};

// An edge's two keys in ServiceKey's order, owned or borrowed: the first
// keys decide unless equal (one comparison for both outcomes).
struct EdgeKeyLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    if (const int c = CompareServiceKeys(RefOf(a.first), RefOf(b.first)); c != 0) return c < 0;
    return CompareServiceKeys(RefOf(a.second), RefOf(b.second)) < 0;
  }
};

// Alias of an edge's target (X-Ray fills it for services known by several names).
struct Alias {
  std::string name;
  std::vector<std::string> names;
  std::string type;
};

struct ServiceEdge {
  int32_t reference_id = 0;  // of the callee service
  std::optional<int64_t> start_us;
  std::optional<int64_t> end_us;
  SummaryStatistics summary_statistics;
  std::vector<HistogramEntry> response_time_histogram;
  std::vector<Alias> aliases;
};

struct Service {
  int32_t reference_id = 0;
  std::string name;
  std::vector<std::string> names;
  bool root = false;
  std::string account_id;
  std::string type;
  std::string state;  // "active" for services that send segments, else "unknown"
  std::optional<int64_t> start_us;
  std::optional<int64_t> end_us;
  std::vector<ServiceEdge> edges;  // ordered by callee key
  SummaryStatistics summary_statistics;
  std::vector<HistogramEntry> duration_histogram;
  std::vector<HistogramEntry> response_time_histogram;
};

struct ServiceGraphResult {
  int64_t start_us = 0;
  int64_t end_us = 0;
  std::vector<Service> services;  // ordered by key (name, type, account)
  bool contains_old_group_versions = false;
};

// A stable id for a service key: a 31-bit hash (before collision probing).
int32_t StableReferenceId(const ServiceKey& key);

struct NodeCell {
  Cell cell;
  bool inferred = false;
  bool client = false;
};

// A cheap hash of a key for CellHints: sizes and a few bytes of each field.
// Keys that share it are told apart by the check on use.
inline uint64_t CellHintHash(const ServiceKeyRef& key) {
  auto part = [](std::string_view s) -> uint64_t {
    if (s.empty()) return 0;
    return (uint64_t{s.size()} << 24) ^ (uint64_t{static_cast<unsigned char>(s.front())} << 16) ^
           (uint64_t{static_cast<unsigned char>(s[s.size() / 2])} << 8) ^
           static_cast<unsigned char>(s.back());
  };
  const uint64_t h = part(key.name) * 0x9E3779B97F4A7C15ULL ^
                     part(key.type) * 0xC2B2AE3D27D4EB4FULL ^ part(key.account_id);
  return h ^ (h >> 29);
}

// Cells of an aggregate found lately, by CellHintHash of their keys: the
// rollups look the same few services up for every trace, and a hint costs
// one comparison of equal keys where the map's descent compares strings at
// every level. A hint is checked against the key before use, so a
// collision only misses. Not part of the aggregate's value: a copy starts
// empty, and so do both sides of a move (the iterators then belong to the
// other map). Its memory (allocated at the first hint) is not in
// MemoryBytes: at most kSlots iterators, for the aggregates written to.
template <typename Iterator, size_t kSlots>
class CellHints {
 public:
  CellHints() = default;
  CellHints(const CellHints&) {}
  CellHints(CellHints&& other) noexcept { other.Clear(); }
  CellHints& operator=(const CellHints&) {
    Clear();
    return *this;
  }
  CellHints& operator=(CellHints&& other) noexcept {
    Clear();
    other.Clear();
    return *this;
  }
  ~CellHints() = default;

  // The iterator last put under `hash`, or null.
  const Iterator* Find(uint64_t hash) const {
    if (!slots_) return nullptr;
    const Slot& slot = (*slots_)[hash % kSlots];
    return slot.used && slot.hash == hash ? &slot.it : nullptr;
  }
  void Put(uint64_t hash, Iterator it) {
    if (!slots_) slots_ = std::make_unique<std::array<Slot, kSlots>>();
    (*slots_)[hash % kSlots] = Slot{hash, it, true};
  }
  // Forgets every hint (an erased cell's iterator must not be used again).
  void Clear() {
    if (!slots_) return;
    for (Slot& slot : *slots_) slot.used = false;
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    Iterator it{};
    bool used = false;
  };
  std::unique_ptr<std::array<Slot, kSlots>> slots_;
};

class GraphAggregate {
 public:
  using EdgeKey = std::pair<ServiceKey, ServiceKey>;
  using NodeMap = std::map<ServiceKey, NodeCell, ServiceKeyLess>;
  using EdgeMap = std::map<EdgeKey, Cell, EdgeKeyLess>;

  // Adds (sign +1) or removes (sign −1) a trace's graph. A removal never creates
  // a cell: what is not there (already expired, or never added) is skipped.
  void AddTraceGraph(const TraceGraph& graph, int64_t sign = 1);
  // The pieces AddTraceGraph is made of, for callers that split a graph (the
  // rollups put each observation in the minute it started).
  void AddNodeObservation(const Node& node, const Observation& obs,
                          std::optional<int64_t> trace_duration_us, int64_t sign);
  void AddEdgeObservation(const Node& from, const Node& to, const Observation& obs, int64_t sign);

  void Merge(const GraphAggregate& other);
  // Merges one cell under `key`, as Merge() does each of another aggregate's
  // (for decoding persisted rollups, store/block/rollup_section.h). With
  // sign −1 the cell's counts are taken back out instead: a cell that is not
  // there is skipped, one left without observations removed, and the first
  // and last times stay as they were.
  void MergeNodeCell(const ServiceKey& key, const NodeCell& cell, int64_t sign = 1);
  void MergeEdgeCell(const EdgeKey& key, const Cell& cell, int64_t sign = 1);
  // Adds a cell under a key the aggregate does not hold yet, taking it (for
  // decoding, which gives keys in ascending order: appending is cheapest);
  // false, and nothing changed, if the key is there.
  bool InsertNodeCell(const ServiceKey& key, NodeCell&& cell);
  bool InsertEdgeCell(const EdgeKey& key, Cell&& cell);
  // Merge(), or with sign −1 takes every cell of `other` back out.
  void MergeSigned(const GraphAggregate& other, int64_t sign);
  // The sum of many aggregates (the minutes of a query window) in one pass.
  static GraphAggregate Sum(const std::vector<const GraphAggregate*>& parts);
  ServiceGraphResult Build(int64_t start_us, int64_t end_us) const;

  const NodeMap& nodes() const { return nodes_; }
  const EdgeMap& edges() const { return edges_; }
  bool empty() const { return nodes_.empty() && edges_.empty(); }
  // An estimate of the heap memory held, kept up to date by every change.
  size_t MemoryBytes() const { return bytes_; }

 private:
  NodeMap nodes_;
  EdgeMap edges_;
  size_t bytes_ = 0;
  CellHints<NodeMap::iterator, 16> node_hints_;
  CellHints<EdgeMap::iterator, 32> edge_hints_;
};

// The trace's duration (latest end − earliest start over its node
// observations), or nullopt if none has ended.
std::optional<int64_t> TraceDurationUs(const TraceGraph& graph);

// GetTraceGraph: the services of the given traces' graphs, merged.
ServiceGraphResult BuildTraceGraphResult(const std::vector<TraceGraph>& graphs);

}  // namespace roentgen::graph
