// Compaction's merge of block files by columns (ClickHouse's "vertical
// merge"): the output of several blocks' visible rows, written one column at
// a time from the inputs' columns, without decoding any row into a
// TraceRecord. It writes the file WriteBlock would write for the same rows,
// its sections included (block_format.h; docs/storage.md, "The block
// engine: design", compaction): byte for byte, but for a streamed column
// (below), whose zstd frame holds the same bytes but may code them a few
// bytes otherwise (zstd's streaming compressor, over inputs larger than its
// window, finds other matches than one call over the whole input).
//
// The merge order comes from the inputs' `trace_id` and `start_us` columns
// and their superseded rows alone. Then each column of the format is read
// from every input, its values gathered in output order and encoded; an
// annotation column an input lacks is empty for its rows. `details` and
// `graph` are copied as bytes (the graph's observation times are relative to
// the row's start, which the merge keeps), streamed when large: each
// input's frame decompressed a window at a time, the output's frame
// compressed as it is gathered. The bloom filters and min/max come from the
// gathered columns. The documents are copied row by row from the inputs'
// pages (one page of each input in memory: a row's bytes in a format
// version 3 page do not depend on the block) into new pages compressed
// against a dictionary sampled as WriteBlock samples it. The rollup section
// is the sum of the inputs' sections, or of their kept rows' graphs, where
// that is exact, else built from every output row's graph in output order
// (PrepareRollups in block_merge.cpp). The output file goes to disk as it
// is built. Memory therefore holds a few bytes per row (the merge order,
// the trace ids), one small column at a time and windows of the large
// ones, never a whole block's rows or documents.
//
// An input with as many annotation keys in columns as WriteBlock gives
// columns (kMaxAnnotationKeyColumns) may hold more keys in `details` only:
// its rows' annotations are decoded from `details` (twice: for the keys'
// counts and bloom keys, then for the chosen keys' values). Inputs of a
// format older than kFormatVersion (the graph inside `details`, absolute
// graph times) are refused (CanMergeBlockColumns): the engine merges them
// by records.
//
// Thread safety: a pure function of its inputs (read through their readers,
// which may be shared) and the file it writes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/block/summary_columns.h"

namespace roentgen::store::block {

struct BlockMergeInput {
  const BlockReader* reader = nullptr;
  // Rows left out of the output (sorted, unique).
  std::span<const uint32_t> superseded;
};

struct BlockMergeOptions {
  int zstd_level = 3;
  size_t target_page_raw_bytes = kTargetPageRawBytes;
  size_t document_dictionary_bytes = kDocumentDictionaryBytes;
  // A `details` or `graph` column whose inputs hold more raw bytes than
  // this is streamed (decompressed twice, a window at a time, and
  // compressed as it is gathered) rather than held whole with the output's
  // payload.
  uint64_t max_column_bytes_in_memory = uint64_t{4} << 20;
  // Sections written after the documents, in this order: `counts_section`
  // (the output's document count, a varint) and `rollup_section` (the
  // output rows' rollups, EncodeRollupSection); an empty name leaves one out.
  std::string counts_section;
  std::string rollup_section;
};

struct BlockMergeResult {
  uint64_t rows = 0;  // 0: every input row was dropped and no file was written
  uint64_t documents = 0;
  // Output rows whose graphs were decoded for the rollup section (none when
  // the inputs' sections could be summed).
  uint64_t rollup_rows_decoded = 0;
  // Per input (in the inputs' order), per row: the output row that row
  // maps to, or -1 for a superseded row.
  std::vector<std::vector<int64_t>> output_row;
};

// Whether MergeBlockColumns can merge these blocks: every one of the
// current format with the same columns but the annotations' (see above).
bool CanMergeBlockColumns(std::span<const BlockMergeInput> inputs);

// Writes the merge of the inputs' visible rows (each input sorted by
// (start, trace id), as blocks are) at `path`, atomically (a temporary file
// beside it, fsync, rename, fsync of the directory). `inputs` newest first:
// a trace visible in several inputs keeps the first input's row, and the
// others map to it. InvalidArgument for inputs CanMergeBlockColumns refuses
// and for an output larger than a block may be; Corruption and file-system
// errors from reading the inputs; those of the file system for the output.
Result<BlockMergeResult> MergeBlockColumns(std::span<const BlockMergeInput> inputs,
                                           const std::string& path,
                                           const BlockMergeOptions& options);

}  // namespace roentgen::store::block
