// Test-only: the segment documents the ClickHouse engine's multi-node tests
// split between nodes, and the record one ingest writer would compute from a
// set of them (what a node that saw only those would write, or, given all
// of a trace's documents, what every node must read back).
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "graph/trace_graph.h"
#include "store/store.h"
#include "store/store_test_util.h"
#include "xray/segment_parser.h"
#include "xray/trace.h"

namespace roentgen::store::clickhouse::testing {

// A segment of `trace` named `name`; the one named "root" carries a fault
// (HTTP 503), so a summary shows whether the root reached it.
inline std::string NodeSegmentJson(const xray::TraceId& trace, uint64_t id,
                                   std::optional<uint64_t> parent, double start, double end,
                                   const std::string& name) {
  return fmt::format(
      R"({{"name":"{}","id":"{:016x}","trace_id":"{}","start_time":{:.6f},"end_time":{:.6f}{}{}}})",
      name, id, trace.ToString(), start, end,
      parent ? fmt::format(R"(,"parent_id":"{:016x}")", *parent) : std::string(),
      name == "root" ? R"(,"http":{"response":{"status":503}},"fault":true)" : "");
}

struct NodeDoc {
  xray::SegmentId entity;
  std::string raw;
  int64_t received_us;
};

// What the ingest writer computes from `docs` alone: revision 1, updated at
// store::testing::kT0.
inline TraceRecord WriterRecord(const xray::TraceId& id, const std::vector<NodeDoc>& docs) {
  xray::SegmentParser parser;
  std::vector<xray::ReceivedDocument> received;
  for (const NodeDoc& d : docs) {
    std::vector<xray::SegmentDocument> parsed;
    xray::ParseFailure failure;
    EXPECT_TRUE(parser.Parse(d.raw, parsed, failure)) << failure.message;
    for (auto& p : parsed) received.push_back({std::move(p), d.received_us});
  }
  std::vector<const xray::ReceivedDocument*> pointers;
  for (const auto& r : received) pointers.push_back(&r);
  const xray::AssembledTrace assembled = xray::AssembleTrace(id, pointers);
  TraceRecord record{xray::Summarize(assembled), graph::DeriveTraceGraph(assembled)};
  record.summary.id = id;
  record.summary.revision = 1;
  record.summary.updated_us = store::testing::kT0;
  return record;
}

}  // namespace roentgen::store::clickhouse::testing
