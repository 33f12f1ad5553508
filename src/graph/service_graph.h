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

#include <compare>
#include <cstdint>
#include <map>
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

// ServiceKey's order (field by field, as its defaulted <=>), comparing keys and
// borrowed keys alike.
struct ServiceKeyLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    const ServiceKeyRef x = RefOf(a);
    const ServiceKeyRef y = RefOf(b);
    if (x.name != y.name) return x.name < y.name;
    if (x.type != y.type) return x.type < y.type;
    return x.account_id < y.account_id;
  }
};

// An edge's two keys in ServiceKey's order, owned or borrowed.
struct EdgeKeyLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    const ServiceKeyLess less;
    if (less(a.first, b.first)) return true;
    if (less(b.first, a.first)) return false;
    return less(a.second, b.second);
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
};

// The trace's duration (latest end − earliest start over its node
// observations), or nullopt if none has ended.
std::optional<int64_t> TraceDurationUs(const TraceGraph& graph);

// GetTraceGraph: the services of the given traces' graphs, merged.
ServiceGraphResult BuildTraceGraphResult(const std::vector<TraceGraph>& graphs);

}  // namespace roentgen::graph
