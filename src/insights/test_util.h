// Test-only: the traces the insights tests feed the rollups with.
#pragma once

#include <cstdint>
#include <string>

#include "graph/test_traces.h"
#include "graph/trace_graph.h"

namespace roentgen::insights::testing {

inline constexpr int64_t kT0 = 28'333'333 * graph::kMinuteUs;  // a minute boundary in 2023

// front (the entry service) calls back; a fault of back fails front's
// request. `tier`, when set, is an annotation of front's segment; `serial`
// makes the trace id unique.
inline xray::AssembledTrace FrontBackAssembled(int64_t start_us, bool back_fault,
                                               uint32_t serial = 0, std::string tier = "") {
  xray::AssembledTrace trace;
  trace.id.bytes[0] = 0x65;
  for (int i = 0; i < 4; ++i) trace.id.bytes[8 + i] = static_cast<uint8_t>(serial >> (8 * i));
  xray::Entity front = graph::testing::MakeEntity("front", 0xa1, start_us, start_us + 50'000);
  front.fault = back_fault;
  if (!tier.empty()) front.annotations.push_back({"tier", tier});
  xray::Entity call = graph::testing::MakeEntity("back", 0xa2, start_us + 1'000, start_us + 40'000);
  call.namespace_ = "remote";
  call.fault = back_fault;
  front.subsegments.push_back(call);
  xray::Entity back = graph::testing::WithParent(
      graph::testing::MakeEntity("back", 0xb1, start_us + 2'000, start_us + 39'000), 0xa2);
  back.fault = back_fault;
  trace.segments = {front, back};
  trace.document_count = 2;
  return trace;
}

inline graph::TraceGraph FrontBackTrace(int64_t start_us, bool back_fault) {
  return graph::DeriveTraceGraph(FrontBackAssembled(start_us, back_fault));
}

}  // namespace roentgen::insights::testing
