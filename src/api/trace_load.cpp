#include "api/trace_load.h"

#include <fmt/format.h>

#include <string>
#include <utility>

#include "xray/segment_parser.h"

namespace roentgen::api {

Result<std::optional<LoadedTrace>> LoadTrace(store::Store& store, const xray::TraceId& id) {
  Result<std::vector<store::StoredDocument>> stored = store.GetDocuments(id);
  if (!stored.ok()) return stored.status();
  if (stored->empty()) return std::optional<LoadedTrace>();
  thread_local xray::SegmentParser parser;
  std::vector<xray::ReceivedDocument> docs;
  std::vector<xray::SegmentDocument> parsed;
  LoadedTrace loaded;
  for (store::StoredDocument& d : *stored) {
    loaded.stored_bytes += d.raw.size();
    parsed.clear();
    xray::ParseFailure failure;
    if (!parser.Parse(d.raw, parsed, failure)) {
      return Status::Corruption(fmt::format("trace {}: stored document {} does not parse: {}",
                                            id.ToString(), d.entity_id.ToString(),
                                            failure.message));
    }
    for (xray::SegmentDocument& p : parsed) docs.push_back({std::move(p), d.received_us});
  }
  std::vector<const xray::ReceivedDocument*> pointers;
  pointers.reserve(docs.size());
  for (const xray::ReceivedDocument& d : docs) pointers.push_back(&d);
  const xray::AssembledTrace assembled = xray::AssembleTrace(id, pointers);
  Result<std::vector<xray::MergedDocument>> merged = xray::MergeDocuments(assembled, pointers);
  if (!merged.ok()) return merged.status();
  loaded.segments = std::move(*merged);
  loaded.summary = xray::Summarize(assembled);
  return std::optional<LoadedTrace>(std::move(loaded));
}

}  // namespace roentgen::api
