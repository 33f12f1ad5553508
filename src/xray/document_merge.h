// The segment documents BatchGetTraces returns for one trace.
//
// X-Ray returns one Document per segment, with the subsegments that were sent
// on their own embedded in it where they belong. MergeDocuments builds those
// texts from the documents exactly as received: each independent subsegment's
// raw JSON is spliced into the `subsegments` array of its parent, wherever that
// parent is nested (creating the array when the parent has none), following
// chains to any depth. Nothing is re-serialized: every byte outside the edited
// `subsegments` arrays is the original text, so unknown fields survive, and a
// document that needs no splicing is returned byte for byte.
//
// Which version of an entity is used and where each subsegment goes follow
// AssembleTrace (trace.h): pass the AssembledTrace built from the same `docs`.
// Pure, thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "xray/trace.h"

namespace roentgen::xray {

struct MergedDocument {
  SegmentId id;      // the top-level entity's id
  std::string json;  // its document with the independent subsegments spliced in
};

// One MergedDocument per entry of trace.segments (same order), then one per
// orphan root in trace.orphans (with its own chain spliced in). Errors:
// kInternal when a stored document of the trace is missing from `docs` or its
// raw text does not parse as a JSON object (stored data is validated on
// ingest, so either means a bug or corruption).
Result<std::vector<MergedDocument>> MergeDocuments(
    const AssembledTrace& trace, const std::vector<const ReceivedDocument*>& docs);

}  // namespace roentgen::xray
