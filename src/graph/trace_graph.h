// The graph of one trace: its service nodes and the calls between them, as
// X-Ray's service map derives them (shared/xray/README.md, "The service graph").
//
// Nodes: one per (name, type, account) among the trace's segments; a `client`
// node in front of segments that have no parent; inferred nodes for subsegments
// with namespace "aws" or "remote" whose callee sent no segment of its own; a
// Lambda function appears as the facade `AWS::Lambda` node then the
// `AWS::Lambda::Function` node. Edges: caller → callee, with every call observed.
// Pure, no I/O, thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "xray/trace.h"

namespace roentgen::graph {

// One observation of a node (one of its segments) or of an edge (one call).
struct Observation {
  int64_t start_us = 0;
  std::optional<int64_t> end_us;  // absent while in progress
  bool error = false;
  bool throttle = false;
  bool fault = false;
  std::optional<int> http_status;
  std::string http_url;
  std::string http_method;
  std::string http_user_agent;
  std::string http_client_ip;
  std::string user;
  std::string entity_name;  // the segment or subsegment name
};

struct Node {
  xray::ServiceId id;  // name, names, account_id, type ("client" for the client node)
  bool root = false;      // an entry point of the trace
  bool inferred = false;  // derived from a subsegment, not a segment of its own
  bool client = false;
  std::vector<Observation> observations;
};

struct Edge {
  uint32_t from = 0;  // index into TraceGraph::nodes
  uint32_t to = 0;
  std::vector<Observation> observations;
};

struct TraceGraph {
  std::vector<Node> nodes;
  std::vector<Edge> edges;
};

TraceGraph DeriveTraceGraph(const xray::AssembledTrace& trace);

}  // namespace roentgen::graph
