// Test-only: the traces the insights tests feed the rollups with.
#pragma once

#include <cstdint>

#include "graph/test_traces.h"
#include "graph/trace_graph.h"

namespace roentgen::insights::testing {

inline constexpr int64_t kT0 = 28'333'333 * graph::kMinuteUs;  // a minute boundary in 2023

// front (the entry service) calls back; a fault of back fails front's request.
inline graph::TraceGraph FrontBackTrace(int64_t start_us, bool back_fault) {
  xray::AssembledTrace trace;
  xray::Entity front = graph::testing::MakeEntity("front", 0xa1, start_us, start_us + 50'000);
  front.fault = back_fault;
  xray::Entity call = graph::testing::MakeEntity("back", 0xa2, start_us + 1'000, start_us + 40'000);
  call.namespace_ = "remote";
  call.fault = back_fault;
  front.subsegments.push_back(call);
  xray::Entity back = graph::testing::WithParent(
      graph::testing::MakeEntity("back", 0xb1, start_us + 2'000, start_us + 39'000), 0xa2);
  back.fault = back_fault;
  trace.segments = {front, back};
  trace.document_count = 2;
  return graph::DeriveTraceGraph(trace);
}

}  // namespace roentgen::insights::testing
