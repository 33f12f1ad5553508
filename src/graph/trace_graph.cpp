// Derivation of one trace's service graph. See trace_graph.h for the contract
// and docs/service-map.md for the rules (inferred nodes, Lambda, the client).
#include "graph/trace_graph.h"

#include <map>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace roentgen::graph {
namespace {

using NodeKey = std::tuple<std::string, std::string, std::string>;  // name, type, account

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

std::string AccountOf(const xray::Entity& e) { return e.aws ? e.aws->account_id : std::string(); }

// The node X-Ray infers for a downstream call recorded as a subsegment: the
// same rule the trace summary uses for its ServiceIds (xray::InferDownstreamService).
NodeKey InferredKey(const xray::Entity& sub) {
  std::optional<xray::ServiceId> id = xray::InferDownstreamService(sub);
  if (!id) return {sub.name, "remote", AccountOf(sub)};
  return {std::move(id->name), std::move(id->type), std::move(id->account_id)};
}

class Deriver {
 public:
  explicit Deriver(const xray::AssembledTrace& trace) : trace_(trace) {}

  TraceGraph Run() {
    IndexEntities();
    // Node order: the client first, then one node per segment in segment order,
    // then inferred nodes in the order their calls are met (depth first).
    for (const xray::Entity& seg : trace_.segments) {
      if (CallerOf(seg).kind == CallerKind::kClient) {
        client_ = AddNode({"", "client", ""}, /*inferred=*/false, /*client=*/true);
        break;
      }
    }
    seg_nodes_.reserve(trace_.segments.size());
    for (const xray::Entity& seg : trace_.segments) {
      seg_nodes_.push_back(AddNode({seg.name, seg.origin, AccountOf(seg)}, false, false));
    }
    for (size_t i = 0; i < trace_.segments.size(); ++i) {
      const xray::Entity& seg = trace_.segments[i];
      const uint32_t node = seg_nodes_[i];
      const Observation obs = ObservationOf(seg);
      graph_.nodes[node].observations.push_back(obs);
      const Caller caller = CallerOf(seg);
      switch (caller.kind) {
        case CallerKind::kClient:
          graph_.nodes[node].root = true;
          graph_.nodes[*client_].observations.push_back(obs);
          AddEdgeObservation(*client_, node, obs);
          break;
        case CallerKind::kSegment:
          AddEdgeObservation(seg_nodes_[caller.segment], node, obs);
          break;
        case CallerKind::kSubsegment:
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
  struct SubsegmentRef {
    size_t segment = 0;
    const xray::Entity* entity = nullptr;
  };

  void IndexSubsegments(const xray::Entity& e, size_t segment) {
    for (const xray::Entity& sub : e.subsegments) {
      subsegments_.emplace(sub.id.value, SubsegmentRef{segment, &sub});
      IndexSubsegments(sub, segment);
    }
  }

  void IndexEntities() {
    for (size_t i = 0; i < trace_.segments.size(); ++i) {
      const xray::Entity& seg = trace_.segments[i];
      segments_.emplace(seg.id.value, i);
      IndexSubsegments(seg, i);
      if (seg.parent_id) called_.insert(seg.parent_id->value);
    }
  }

  Caller CallerOf(const xray::Entity& seg) const {
    if (!seg.parent_id) return {};
    const uint64_t parent = seg.parent_id->value;
    if (auto it = subsegments_.find(parent); it != subsegments_.end()) {
      return {CallerKind::kSubsegment, it->second.segment, it->second.entity};
    }
    if (auto it = segments_.find(parent); it != segments_.end() && parent != seg.id.value) {
      return {CallerKind::kSegment, it->second, nullptr};
    }
    return {};
  }

  // True if a segment of the trace names `e` or one of its descendants as parent.
  bool CallsTracedService(const xray::Entity& e) const {
    if (called_.count(e.id.value) != 0) return true;
    for (const xray::Entity& sub : e.subsegments) {
      if (CallsTracedService(sub)) return true;
    }
    return false;
  }

  void VisitCalls(const xray::Entity& sub, uint32_t caller_node) {
    if (sub.namespace_ == "aws" || sub.namespace_ == "remote") {
      if (CallsTracedService(sub)) return;  // the callee's own segment makes the edge
      const uint32_t node = AddNode(InferredKey(sub), /*inferred=*/true, false);
      const Observation obs = ObservationOf(sub);
      graph_.nodes[node].observations.push_back(obs);
      AddEdgeObservation(caller_node, node, obs);
      return;
    }
    for (const xray::Entity& child : sub.subsegments) VisitCalls(child, caller_node);
  }

  uint32_t AddNode(NodeKey key, bool inferred, bool client) {
    auto [it, inserted] = node_index_.try_emplace(key, static_cast<uint32_t>(graph_.nodes.size()));
    if (inserted) {
      Node node;
      auto& [name, type, account] = it->first;
      node.id.name = name;
      if (!name.empty()) node.id.names = {name};
      node.id.type = type;
      node.id.account_id = account;
      node.inferred = inferred;
      node.client = client;
      graph_.nodes.push_back(std::move(node));
    }
    return it->second;
  }

  void AddEdgeObservation(uint32_t from, uint32_t to, Observation obs) {
    auto [it, inserted] = edge_index_.try_emplace({from, to}, graph_.edges.size());
    if (inserted) graph_.edges.push_back(Edge{from, to, {}});
    graph_.edges[it->second].observations.push_back(std::move(obs));
  }

  const xray::AssembledTrace& trace_;
  std::unordered_map<uint64_t, size_t> segments_;
  std::unordered_map<uint64_t, SubsegmentRef> subsegments_;
  std::unordered_set<uint64_t> called_;
  std::map<NodeKey, uint32_t> node_index_;
  std::map<std::pair<uint32_t, uint32_t>, size_t> edge_index_;
  std::vector<uint32_t> seg_nodes_;
  std::optional<uint32_t> client_;
  TraceGraph graph_;
};

}  // namespace

TraceGraph DeriveTraceGraph(const xray::AssembledTrace& trace) { return Deriver(trace).Run(); }

}  // namespace roentgen::graph
