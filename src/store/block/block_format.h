// The on-disk layout of a block file: an immutable file holding a run of trace
// records (summary + graph) as compressed columns, the traces' documents in
// compressed pages, and skip indexes. Shared by the writer and the reader
// (summary_columns.h), as leveldb's log_format.h is; docs/storage.md, "The
// block file format", describes it as reference.
//
//   offset 0 ┌──────────────────────────────────────────────┐
//            │ magic "RGBLOCK\0" (8 bytes)                  │
//            ├──────────────────────────────────────────────┤
//            │ column chunks: one zstd frame per column     │  extents in the
//            ├──────────────────────────────────────────────┤  footer's column
//            │ document pages: one zstd frame per run of    │  directory, page
//            │ consecutive rows' documents (~64 KiB raw)    │  directory, filter
//            ├──────────────────────────────────────────────┤  directory and
//            │ named sections: one zstd frame each          │  section directory
//            ├──────────────────────────────────────────────┤
//            │ skip-index section: split-block bloom        │
//            │ filters, stored uncompressed                 │
//            ├──────────────────────────────────────────────┤
//            │ footer (varints, coding.h): see below        │
//            ├──────────────────────────────────────────────┤
//            │ footer length   fixed32 LE                   │  the trailer,
//            │ footer checksum fixed64 LE (XXH3-64)         │  kTrailerBytes
//            │ format version  fixed32 LE (1 to 3)          │
//            │ magic "RGBLOCK\0"                            │
//   end      └──────────────────────────────────────────────┘
//
// An extent is: offset varint · stored size varint · raw size varint ·
// checksum fixed64 (XXH3-64 of the stored bytes). Column chunks and pages are
// stored as one zstd frame each whose decompressed size must equal the raw
// size; filters are stored raw (stored size = raw size).
//
// Footer:
//   row count varint
//   min start_us, max start_us, min updated_us, max updated_us: zigzag varints
//     (all 0 in an empty block)
//   column count varint, then per column:
//     name (length-prefixed) · encoding byte (ColumnEncoding, columns.h) ·
//     value count varint (rows, for every column of this format) · extent ·
//     has-range byte (0/1) [· min zigzag · max zigzag: int64 columns]
//   page count varint, then per page: first row varint · extent
//   filter count varint, then per filter: kind byte (FilterKind) ·
//     key count varint · extent
//   section count varint, then per section: name (length-prefixed) · extent
//     (named chunks for the layers above, e.g. the engine's rollup delta)
//   version 3: document dictionary byte (0/1) [· extent]: a zstd
//     raw-content dictionary (documents sampled across the block) stored
//     before the pages as a chunk of its own; with one, every page is a
//     frame compressed against it and carrying zstd's content checksum
//
// Validation (reader): both magics, the version, the footer length and
// checksum, every extent inside the data region [kMagicBytes, footer start),
// column names unique, value counts equal to the row count, the fixed columns
// (summary_columns.h) present with their encodings, pages starting at
// row 0 in increasing order, a filter size that is a whole number of blocks,
// and on every read the chunk's checksum, its decompressed size and the
// encoding's own bounds. Anything else is Status::Corruption naming the file,
// the section and the offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace roentgen::store::block {

inline constexpr std::string_view kMagic{"RGBLOCK\0", 8};
inline constexpr size_t kMagicBytes = 8;
// The version WriteBlock writes by default. Version 2 keeps the trace graph
// in a `graph` column of its own (version 1 keeps it inside `details`, so a
// summary-only read decompressed it too), adds `graph.node_alias` (the graph
// nodes' other names) and the nodes' observation flags (`graph.node_fault`,
// `_error`, `_throttle`), and puts every graph node's names in the service
// bloom filter's name-only keys, so `service("x")` / `edge()` and
// `service("x") { fault }` are decided on the columns. Version 3 stores the
// `graph` column's observation times relative to the row's start time,
// which that column's record carries in its summary (graph_times.h): the
// same graphs in about two thirds of the bytes. Readers read versions
// kOldestFormatVersion..kFormatVersion and refuse any other as Corruption
// naming it.
inline constexpr uint32_t kFormatVersion = 3;
inline constexpr uint32_t kOldestFormatVersion = 1;
// footer length (4) + footer checksum (8) + version (4) + magic (8).
inline constexpr size_t kTrailerBytes = 24;

// Limits a reader enforces before allocating what the file asks for.
inline constexpr uint64_t kMaxFooterBytes = 64u << 20;
inline constexpr uint64_t kMaxChunkRawBytes = 1u << 30;
inline constexpr uint64_t kMaxRows = 1u << 24;

// The writer cuts a new document page once the current one holds this many
// raw bytes (a page holds whole rows, so it may exceed it by one trace).
inline constexpr size_t kTargetPageRawBytes = 64 << 10;
// Format version 3: the documents' dictionary, at most this many bytes of
// the block's own documents (BlockWriteOptions::document_dictionary_bytes).
inline constexpr size_t kDocumentDictionaryBytes = 32 << 10;

// Bloom filters of the skip-index section.
enum class FilterKind : uint8_t {
  kTraceId = 1,     // the 16 id bytes
  kAnnotation = 2,  // key · 0 · value tag · value (AnnotationFilterKey)
  kService = 3,     // "T" name · 0 · type, and "N" name for a name-only probe
                    // (version 2: also every graph node's name and other names)
  kUser = 4,        // user name
};

// The checksum of every extent and of the footer: XXH3-64.
uint64_t Checksum(std::string_view bytes);

}  // namespace roentgen::store::block
