// BlockReader::Layout: a block's bytes by part, for the size breakdown of
// bench/block_store_bench (what to compress better is what is largest).
#include "store/block/summary_columns.h"

namespace roentgen::store::block {

std::vector<BlockReader::LayoutPart> BlockReader::Layout() const {
  std::vector<LayoutPart> parts;
  uint64_t accounted = 0;
  for (const ColumnInfo& c : columns_) {
    parts.push_back({"column", c.name, c.extent.size, c.extent.raw_size});
    accounted += c.extent.size;
  }
  LayoutPart documents{"documents", "pages", 0, 0};
  for (const auto& [first_row, extent] : pages_) {
    documents.stored_bytes += extent.size;
    documents.raw_bytes += extent.raw_size;
  }
  accounted += documents.stored_bytes;
  parts.push_back(std::move(documents));
  if (document_dictionary_) {
    parts.push_back({"documents", "dictionary", document_dictionary_->size,
                     document_dictionary_->raw_size});
    accounted += document_dictionary_->size;
  }
  for (const auto& [name, extent] : sections_) {
    parts.push_back({"section", name, extent.size, extent.raw_size});
    accounted += extent.size;
  }
  uint64_t filter_bytes = 0;
  for (const BloomFilter* f : {&trace_filter_, &annotation_filter_, &service_filter_, &user_filter_}) {
    filter_bytes += f->block_count() * kBloomBlockBytes;
  }
  parts.push_back({"filters", "bloom", filter_bytes, filter_bytes});
  accounted += filter_bytes;
  const uint64_t rest = file_bytes_ > accounted ? file_bytes_ - accounted : 0;
  parts.push_back({"footer", "magics, footer, trailer", rest, rest});
  return parts;
}

}  // namespace roentgen::store::block
