// The stored values of the embedded store: the binary encoding of a
// TraceRecord (summary + trace graph) and of a document (header + raw bytes).
// docs/storage.md describes both byte by byte.
//
// Record encoding: one format-version byte (kRecordFormatVersion), then every
// field of the summary and then of the graph, in declaration order:
//   unsigned integers and lengths/counts  LEB128 varint
//   signed integers                       zigzag varint
//   doubles                               8 bytes, IEEE-754 bits little-endian
//   bools                                 packed into flag bytes
//   strings                               a table (codec_io.h): tag varint
//                                         (length << 1) + bytes for a new
//                                         string, (index << 1) | 1 for one
//                                         written before (format 1: varint
//                                         length + bytes, no table)
//   optionals                             presence byte (0/1) + value
//   vectors                               varint count + elements
// Decoding checks every length against the bytes left, every count against a
// lower bound of the bytes its elements need, unknown flag bits, integer
// ranges, edge endpoints, and trailing bytes: bad input gives
// Status::Corruption, never a crash or an out-of-bounds read.
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "graph/trace_record.h"

namespace roentgen::store {

using TraceRecord = graph::TraceRecord;

inline constexpr uint8_t kRecordFormatVersion = 3;  // 1 and 2 are still read
inline constexpr uint8_t kDocumentFormatVersion = 1;
// version (1) + received_us (8, little-endian two's complement).
inline constexpr size_t kDocumentHeaderBytes = 9;

// Appends the encoding of `record` to `out`.
void EncodeTraceRecord(const TraceRecord& record, std::string& out);
// The encoding of the record whose summary has `summary`'s annotations,
// users, service ids, entry point and root causes and every other field as a
// default-constructed TraceSummary has it (the block files' `details`),
// without building that summary.
void EncodeTraceRecordDetails(const xray::TraceSummary& summary, const graph::TraceGraph& graph,
                              std::string& out);
// The encoding of the record of `summary` and `graph` with every
// observation's start and end minus `time_base` (wrapping), without copying
// the graph (the block files' `graph` column, format version 3).
void EncodeTraceRecordRelative(const xray::TraceSummary& summary, const graph::TraceGraph& graph,
                               int64_t time_base, std::string& out);
Result<TraceRecord> DecodeTraceRecord(std::string_view bytes);
// The same decoding into an existing record, reusing its strings' and vectors'
// storage (scans decode every candidate into one record: no allocation once
// the record has grown to the size of the traces). Every field is overwritten;
// on error `record` holds a partial decoding and must not be used. With
// `with_graph` false the graph is left empty and not read (nor checked: bytes
// after the summary are ignored).
Status DecodeTraceRecordInto(std::string_view bytes, TraceRecord& record, bool with_graph = true);

// Document value: header then the raw document bytes.
void EncodeDocumentValue(int64_t received_us, std::string_view raw, std::string& out);

struct DocumentValue {
  int64_t received_us = 0;
  std::string_view raw;  // points into the decoded bytes
};
Result<DocumentValue> DecodeDocumentValue(std::string_view bytes);

}  // namespace roentgen::store
