// Derivation of one trace's service graph. See trace_graph.h for the contract
// and docs/service-map.md for the rules (inferred nodes, Lambda, the client).
#include "graph/trace_graph.h"

#include <algorithm>
#include <array>
#include <functional>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>

namespace roentgen::graph {
namespace {

// A node's identity: name, type, account. The type may come in two parts
// (xray::DownstreamServiceRef's "AWS::" + name), so nothing is built to look
// a node up.
struct NodeKey {
  std::string_view name;
  std::string_view type_prefix;
  std::string_view type_suffix;
  std::string_view account;

  bool Matches(const xray::ServiceId& id) const {
    return id.name == name && id.account_id == account &&
           id.type.size() == type_prefix.size() + type_suffix.size() &&
           std::string_view(id.type).starts_with(type_prefix) &&
           std::string_view(id.type).ends_with(type_suffix);
  }
};

// Name and account only: the type rarely tells two nodes apart, and hashing
// it would need it in one piece.
size_t HashOf(std::string_view name, std::string_view account) {
  const size_t h = std::hash<std::string_view>{}(name);
  return h ^ (std::hash<std::string_view>{}(account) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}

// Above this many nodes (edges), lookups go through a hash index instead of a
// scan of the graph's vectors.
constexpr size_t kLinearMax = 16;

Observation ObservationOf(const xray::Entity& e) {
  Observation o;
  o.start_us = e.start_time_us;
  if (!e.in_progress) o.end_us = e.end_time_us;
  o.error = e.error;
  o.throttle = e.throttle;
  o.fault = e.fault;
  if (e.http) {
    if (e.http->request) {
      o.http_url = e.http->request->url;
      o.http_method = e.http->request->method;
      o.http_user_agent = e.http->request->user_agent;
      o.http_client_ip = e.http->request->client_ip;
    }
    if (e.http->response) o.http_status = e.http->response->status;
  }
  o.user = e.user;
  o.entity_name = e.name;
  return o;
}

std::string_view AccountOf(const xray::Entity& e) {
  return e.aws ? std::string_view(e.aws->account_id) : std::string_view();
}

// The node X-Ray infers for a downstream call recorded as a subsegment: the
// same rule the trace summary uses for its ServiceIds (xray::InferDownstreamService).
NodeKey InferredKey(const xray::Entity& sub) {
  std::optional<xray::DownstreamServiceRef> id = xray::InferDownstreamServiceRef(sub);
  if (!id) return {sub.name, "remote", {}, AccountOf(sub)};
  return {id->name, id->type_prefix, id->type_suffix, id->account_id};
}

bool IsCall(const xray::Entity& sub) {
  return sub.namespace_ == "aws" || sub.namespace_ == "remote";
}

// Upper bound of the calls VisitCalls may meet below `e` (room to reserve).
size_t CountCalls(const xray::Entity& e) {
  size_t n = 0;
  for (const xray::Entity& sub : e.subsegments) n += IsCall(sub) ? 1 : CountCalls(sub);
  return n;
}

class Deriver {
 public:
  explicit Deriver(const xray::AssembledTrace& trace) : trace_(trace) {}
  // seg_nodes_ may point into the object itself.
  Deriver(const Deriver&) = delete;
  Deriver& operator=(const Deriver&) = delete;

  TraceGraph Run() {
    IndexEntities();
    size_t calls = 0;
    for (const xray::Entity& seg : trace_.segments) calls += CountCalls(seg);
    const size_t most = std::min<size_t>(1 + trace_.segments.size() + calls, 64);
    graph_.nodes.reserve(most);
    graph_.edges.reserve(most);
    // Node order: the client first, then one node per segment in segment order,
    // then inferred nodes in the order their calls are met (depth first).
    for (const xray::Entity& seg : trace_.segments) {
      if (CallerOf(seg).kind == CallerKind::kClient) {
        client_ = AddNode({"", "client", {}, ""}, /*inferred=*/false, /*client=*/true);
        break;
      }
    }
    if (trace_.segments.size() > seg_nodes_inline_.size()) {
      seg_nodes_heap_.resize(trace_.segments.size());
      seg_nodes_ = seg_nodes_heap_.data();
    }
    for (size_t i = 0; i < trace_.segments.size(); ++i) {
      const xray::Entity& seg = trace_.segments[i];
      seg_nodes_[i] = AddNode({seg.name, seg.origin, {}, AccountOf(seg)}, false, false);
    }
    for (size_t i = 0; i < trace_.segments.size(); ++i) {
      const xray::Entity& seg = trace_.segments[i];
      const uint32_t node = seg_nodes_[i];
      Observation obs = ObservationOf(seg);
      const Caller caller = CallerOf(seg);
      switch (caller.kind) {
        case CallerKind::kClient:
          graph_.nodes[node].root = true;
          graph_.nodes[node].observations.push_back(obs);
          graph_.nodes[*client_].observations.push_back(obs);
          AddEdgeObservation(*client_, node, std::move(obs));
          break;
        case CallerKind::kSegment:
          graph_.nodes[node].observations.push_back(obs);
          AddEdgeObservation(seg_nodes_[caller.segment], node, std::move(obs));
          break;
        case CallerKind::kSubsegment:
          graph_.nodes[node].observations.push_back(std::move(obs));
          AddEdgeObservation(seg_nodes_[caller.segment], node, ObservationOf(*caller.subsegment));
          break;
      }
      for (const xray::Entity& sub : seg.subsegments) VisitCalls(sub, node);
    }
    return std::move(graph_);
  }

 private:
  enum class CallerKind { kClient, kSegment, kSubsegment };
  struct Caller {
    CallerKind kind = CallerKind::kClient;
    size_t segment = 0;                        // index into trace_.segments
    const xray::Entity* subsegment = nullptr;  // the calling subsegment, for kSubsegment
  };
  // Entity id → where it is; sorted by (id, order met), so the first entry of
  // an id is the first entity met with it.
  struct IdRef {
    uint64_t id = 0;
    size_t segment = 0;                    // index into trace_.segments
    const xray::Entity* entity = nullptr;  // the subsegment (subsegment index only)
    bool operator<(const IdRef& o) const { return id < o.id; }
  };

  void IndexSubsegments(const xray::Entity& e, size_t segment) {
    for (const xray::Entity& sub : e.subsegments) {
      subsegments_.push_back({sub.id.value, segment, &sub});
      IndexSubsegments(sub, segment);
    }
  }

  static size_t CountSubsegments(const xray::Entity& e) {
    size_t n = e.subsegments.size();
    for (const xray::Entity& sub : e.subsegments) n += CountSubsegments(sub);
    return n;
  }

  // Stable: among equal ids the first met comes first. An insertion sort while
  // short, as std::stable_sort allocates a buffer.
  static void SortIndex(std::vector<IdRef>& index) {
    if (index.size() > 32) {
      std::stable_sort(index.begin(), index.end());
      return;
    }
    for (size_t i = 1; i < index.size(); ++i) {
      const IdRef x = index[i];
      size_t j = i;
      for (; j > 0 && x < index[j - 1]; --j) index[j] = index[j - 1];
      index[j] = x;
    }
  }

  // Callers are only looked up for segments with a parent_id: without one,
  // the id indexes are not needed.
  void IndexEntities() {
    size_t with_parent = 0;
    for (const xray::Entity& seg : trace_.segments) with_parent += seg.parent_id ? 1 : 0;
    if (with_parent == 0) return;
    called_.reserve(with_parent);
    for (const xray::Entity& seg : trace_.segments) {
      if (seg.parent_id) called_.push_back(seg.parent_id->value);
    }
    std::sort(called_.begin(), called_.end());
    segments_.reserve(trace_.segments.size());
    size_t subsegments = 0;
    for (const xray::Entity& seg : trace_.segments) subsegments += CountSubsegments(seg);
    subsegments_.reserve(subsegments);
    for (size_t i = 0; i < trace_.segments.size(); ++i) {
      const xray::Entity& seg = trace_.segments[i];
      segments_.push_back({seg.id.value, i, nullptr});
      IndexSubsegments(seg, i);
    }
    SortIndex(segments_);
    SortIndex(subsegments_);
  }

  static const IdRef* Find(const std::vector<IdRef>& index, uint64_t id) {
    auto it = std::lower_bound(index.begin(), index.end(), IdRef{id, 0, nullptr});
    return it != index.end() && it->id == id ? &*it : nullptr;
  }

  Caller CallerOf(const xray::Entity& seg) const {
    if (!seg.parent_id) return {};
    const uint64_t parent = seg.parent_id->value;
    if (const IdRef* sub = Find(subsegments_, parent)) {
      return {CallerKind::kSubsegment, sub->segment, sub->entity};
    }
    if (const IdRef* caller = Find(segments_, parent);
        caller != nullptr && parent != seg.id.value) {
      return {CallerKind::kSegment, caller->segment, nullptr};
    }
    return {};
  }

  // True if a segment of the trace names `e` or one of its descendants as parent.
  bool CallsTracedService(const xray::Entity& e) const {
    if (std::binary_search(called_.begin(), called_.end(), e.id.value)) return true;
    for (const xray::Entity& sub : e.subsegments) {
      if (CallsTracedService(sub)) return true;
    }
    return false;
  }

  void VisitCalls(const xray::Entity& sub, uint32_t caller_node) {
    if (IsCall(sub)) {
      if (!called_.empty() && CallsTracedService(sub))
        return;  // the callee's own segment makes the edge
      const uint32_t node = AddNode(InferredKey(sub), /*inferred=*/true, false);
      Observation obs = ObservationOf(sub);
      graph_.nodes[node].observations.push_back(obs);
      AddEdgeObservation(caller_node, node, std::move(obs));
      return;
    }
    for (const xray::Entity& child : sub.subsegments) VisitCalls(child, caller_node);
  }

  std::optional<uint32_t> FindNode(const NodeKey& key, size_t hash) const {
    if (node_index_.empty()) {
      for (size_t i = 0; i < graph_.nodes.size(); ++i) {
        if (key.Matches(graph_.nodes[i].id)) return static_cast<uint32_t>(i);
      }
      return std::nullopt;
    }
    auto [begin, end] = node_index_.equal_range(hash);
    // The multimap's order within a key is not insertion order: take the
    // lowest matching index, as a scan would.
    std::optional<uint32_t> found;
    for (auto it = begin; it != end; ++it) {
      if (key.Matches(graph_.nodes[it->second].id) && (!found || it->second < *found)) {
        found = it->second;
      }
    }
    return found;
  }

  uint32_t AddNode(const NodeKey& key, bool inferred, bool client) {
    const size_t hash = HashOf(key.name, key.account);
    if (std::optional<uint32_t> found = FindNode(key, hash)) return *found;
    const auto index = static_cast<uint32_t>(graph_.nodes.size());
    Node& node = graph_.nodes.emplace_back();
    node.id.name = key.name;
    if (!key.name.empty()) node.id.names.emplace_back(key.name);
    node.id.type.reserve(key.type_prefix.size() + key.type_suffix.size());
    node.id.type.append(key.type_prefix);
    node.id.type.append(key.type_suffix);
    node.id.account_id = key.account;
    node.inferred = inferred;
    node.client = client;
    if (!node_index_.empty()) {
      node_index_.emplace(hash, index);
    } else if (graph_.nodes.size() > kLinearMax) {
      for (uint32_t i = 0; i < graph_.nodes.size(); ++i) {
        const xray::ServiceId& id = graph_.nodes[i].id;
        node_index_.emplace(HashOf(id.name, id.account_id), i);
      }
    }
    return index;
  }

  void AddEdgeObservation(uint32_t from, uint32_t to, Observation obs) {
    const uint64_t key = (uint64_t{from} << 32) | to;
    size_t index = graph_.edges.size();
    if (edge_index_.empty()) {
      for (size_t i = 0; i < graph_.edges.size(); ++i) {
        if (graph_.edges[i].from == from && graph_.edges[i].to == to) {
          index = i;
          break;
        }
      }
    } else if (auto it = edge_index_.find(key); it != edge_index_.end()) {
      index = it->second;
    }
    if (index == graph_.edges.size()) {
      graph_.edges.push_back(Edge{from, to, {}});
      if (!edge_index_.empty()) {
        edge_index_.emplace(key, index);
      } else if (graph_.edges.size() > kLinearMax) {
        for (size_t i = 0; i < graph_.edges.size(); ++i) {
          edge_index_.emplace((uint64_t{graph_.edges[i].from} << 32) | graph_.edges[i].to, i);
        }
      }
    }
    graph_.edges[index].observations.push_back(std::move(obs));
  }

  const xray::AssembledTrace& trace_;
  std::vector<IdRef> segments_;     // sorted by id; empty when no segment has a parent
  std::vector<IdRef> subsegments_;  // likewise
  std::vector<uint64_t> called_;    // parent ids named by segments, sorted
  std::unordered_multimap<size_t, uint32_t> node_index_;  // hash → node, once past kLinearMax
  std::unordered_map<uint64_t, size_t> edge_index_;       // (from, to) → edge, likewise
  // The node of each segment, by index: in place for the usual few segments.
  std::array<uint32_t, 8> seg_nodes_inline_{};
  std::vector<uint32_t> seg_nodes_heap_;
  uint32_t* seg_nodes_ = seg_nodes_inline_.data();
  std::optional<uint32_t> client_;
  TraceGraph graph_;
};

}  // namespace

TraceGraph DeriveTraceGraph(const xray::AssembledTrace& trace) { return Deriver(trace).Run(); }

}  // namespace roentgen::graph
