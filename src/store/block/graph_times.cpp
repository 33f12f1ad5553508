#include "store/block/graph_times.h"

namespace roentgen::store::block {
namespace {

// Adds `delta` to every observation time of `g`, wrapping.
void ShiftGraphTimesWrapping(graph::TraceGraph& g, uint64_t delta) {
  auto shift = [delta](int64_t& t) {
    t = static_cast<int64_t>(static_cast<uint64_t>(t) + delta);
  };
  auto shift_all = [&](std::vector<graph::Observation>& observations) {
    for (graph::Observation& o : observations) {
      shift(o.start_us);
      if (o.end_us) shift(*o.end_us);
    }
  };
  for (graph::Node& n : g.nodes) shift_all(n.observations);
  for (graph::Edge& e : g.edges) shift_all(e.observations);
}

}  // namespace

void RelativizeGraphTimes(graph::TraceGraph& g, int64_t base) {
  ShiftGraphTimesWrapping(g, uint64_t{0} - static_cast<uint64_t>(base));
}

void AbsolutizeGraphTimes(graph::TraceGraph& g, int64_t base) {
  ShiftGraphTimesWrapping(g, static_cast<uint64_t>(base));
}

}  // namespace roentgen::store::block
