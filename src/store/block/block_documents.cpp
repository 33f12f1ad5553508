// BlockReader::ReadDocumentPage: a document page's bytes, decompressed with
// the block's document dictionary (format version 3) when it has one.
#include <fmt/format.h>
#include <zstd.h>

#include <cstring>
#include <memory>

#include "store/block/document_ids.h"
#include "store/block/summary_columns.h"

namespace roentgen::store::block {
namespace {

struct DocumentDDictDeleter {
  void operator()(ZSTD_DDict* d) const { ZSTD_freeDDict(d); }
};
struct DocumentDCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

}  // namespace

Result<std::string> BlockReader::ReadDocumentPage(size_t page, std::string_view what) const {
  const Extent& e = pages_[page].second;
  if (!document_dictionary_) return ReadCompressed(e, what);
  std::shared_ptr<const void> ddict;
  {
    MutexLock lock(dictionary_mu_);
    ddict = document_ddict_;
  }
  if (ddict == nullptr) {
    // Checksummed and size-checked like any chunk; digested once.
    Result<std::string> dictionary = ReadCompressed(*document_dictionary_, "document dictionary");
    if (!dictionary.ok()) return dictionary.status();
    std::shared_ptr<ZSTD_DDict> made(ZSTD_createDDict(dictionary->data(), dictionary->size()),
                                     DocumentDDictDeleter());
    if (made == nullptr) {
      return Status::Corruption(fmt::format("block {}: document dictionary at byte {}: not usable",
                                            path_, document_dictionary_->offset));
    }
    MutexLock lock(dictionary_mu_);
    if (document_ddict_ == nullptr) document_ddict_ = std::move(made);
    ddict = document_ddict_;
  }
  Result<std::string> stored = ReadExtent(e, what);
  if (!stored.ok()) return stored.status();
  const unsigned long long frame_size = ZSTD_getFrameContentSize(stored->data(), stored->size());
  if (frame_size != e.raw_size) {
    return Status::Corruption(fmt::format(
        "block {}: {} at byte {}: zstd frame of {} bytes, the directory says {}", path_, what,
        e.offset, static_cast<long long>(frame_size), e.raw_size));
  }
  std::unique_ptr<ZSTD_DCtx, DocumentDCtxDeleter> dctx(ZSTD_createDCtx());
  if (dctx == nullptr) return Status::Internal(fmt::format("block {}: zstd: no context", path_));
  std::string raw(e.raw_size, '\0');
  // The frame's content checksum (the writer sets it with a dictionary)
  // makes a page decoded against the wrong dictionary an error.
  const size_t n =
      ZSTD_decompress_usingDDict(dctx.get(), raw.data(), raw.size(), stored->data(), stored->size(),
                                 static_cast<const ZSTD_DDict*>(ddict.get()));
  if (ZSTD_isError(n) || n != e.raw_size) {
    return Status::Corruption(fmt::format("block {}: {} at byte {}: {}", path_, what, e.offset,
                                          ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short frame"));
  }
  return raw;
}

Result<std::string> BlockReader::TraceIdText(uint64_t row) const {
  std::string text;
  {
    // A GetTrace found the row through the index, which keeps the ids for
    // the reader's life: no column read then, whatever the cache evicted.
    MutexLock lock(index_mu_);
    if (trace_index_ != nullptr && row < trace_index_->size()) {
      TraceIdTextOfBytes(trace_index_->IdBytesAt(static_cast<uint32_t>(row)), text);
      return text;
    }
  }
  Result<std::shared_ptr<const Fixed16Column>> ids = ReadColumn<Fixed16Column>(col::kTraceId);
  if (!ids.ok()) return ids.status();
  if (row >= (*ids)->data.size() / 16) {
    return Status::Corruption(fmt::format("block {}: column {}: no row {}", path_, col::kTraceId, row));
  }
  TraceIdTextOfBytes((*ids)->Get(row), text);
  return text;
}

}  // namespace roentgen::store::block
