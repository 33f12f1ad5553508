// Pieces of WriteBlock (block_writer.cpp) that compaction's column merge
// (block_merge.h) shares, so that both write the same bytes for the same
// rows: the bloom keys, the extents of the footer and the choice of the
// documents' dictionary. Not for other users; pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "store/block/summary_columns.h"

namespace roentgen::store::block {

// AnnotationFilterKey, appended to `k`.
void AppendAnnotationFilterKey(std::string_view key, const xray::AnnotationValue& value,
                               std::string& k);
// The service filter's key of (name, type), or of the name alone, in `k`.
std::string_view ServiceFilterKey(std::string_view name, std::string_view type, bool any_type,
                                  std::string& k);
// An extent as the footer stores it (block_format.h).
void PutExtent(const Extent& e, std::string& out);

// The documents' dictionary (format version 3) takes whole documents at an
// even stride across the block: document i (counting every document of
// every row in row order) is a candidate when i % stride == stride / 2, and
// is taken if it still fits in `budget`. The stride for `count` documents
// of `total` raw bytes, or 0 when the block gets no dictionary (too few
// bytes).
uint64_t DocumentDictionaryStride(uint64_t count, uint64_t total, size_t budget);
// Whether the sampled bytes make a dictionary (enough of them, and not
// starting as a zstd dictionary header would).
bool DocumentDictionaryUsable(std::string_view dictionary);

}  // namespace roentgen::store::block
