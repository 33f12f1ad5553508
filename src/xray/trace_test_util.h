// Builders for trace tests: entities and received documents made directly,
// without the segment parser. Test-only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "xray/trace.h"

namespace roentgen::xray::testing {

inline TraceId TestTraceId() {
  return TraceId::Parse("1-58406520-a006649127e371903a2de979").value();
}

// A segment (no type, no parent) named `name` with id `id`.
inline Entity MakeSegment(uint64_t id, std::string name, int64_t start_us,
                          std::optional<int64_t> end_us) {
  Entity e;
  e.name = std::move(name);
  e.id = SegmentId{id};
  e.trace_id = TestTraceId();
  e.start_time_us = start_us;
  e.end_time_us = end_us;
  e.in_progress = !end_us.has_value();
  return e;
}

// A subsegment nested in a document.
inline Entity MakeSubsegment(uint64_t id, std::string name, int64_t start_us,
                             std::optional<int64_t> end_us) {
  Entity e = MakeSegment(id, std::move(name), start_us, end_us);
  e.trace_id.reset();
  return e;
}

// An independently sent subsegment with parent `parent`.
inline Entity MakeIndependent(uint64_t id, uint64_t parent, std::string name, int64_t start_us,
                              std::optional<int64_t> end_us) {
  Entity e = MakeSegment(id, std::move(name), start_us, end_us);
  e.type = "subsegment";
  e.parent_id = SegmentId{parent};
  return e;
}

inline ReceivedDocument MakeDoc(Entity entity, int64_t received_us = 0, std::string raw = "") {
  return ReceivedDocument{SegmentDocument{std::move(entity), std::move(raw)}, received_us};
}

inline std::vector<const ReceivedDocument*> Pointers(const std::vector<ReceivedDocument>& docs) {
  std::vector<const ReceivedDocument*> out;
  for (const ReceivedDocument& d : docs) out.push_back(&d);
  return out;
}

inline AssembledTrace Assemble(const std::vector<ReceivedDocument>& docs) {
  return AssembleTrace(TestTraceId(), Pointers(docs));
}

// The summary of a trace of these entities, each received as one document.
inline TraceSummary SummarizeDocs(const std::vector<Entity>& entities) {
  std::vector<ReceivedDocument> docs;
  for (const Entity& e : entities) docs.push_back(MakeDoc(e));
  return Summarize(Assemble(docs));
}

inline std::vector<uint64_t> ChildIds(const Entity& e) {
  std::vector<uint64_t> ids;
  for (const Entity& c : e.subsegments) ids.push_back(c.id.value);
  return ids;
}

}  // namespace roentgen::xray::testing
