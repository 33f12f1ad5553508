// A stored trace as X-Ray returns it: one document per segment, with the
// subsegments that were sent independently spliced into their parents
// (xray/document_merge.h), and the trace's summary. Shared by BatchGetTraces
// and the trace retrieval jobs' listing.
//
// Thread-safe (a thread_local parser per calling thread).
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "common/status.h"
#include "store/store.h"
#include "xray/document_merge.h"
#include "xray/ids.h"
#include "xray/trace.h"

namespace roentgen::api {

struct LoadedTrace {
  xray::TraceSummary summary;
  std::vector<xray::MergedDocument> segments;  // by start time, then orphans
  size_t stored_bytes = 0;                     // the raw documents' total size
};

// nullopt when the store has no documents of `id`. Corruption when a stored
// document does not parse (stored data is validated on ingest).
Result<std::optional<LoadedTrace>> LoadTrace(store::Store& store, const xray::TraceId& id);

}  // namespace roentgen::api
