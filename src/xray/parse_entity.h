// Private to the segment parser: reads one segment or subsegment object (with its
// nested subsegments) into an Entity and checks X-Ray's rules for it.
#pragma once

#include "xray/parse_reader.h"
#include "xray/segment.h"

namespace roentgen::xray::parse {

// Where an entity sits; decides which fields are required.
enum class EntityLevel {
  kDocument,      // a whole document: a segment, or a subsegment with type "subsegment"
  kArrayElement,  // an element of a document that is an array of independent subsegments
  kNested,        // inside another entity's `subsegments`
};

// Subsegments nested deeper than this are refused (X-Ray documents no limit;
// this bounds recursion).
inline constexpr int kMaxSubsegmentDepth = 64;

// Reads `obj` (already opened) into `out`. `depth` is 0 for a document's own entity.
// Requires: name, id, start_time, end_time or in_progress:true (end >= start);
// trace_id for kDocument/kArrayElement; type "subsegment" and parent_id for
// independent subsegments (every kArrayElement). Nested entities get an empty
// Entity::type whatever the document says.
bool ReadEntity(JsonReader& r, od::object& obj, EntityLevel level, int depth, Entity& out);

}  // namespace roentgen::xray::parse
